-- Training and capacity building: answered needs questionnaires, sessions,
-- participants, attendance per day, pre/post test scores and attendance
-- certificates. No table references a migrant or an assessment: training
-- data is kept apart from health records.

CREATE TABLE training_needs_responses (
    id                    BLOB PRIMARY KEY,
    site_id               BLOB NOT NULL REFERENCES sites (id),
    organisation          TEXT NOT NULL,
    organisation_type     TEXT NOT NULL,
    respondent            TEXT NOT NULL,
    answers               TEXT NOT NULL,
    questionnaire_version TEXT NOT NULL,
    created_by            TEXT NOT NULL,
    created_at            TEXT NOT NULL
) STRICT;
CREATE INDEX training_needs_site ON training_needs_responses (site_id, created_at);

CREATE TABLE training_sessions (
    id            BLOB PRIMARY KEY,
    site_id       BLOB NOT NULL REFERENCES sites (id),
    title         TEXT NOT NULL,
    place         TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    trainers      TEXT NOT NULL,
    modules       TEXT NOT NULL,
    organisations TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    CHECK (ends_on >= starts_on)
) STRICT;
CREATE INDEX training_sessions_site ON training_sessions (site_id, starts_on);

CREATE TABLE training_participants (
    id                BLOB PRIMARY KEY,
    session_id        BLOB NOT NULL REFERENCES training_sessions (id),
    family_name       TEXT NOT NULL,
    given_names       TEXT NOT NULL,
    organisation      TEXT NOT NULL,
    organisation_type TEXT NOT NULL,
    role              TEXT NOT NULL,
    sex               TEXT NOT NULL,
    contact           TEXT,
    created_at        TEXT NOT NULL
) STRICT;
CREATE INDEX training_participants_session ON training_participants (session_id);

CREATE TABLE training_attendance (
    participant_id BLOB NOT NULL REFERENCES training_participants (id),
    day            TEXT NOT NULL,
    present        INTEGER NOT NULL,
    PRIMARY KEY (participant_id, day)
) STRICT;

CREATE TABLE training_scores (
    participant_id BLOB NOT NULL REFERENCES training_participants (id),
    module         TEXT NOT NULL,
    phase          TEXT NOT NULL CHECK (phase IN ('pre', 'post')),
    score          INTEGER NOT NULL,
    max_score      INTEGER NOT NULL,
    CHECK (score >= 0 AND score <= max_score),
    PRIMARY KEY (participant_id, module, phase)
) STRICT;

CREATE TABLE training_certificates (
    id             TEXT PRIMARY KEY,
    participant_id BLOB NOT NULL REFERENCES training_participants (id),
    session_id     BLOB NOT NULL REFERENCES training_sessions (id),
    site_id        BLOB NOT NULL REFERENCES sites (id),
    kid            TEXT NOT NULL REFERENCES signing_keys (kid),
    payload        TEXT NOT NULL,
    qr_text        TEXT NOT NULL,
    issued_at      TEXT NOT NULL,
    valid_until    TEXT NOT NULL
) STRICT;
CREATE INDEX training_certificates_session ON training_certificates (session_id);
