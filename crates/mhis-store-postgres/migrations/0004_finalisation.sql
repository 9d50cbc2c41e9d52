-- Finalisation by a physician, and amendments that re-open an assessment.
ALTER TABLE assessments ADD COLUMN final_outcome TEXT;
ALTER TABLE assessments ADD COLUMN engine_outcome TEXT;
ALTER TABLE assessments ADD COLUMN final_reason TEXT;
ALTER TABLE assessments ADD COLUMN finalised_by TEXT;

CREATE TABLE assessment_amendments (
    id               UUID PRIMARY KEY,
    assessment_id    UUID NOT NULL REFERENCES assessments (id),
    reason           TEXT NOT NULL,
    previous_outcome TEXT NOT NULL,
    amended_by       TEXT NOT NULL,
    amended_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX assessment_amendments_assessment ON assessment_amendments (assessment_id);
