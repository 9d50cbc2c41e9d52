-- The FHIR API: an index for identifier search and vaccination records.
-- Migrations are append-only: never edit a released file, add a new one.

-- Search by travel document number, also for a site-scoped user
-- (`document_number = ? AND registered_at IN (…) ORDER BY id DESC`): one
-- index answers the filter, the count and the order, so the planner no
-- longer walks a whole site through `migrants_site`. It replaces the
-- single-column document index, which it covers.
CREATE INDEX migrants_document_site ON migrants (document_number, registered_at, id);
DROP INDEX migrants_document;

-- Vaccinations (FHIR Immunization). `vaccine` is a code of
-- vaccines/vaccines.toml; `version` counts updates.
CREATE TABLE vaccinations (
    id            UUID PRIMARY KEY,
    migrant_id    UUID NOT NULL REFERENCES migrants (id),
    assessment_id UUID REFERENCES assessments (id),
    site_id       UUID NOT NULL REFERENCES sites (id),
    vaccine       TEXT NOT NULL,
    given_on      DATE NOT NULL,
    status        TEXT NOT NULL,
    lot_number    TEXT,
    dose_number   BIGINT,
    recorded_by   TEXT NOT NULL,
    version       BIGINT NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX vaccinations_migrant ON vaccinations (migrant_id, given_on);
