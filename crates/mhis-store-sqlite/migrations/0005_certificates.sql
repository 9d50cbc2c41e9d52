-- Site signing keys (private halves sealed with the deployment's key
-- encryption key, never in clear), issued certificates, revocations, and
-- trust documents imported by a verifier.

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    site_id            BLOB NOT NULL REFERENCES sites (id),
    public_key         BLOB NOT NULL,
    private_key_sealed BLOB NOT NULL,
    valid_from         TEXT NOT NULL,
    valid_until        TEXT NOT NULL,
    retired_at         TEXT,
    created_at         TEXT NOT NULL
) STRICT;
CREATE INDEX signing_keys_site ON signing_keys (site_id, created_at);

CREATE TABLE certificates (
    id                TEXT PRIMARY KEY,
    assessment_id     BLOB NOT NULL REFERENCES assessments (id),
    site_id           BLOB NOT NULL REFERENCES sites (id),
    country           TEXT NOT NULL,
    kid               TEXT NOT NULL REFERENCES signing_keys (kid),
    payload           TEXT NOT NULL,
    qr_text           TEXT NOT NULL,
    issued_at         TEXT NOT NULL,
    valid_until       TEXT NOT NULL,
    revoked_at        TEXT,
    revocation_reason TEXT
) STRICT;
CREATE INDEX certificates_assessment ON certificates (assessment_id);

CREATE TABLE trust_documents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    signed      BLOB NOT NULL,
    imported_at TEXT NOT NULL
) STRICT;
