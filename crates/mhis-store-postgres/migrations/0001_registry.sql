-- The registry: sites, migrants, assessments and observations.
-- Migrations are append-only: never edit a released file, add a new one.

CREATE TABLE sites (
    id                UUID PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL,
    country           TEXT NOT NULL,
    name              TEXT NOT NULL,
    next_registration BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE migrants (
    id                  UUID PRIMARY KEY,
    registration_number TEXT NOT NULL UNIQUE,
    registered_at       UUID NOT NULL REFERENCES sites (id),
    family_name         TEXT NOT NULL,
    given_names         TEXT NOT NULL,
    family_name_latin   TEXT NOT NULL,
    given_names_latin   TEXT NOT NULL,
    name_key            TEXT NOT NULL,
    sex                 TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    birth_earliest      DATE NOT NULL,
    birth_latest        DATE NOT NULL,
    nationality         TEXT NOT NULL,
    document_kind       TEXT,
    document_number     TEXT,
    document_country    TEXT,
    phone               TEXT,
    preferred_language  TEXT,
    version             BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX migrants_name_key ON migrants (name_key);
CREATE INDEX migrants_document ON migrants (document_number);
CREATE INDEX migrants_birth ON migrants (birth_earliest);
CREATE INDEX migrants_site ON migrants (registered_at, id);

CREATE TABLE assessments (
    id              UUID PRIMARY KEY,
    migrant_id      UUID NOT NULL REFERENCES migrants (id),
    site_id         UUID NOT NULL REFERENCES sites (id),
    purpose         TEXT NOT NULL,
    destination     TEXT NOT NULL,
    protocol        TEXT NOT NULL,
    status          TEXT NOT NULL,
    assessment_date DATE NOT NULL,
    opened_at       TIMESTAMPTZ NOT NULL,
    finalised_at    TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX assessments_migrant ON assessments (migrant_id, id);
CREATE INDEX assessments_site ON assessments (site_id, id);
CREATE INDEX assessments_status ON assessments (status, id);

CREATE TABLE observations (
    id                UUID PRIMARY KEY,
    assessment_id     UUID NOT NULL REFERENCES assessments (id),
    code              TEXT NOT NULL,
    value             TEXT NOT NULL,
    unit              TEXT,
    observed_at       TIMESTAMPTZ NOT NULL,
    recorded_by       TEXT NOT NULL,
    recorded_at       TIMESTAMPTZ NOT NULL,
    supersedes        UUID REFERENCES observations (id),
    -- Set once, when a correction replaces this row; checked at commit so
    -- the correction and the link are written in either order.
    superseded_by     UUID REFERENCES observations (id) DEFERRABLE INITIALLY DEFERRED,
    correction_reason TEXT
);

CREATE INDEX observations_assessment ON observations (assessment_id, id);
-- At most one current value per code and assessment.
CREATE UNIQUE INDEX observations_current ON observations (assessment_id, code)
    WHERE superseded_by IS NULL;
