-- The trust anchor's public key (SPKI DER) each imported document was checked against.
ALTER TABLE trust_documents ADD COLUMN anchor BYTEA;
