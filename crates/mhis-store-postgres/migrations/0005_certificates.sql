-- Site signing keys (private halves sealed with the deployment's key
-- encryption key, never in clear), issued certificates, revocations, and
-- trust documents imported by a verifier.

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    site_id            UUID NOT NULL REFERENCES sites (id),
    public_key         BYTEA NOT NULL,
    private_key_sealed BYTEA NOT NULL,
    valid_from         TIMESTAMPTZ NOT NULL,
    valid_until        TIMESTAMPTZ NOT NULL,
    retired_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX signing_keys_site ON signing_keys (site_id, created_at);

CREATE TABLE certificates (
    id                TEXT PRIMARY KEY,
    assessment_id     UUID NOT NULL REFERENCES assessments (id),
    site_id           UUID NOT NULL REFERENCES sites (id),
    country           TEXT NOT NULL,
    kid               TEXT NOT NULL REFERENCES signing_keys (kid),
    payload           TEXT NOT NULL,
    qr_text           TEXT NOT NULL,
    issued_at         TIMESTAMPTZ NOT NULL,
    valid_until       DATE NOT NULL,
    revoked_at        TIMESTAMPTZ,
    revocation_reason TEXT
);
CREATE INDEX certificates_assessment ON certificates (assessment_id);

CREATE TABLE trust_documents (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    issued_at   TIMESTAMPTZ NOT NULL,
    signed      BYTEA NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);
