-- Referrals and arrival notifications with their timelines, departures,
-- and federation: this node's identity, its peers, the transactional
-- outbox and the idempotent inbox.

CREATE TABLE referrals (
    id                UUID PRIMARY KEY,
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,
    site_id           UUID NOT NULL REFERENCES sites (id),
    to_site_id        UUID REFERENCES sites (id),
    to_peer           TEXT,
    to_peer_site_code TEXT,
    from_peer         TEXT,
    from_label        TEXT NOT NULL,
    assessment_id     UUID REFERENCES assessments (id),
    migrant_id        UUID REFERENCES migrants (id),
    reason            TEXT NOT NULL,
    urgency           TEXT NOT NULL,
    due_date          DATE NOT NULL,
    note              TEXT,
    person            TEXT NOT NULL,
    observations      TEXT NOT NULL,
    conditions        TEXT NOT NULL,
    outcome           TEXT,
    outcome_date      DATE,
    outcome_note      TEXT,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX referrals_site ON referrals (site_id, id);
CREATE INDEX referrals_to_site ON referrals (to_site_id, id);
CREATE INDEX referrals_assessment ON referrals (assessment_id);
CREATE INDEX referrals_due ON referrals (state, due_date);

CREATE TABLE referral_events (
    referral_id UUID NOT NULL REFERENCES referrals (id),
    seq         BIGINT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    event       TEXT NOT NULL,
    state       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (referral_id, seq)
);

CREATE TABLE departures (
    assessment_id   UUID PRIMARY KEY REFERENCES assessments (id),
    departed_on     DATE NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    notification_id UUID REFERENCES referrals (id)
);

CREATE TABLE node_identity (
    singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
    name               TEXT NOT NULL,
    url                TEXT NOT NULL,
    public_key         BYTEA NOT NULL,
    private_key_sealed BYTEA NOT NULL,
    inbox_site_id      UUID NOT NULL REFERENCES sites (id),
    created_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE peers (
    name       TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    public_key BYTEA NOT NULL UNIQUE,
    country    TEXT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE outbox (
    seq             BIGSERIAL PRIMARY KEY,
    id              UUID NOT NULL UNIQUE,
    peer            TEXT NOT NULL REFERENCES peers (name),
    referral_id     UUID NOT NULL,
    event           TEXT NOT NULL,
    body            BYTEA NOT NULL,
    signature       BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    delivered_at    TIMESTAMPTZ,
    result          TEXT,
    ack             BYTEA
);
CREATE INDEX outbox_pending ON outbox (referral_id, seq) WHERE delivered_at IS NULL;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE inbox (
    id          UUID PRIMARY KEY,
    peer        TEXT NOT NULL,
    referral_id UUID NOT NULL,
    event       TEXT NOT NULL,
    body        BYTEA NOT NULL,
    signature   BYTEA NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
