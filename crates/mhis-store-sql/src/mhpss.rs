//! Row decoding of MHPSS records (screenings, cases, sessions), shared by
//! both backends.

use super::{damaged, get, json_from_column};
use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::ids::{AssessmentId, MhpssCaseId, MigrantId, ScreeningId, SessionId, SiteId};
use mhis_domain::mhpss::{
    CaseStatus, ClosureReason, CounsellingSession, MhpssCase, Screening, ScreeningContext,
    SessionKind,
};
use mhis_store::StoreResult;
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

/// The columns of `mhpss_screenings`, in the order inserts bind them.
pub const SCREENING_COLUMNS: &str = "id, case_id, migrant_id, site_id, assessment_id, context, \
    instrument, version, answers, result, complete, positive, band, immediate_flag, screened_by, \
    screened_at";

/// The columns of `mhpss_cases`, in the order inserts bind them.
pub const CASE_COLUMNS: &str = "id, migrant_id, site_id, status, opened_by, opened_at, closed_at, \
    closed_by, closure_reason, closure_note";

/// The columns of `mhpss_sessions`, in the order inserts bind them.
pub const SESSION_COLUMNS: &str =
    "id, case_id, session_date, kind, notes, next_step, recorded_by, recorded_at";

row_fn! {
    /// Reads a screening.
    fn screening_from_row(row) -> Screening {
        let text = |c: &str| get::<String, _>(row, c);
        Ok(Screening {
            id: ScreeningId(get(row, "id")?),
            case_id: MhpssCaseId(get(row, "case_id")?),
            migrant_id: MigrantId(get(row, "migrant_id")?),
            site_id: SiteId(get(row, "site_id")?),
            assessment_id: get::<Option<Uuid>, _>(row, "assessment_id")?.map(AssessmentId),
            context: ScreeningContext::parse("context", &text("context")?).map_err(damaged)?,
            instrument: text("instrument")?,
            version: text("version")?,
            answers: json_from_column(&text("answers")?)?,
            result: json_from_column(&text("result")?)?,
            screened_by: text("screened_by")?,
            screened_at: get(row, "screened_at")?,
        })
    }
}

row_fn! {
    /// Reads a case.
    fn case_from_row(row) -> MhpssCase {
        let text = |c: &str| get::<String, _>(row, c);
        Ok(MhpssCase {
            id: MhpssCaseId(get(row, "id")?),
            migrant_id: MigrantId(get(row, "migrant_id")?),
            site_id: SiteId(get(row, "site_id")?),
            status: CaseStatus::parse("status", &text("status")?).map_err(damaged)?,
            opened_by: text("opened_by")?,
            opened_at: get(row, "opened_at")?,
            closed_at: get(row, "closed_at")?,
            closed_by: get(row, "closed_by")?,
            closure_reason: get::<Option<String>, _>(row, "closure_reason")?
                .map(|r| ClosureReason::parse("closure_reason", &r).map_err(damaged))
                .transpose()?,
            closure_note: get(row, "closure_note")?,
        })
    }
}

row_fn! {
    /// Reads a counselling session.
    fn session_from_row(row) -> CounsellingSession {
        Ok(CounsellingSession {
            id: SessionId(get(row, "id")?),
            case_id: MhpssCaseId(get(row, "case_id")?),
            date: get(row, "session_date")?,
            kind: SessionKind::parse("kind", &get::<String, _>(row, "kind")?).map_err(damaged)?,
            notes: get(row, "notes")?,
            next_step: get(row, "next_step")?,
            recorded_by: get(row, "recorded_by")?,
            recorded_at: get(row, "recorded_at")?,
        })
    }
}

/// The stored text of a screening's answers and result.
pub fn screening_json(s: &Screening) -> (String, String) {
    (
        super::json_column(&s.answers),
        super::json_column(&s.result),
    )
}
