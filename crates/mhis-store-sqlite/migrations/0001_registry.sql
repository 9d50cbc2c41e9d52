-- The registry: sites, migrants, assessments and observations.
-- Migrations are append-only: never edit a released file, add a new one.

CREATE TABLE sites (
    id                BLOB PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL,
    country           TEXT NOT NULL,
    name              TEXT NOT NULL,
    next_registration INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE migrants (
    id                  BLOB PRIMARY KEY,
    registration_number TEXT NOT NULL UNIQUE,
    registered_at       BLOB NOT NULL REFERENCES sites (id),
    family_name         TEXT NOT NULL,
    given_names         TEXT NOT NULL,
    family_name_latin   TEXT NOT NULL,
    given_names_latin   TEXT NOT NULL,
    name_key            TEXT NOT NULL,
    sex                 TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    birth_earliest      TEXT NOT NULL,
    birth_latest        TEXT NOT NULL,
    nationality         TEXT NOT NULL,
    document_kind       TEXT,
    document_number     TEXT,
    document_country    TEXT,
    phone               TEXT,
    preferred_language  TEXT,
    version             INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;

CREATE INDEX migrants_name_key ON migrants (name_key);
CREATE INDEX migrants_document ON migrants (document_number);
CREATE INDEX migrants_birth ON migrants (birth_earliest);
CREATE INDEX migrants_site ON migrants (registered_at, id);

CREATE TABLE assessments (
    id              BLOB PRIMARY KEY,
    migrant_id      BLOB NOT NULL REFERENCES migrants (id),
    site_id         BLOB NOT NULL REFERENCES sites (id),
    purpose         TEXT NOT NULL,
    destination     TEXT NOT NULL,
    protocol        TEXT NOT NULL,
    status          TEXT NOT NULL,
    assessment_date TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    finalised_at    TEXT,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE INDEX assessments_migrant ON assessments (migrant_id, id);
CREATE INDEX assessments_site ON assessments (site_id, id);
CREATE INDEX assessments_status ON assessments (status, id);

CREATE TABLE observations (
    id                BLOB PRIMARY KEY,
    assessment_id     BLOB NOT NULL REFERENCES assessments (id),
    code              TEXT NOT NULL,
    value             TEXT NOT NULL,
    unit              TEXT,
    observed_at       TEXT NOT NULL,
    recorded_by       TEXT NOT NULL,
    recorded_at       TEXT NOT NULL,
    supersedes        BLOB REFERENCES observations (id),
    -- Set once, when a correction replaces this row; checked at commit so
    -- the correction and the link are written in either order.
    superseded_by     BLOB REFERENCES observations (id) DEFERRABLE INITIALLY DEFERRED,
    correction_reason TEXT
) STRICT;

CREATE INDEX observations_assessment ON observations (assessment_id, id);
-- At most one current value per code and assessment.
CREATE UNIQUE INDEX observations_current ON observations (assessment_id, code)
    WHERE superseded_by IS NULL;
