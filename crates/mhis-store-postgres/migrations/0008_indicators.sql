-- Live monitoring aggregates (mhis_domain::indicator::cube).
--
-- Triggers mark a record "dirty" in the transaction that changes it, so no
-- change is ever missed whichever code path wrote it; the server's
-- refresher rebuilds the record's fact row and moves the cube by the
-- difference, in one transaction that clears the mark only if no newer
-- change came meanwhile (the generation).

CREATE TABLE indicator_dirty (
    kind       TEXT NOT NULL,
    record_id  UUID NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (kind, record_id)
);

-- The fact row each record counts as now (JSON of FactRow).
CREATE TABLE indicator_facts (
    kind      TEXT NOT NULL,
    record_id UUID NOT NULL,
    row_json  TEXT NOT NULL,
    PRIMARY KEY (kind, record_id)
);

-- Counts of fact rows per term, grain, period and disaggregation.
CREATE TABLE indicator_cells (
    term         TEXT NOT NULL,
    grain        TEXT NOT NULL,
    period_start DATE NOT NULL,
    site         TEXT NOT NULL,
    nationality  TEXT NOT NULL,
    destination  TEXT NOT NULL,
    sex          TEXT NOT NULL,
    age_group    TEXT NOT NULL,
    val          TEXT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (term, grain, period_start, site, nationality, destination, sex, age_group, val)
);

-- The catalogue the cube was built for (a change rebuilds it).
CREATE TABLE indicator_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE FUNCTION indicator_mark(k TEXT, rid UUID) RETURNS void AS $$
    INSERT INTO indicator_dirty (kind, record_id, generation) VALUES (k, rid, 1)
    ON CONFLICT (kind, record_id) DO UPDATE SET generation = indicator_dirty.generation + 1;
$$ LANGUAGE sql;

CREATE FUNCTION indicator_mark_assessment() RETURNS trigger AS $$
BEGIN
    PERFORM indicator_mark('assessment', NEW.id);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE FUNCTION indicator_mark_parent_assessment() RETURNS trigger AS $$
BEGIN
    PERFORM indicator_mark('assessment', NEW.assessment_id);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE FUNCTION indicator_mark_referral() RETURNS trigger AS $$
BEGIN
    PERFORM indicator_mark('referral', NEW.id);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
-- A person's sex, birth date or nationality moves all their records.
CREATE FUNCTION indicator_mark_migrant() RETURNS trigger AS $$
BEGIN
    PERFORM indicator_mark('assessment', a.id) FROM assessments a WHERE a.migrant_id = NEW.id;
    PERFORM indicator_mark('referral', r.id) FROM referrals r WHERE r.migrant_id = NEW.id;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER assessments_dirty AFTER INSERT OR UPDATE ON assessments
    FOR EACH ROW EXECUTE FUNCTION indicator_mark_assessment();
CREATE TRIGGER observations_dirty AFTER INSERT ON observations
    FOR EACH ROW EXECUTE FUNCTION indicator_mark_parent_assessment();
CREATE TRIGGER certificates_dirty AFTER INSERT ON certificates
    FOR EACH ROW EXECUTE FUNCTION indicator_mark_parent_assessment();
CREATE TRIGGER referrals_dirty AFTER INSERT OR UPDATE ON referrals
    FOR EACH ROW EXECUTE FUNCTION indicator_mark_referral();
CREATE TRIGGER migrants_dirty AFTER UPDATE ON migrants
    FOR EACH ROW EXECUTE FUNCTION indicator_mark_migrant();

-- What exists already is counted by the first refresh.
INSERT INTO indicator_dirty (kind, record_id, generation) SELECT 'assessment', id, 1 FROM assessments;
INSERT INTO indicator_dirty (kind, record_id, generation) SELECT 'referral', id, 1 FROM referrals;
