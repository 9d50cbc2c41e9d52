-- Mental health and psychosocial support (MHPSS): cases (one episode of
-- support of one person at one site), screenings with their answers and
-- the engine's result at the time, counselling sessions, and the referrals
-- confirmed from a screening. A restricted category: the server shows
-- these rows only to counsellors and clinicians of the site.

CREATE TABLE mhpss_cases (
    id             UUID PRIMARY KEY,
    migrant_id     UUID NOT NULL REFERENCES migrants (id),
    site_id        UUID NOT NULL REFERENCES sites (id),
    status         TEXT NOT NULL,
    opened_by      TEXT NOT NULL,
    opened_at      TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ,
    closed_by      TEXT,
    closure_reason TEXT,
    closure_note   TEXT
);
CREATE INDEX mhpss_cases_migrant ON mhpss_cases (migrant_id);
CREATE INDEX mhpss_cases_site ON mhpss_cases (site_id, id);
-- At most one open case per person and site.
CREATE UNIQUE INDEX mhpss_cases_one_open ON mhpss_cases (migrant_id, site_id)
    WHERE status = 'open';

CREATE TABLE mhpss_screenings (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL REFERENCES mhpss_cases (id),
    migrant_id     UUID NOT NULL REFERENCES migrants (id),
    site_id        UUID NOT NULL REFERENCES sites (id),
    assessment_id  UUID REFERENCES assessments (id),
    context        TEXT NOT NULL,
    instrument     TEXT NOT NULL,
    version        TEXT NOT NULL,
    answers        TEXT NOT NULL,
    result         TEXT NOT NULL,
    -- Copied out of `result` for aggregates (positive screens by group).
    complete       BOOLEAN NOT NULL,
    positive       BOOLEAN,
    band           TEXT,
    immediate_flag BOOLEAN NOT NULL,
    screened_by    TEXT NOT NULL,
    screened_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX mhpss_screenings_migrant ON mhpss_screenings (migrant_id, id);
CREATE INDEX mhpss_screenings_assessment ON mhpss_screenings (assessment_id);
CREATE INDEX mhpss_screenings_case ON mhpss_screenings (case_id, id);

CREATE TABLE mhpss_sessions (
    id           UUID PRIMARY KEY,
    case_id      UUID NOT NULL REFERENCES mhpss_cases (id),
    session_date DATE NOT NULL,
    kind         TEXT NOT NULL,
    notes        TEXT NOT NULL,
    next_step    TEXT,
    recorded_by  TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX mhpss_sessions_case ON mhpss_sessions (case_id, id);

CREATE TABLE mhpss_screening_referrals (
    referral_id  UUID PRIMARY KEY REFERENCES referrals (id),
    screening_id UUID NOT NULL REFERENCES mhpss_screenings (id)
);
CREATE INDEX mhpss_screening_referrals_screening ON mhpss_screening_referrals (screening_id);
