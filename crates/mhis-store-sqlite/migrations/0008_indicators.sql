-- Live monitoring aggregates (mhis_domain::indicator::cube).
--
-- Triggers mark a record "dirty" in the transaction that changes it, so no
-- change is ever missed whichever code path wrote it; the server's
-- refresher rebuilds the record's fact row and moves the cube by the
-- difference, in one transaction that clears the mark only if no newer
-- change came meanwhile (the generation).

CREATE TABLE indicator_dirty (
    kind       TEXT NOT NULL,
    record_id  BLOB NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (kind, record_id)
) STRICT, WITHOUT ROWID;

-- The fact row each record counts as now (JSON of FactRow).
CREATE TABLE indicator_facts (
    kind      TEXT NOT NULL,
    record_id BLOB NOT NULL,
    row_json  TEXT NOT NULL,
    PRIMARY KEY (kind, record_id)
) STRICT, WITHOUT ROWID;

-- Counts of fact rows per term, grain, period and disaggregation.
CREATE TABLE indicator_cells (
    term         TEXT NOT NULL,
    grain        TEXT NOT NULL,
    period_start TEXT NOT NULL,
    site         TEXT NOT NULL,
    nationality  TEXT NOT NULL,
    destination  TEXT NOT NULL,
    sex          TEXT NOT NULL,
    age_group    TEXT NOT NULL,
    val          TEXT NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (term, grain, period_start, site, nationality, destination, sex, age_group, val)
) STRICT, WITHOUT ROWID;

-- The catalogue the cube was built for (a change rebuilds it).
CREATE TABLE indicator_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TRIGGER assessments_dirty_insert AFTER INSERT ON assessments BEGIN
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    VALUES ('assessment', NEW.id, COALESCE((SELECT generation FROM indicator_dirty WHERE kind = 'assessment' AND record_id = NEW.id), 0) + 1);
END;
CREATE TRIGGER assessments_dirty_update AFTER UPDATE ON assessments BEGIN
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    VALUES ('assessment', NEW.id, COALESCE((SELECT generation FROM indicator_dirty WHERE kind = 'assessment' AND record_id = NEW.id), 0) + 1);
END;
CREATE TRIGGER observations_dirty AFTER INSERT ON observations BEGIN
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    VALUES ('assessment', NEW.assessment_id, COALESCE((SELECT generation FROM indicator_dirty WHERE kind = 'assessment' AND record_id = NEW.assessment_id), 0) + 1);
END;
CREATE TRIGGER certificates_dirty AFTER INSERT ON certificates BEGIN
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    VALUES ('assessment', NEW.assessment_id, COALESCE((SELECT generation FROM indicator_dirty WHERE kind = 'assessment' AND record_id = NEW.assessment_id), 0) + 1);
END;
CREATE TRIGGER referrals_dirty_insert AFTER INSERT ON referrals BEGIN
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    VALUES ('referral', NEW.id, COALESCE((SELECT generation FROM indicator_dirty WHERE kind = 'referral' AND record_id = NEW.id), 0) + 1);
END;
CREATE TRIGGER referrals_dirty_update AFTER UPDATE ON referrals BEGIN
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    VALUES ('referral', NEW.id, COALESCE((SELECT generation FROM indicator_dirty WHERE kind = 'referral' AND record_id = NEW.id), 0) + 1);
END;
-- A person's sex, birth date or nationality moves all their records.
CREATE TRIGGER migrants_dirty AFTER UPDATE ON migrants BEGIN
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    SELECT 'assessment', a.id, COALESCE(d.generation, 0) + 1
    FROM assessments a
    LEFT JOIN indicator_dirty d ON d.kind = 'assessment' AND d.record_id = a.id
    WHERE a.migrant_id = NEW.id;
    INSERT OR REPLACE INTO indicator_dirty (kind, record_id, generation)
    SELECT 'referral', r.id, COALESCE(d.generation, 0) + 1
    FROM referrals r
    LEFT JOIN indicator_dirty d ON d.kind = 'referral' AND d.record_id = r.id
    WHERE r.migrant_id = NEW.id;
END;

-- What exists already is counted by the first refresh.
INSERT INTO indicator_dirty (kind, record_id, generation) SELECT 'assessment', id, 1 FROM assessments;
INSERT INTO indicator_dirty (kind, record_id, generation) SELECT 'referral', id, 1 FROM referrals;
