-- Referrals and arrival notifications with their timelines, departures,
-- and federation: this node's identity, its peers, the transactional
-- outbox and the idempotent inbox.

CREATE TABLE referrals (
    id                BLOB PRIMARY KEY,
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,
    site_id           BLOB NOT NULL REFERENCES sites (id),
    to_site_id        BLOB REFERENCES sites (id),
    to_peer           TEXT,
    to_peer_site_code TEXT,
    from_peer         TEXT,
    from_label        TEXT NOT NULL,
    assessment_id     BLOB REFERENCES assessments (id),
    migrant_id        BLOB REFERENCES migrants (id),
    reason            TEXT NOT NULL,
    urgency           TEXT NOT NULL,
    due_date          TEXT NOT NULL,
    note              TEXT,
    person            TEXT NOT NULL,
    observations      TEXT NOT NULL,
    conditions        TEXT NOT NULL,
    outcome           TEXT,
    outcome_date      TEXT,
    outcome_note      TEXT,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX referrals_site ON referrals (site_id, id);
CREATE INDEX referrals_to_site ON referrals (to_site_id, id);
CREATE INDEX referrals_assessment ON referrals (assessment_id);
CREATE INDEX referrals_due ON referrals (state, due_date);

CREATE TABLE referral_events (
    referral_id BLOB NOT NULL REFERENCES referrals (id),
    seq         INTEGER NOT NULL,
    at          TEXT NOT NULL,
    event       TEXT NOT NULL,
    state       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (referral_id, seq)
) STRICT;

CREATE TABLE departures (
    assessment_id   BLOB PRIMARY KEY REFERENCES assessments (id),
    departed_on     TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    notification_id BLOB REFERENCES referrals (id)
) STRICT;

CREATE TABLE node_identity (
    singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
    name               TEXT NOT NULL,
    url                TEXT NOT NULL,
    public_key         BLOB NOT NULL,
    private_key_sealed BLOB NOT NULL,
    inbox_site_id      BLOB NOT NULL REFERENCES sites (id),
    created_at         TEXT NOT NULL
) STRICT;

CREATE TABLE peers (
    name       TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    public_key BLOB NOT NULL UNIQUE,
    country    TEXT,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              BLOB NOT NULL UNIQUE,
    peer            TEXT NOT NULL REFERENCES peers (name),
    referral_id     BLOB NOT NULL,
    event           TEXT NOT NULL,
    body            BLOB NOT NULL,
    signature       BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    delivered_at    TEXT,
    result          TEXT,
    ack             BLOB
) STRICT;
CREATE INDEX outbox_pending ON outbox (referral_id, seq) WHERE delivered_at IS NULL;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE inbox (
    id          BLOB PRIMARY KEY,
    peer        TEXT NOT NULL,
    referral_id BLOB NOT NULL,
    event       TEXT NOT NULL,
    body        BLOB NOT NULL,
    signature   BLOB NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
