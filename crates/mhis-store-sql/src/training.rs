//! Row decoding of the training tables (`TrainingStore`), shared by both
//! backends.

use super::{damaged, get, json_from_column};
use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::ids::SiteId;
use mhis_domain::migrant::Sex;
use mhis_domain::training::participant::NewParticipant;
use mhis_domain::training::{NeedsResponseId, ParticipantId, SessionId};
use mhis_store::{
    AttendanceCertificate, AttendanceMark, NeedsResponse, Participant, Phase, StoreError,
    StoreResult, TestScore, TrainingSession,
};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

/// The columns of `training_needs_responses`.
pub const NEEDS_COLUMNS: &str = "id, site_id, organisation, organisation_type, respondent, \
     answers, questionnaire_version, created_by, created_at";
/// The columns of `training_sessions`.
pub const SESSION_COLUMNS: &str = "id, site_id, title, place, starts_on, ends_on, trainers, \
     modules, organisations, created_by, created_at";
/// The columns of `training_participants`.
pub const PARTICIPANT_COLUMNS: &str = "id, session_id, family_name, given_names, organisation, \
     organisation_type, role, sex, contact, created_at";
/// The columns of `training_certificates`.
pub const TRAINING_CERTIFICATE_COLUMNS: &str =
    "id, participant_id, session_id, site_id, kid, payload, qr_text, issued_at, valid_until";

row_fn! {
    /// Reads an answered needs questionnaire.
    fn needs_from_row(row) -> NeedsResponse {
        Ok(NeedsResponse {
            id: NeedsResponseId(get(row, "id")?),
            site_id: SiteId(get(row, "site_id")?),
            organisation: get(row, "organisation")?,
            organisation_type: get(row, "organisation_type")?,
            respondent: get(row, "respondent")?,
            answers: json_from_column(&get::<String, _>(row, "answers")?)?,
            questionnaire_version: get(row, "questionnaire_version")?,
            created_by: get(row, "created_by")?,
            created_at: get::<DateTime<Utc>, _>(row, "created_at")?,
        })
    }
}

row_fn! {
    /// Reads a training session.
    fn session_from_row(row) -> TrainingSession {
        Ok(TrainingSession {
            id: SessionId(get(row, "id")?),
            site_id: SiteId(get(row, "site_id")?),
            title: get(row, "title")?,
            place: get(row, "place")?,
            starts_on: get::<NaiveDate, _>(row, "starts_on")?,
            ends_on: get::<NaiveDate, _>(row, "ends_on")?,
            trainers: json_from_column(&get::<String, _>(row, "trainers")?)?,
            modules: json_from_column(&get::<String, _>(row, "modules")?)?,
            organisations: json_from_column(&get::<String, _>(row, "organisations")?)?,
            created_by: get(row, "created_by")?,
            created_at: get(row, "created_at")?,
        })
    }
}

row_fn! {
    /// Reads a participant.
    fn participant_from_row(row) -> Participant {
        Ok(Participant {
            id: ParticipantId(get(row, "id")?),
            session_id: SessionId(get(row, "session_id")?),
            details: NewParticipant {
                family_name: get(row, "family_name")?,
                given_names: get(row, "given_names")?,
                organisation: get(row, "organisation")?,
                organisation_type: get(row, "organisation_type")?,
                role: get(row, "role")?,
                sex: Sex::parse("sex", &get::<String, _>(row, "sex")?).map_err(damaged)?,
                contact: get(row, "contact")?,
            },
            created_at: get(row, "created_at")?,
        })
    }
}

row_fn! {
    /// Reads an attendance mark.
    fn attendance_from_row(row) -> AttendanceMark {
        Ok(AttendanceMark {
            participant_id: ParticipantId(get::<Uuid, _>(row, "participant_id")?),
            day: get(row, "day")?,
            present: get(row, "present")?,
        })
    }
}

row_fn! {
    /// Reads a test score.
    fn score_from_row(row) -> TestScore {
        let phase = get::<String, _>(row, "phase")?;
        let count = |c: &str| -> StoreResult<u32> {
            u32::try_from(get::<i64, _>(row, c)?)
                .map_err(|_| StoreError::Database(format!("stored {c} out of range")))
        };
        Ok(TestScore {
            participant_id: ParticipantId(get(row, "participant_id")?),
            module: get(row, "module")?,
            phase: Phase::parse(&phase)
                .ok_or_else(|| StoreError::Database(format!("stored phase {phase:?}")))?,
            score: count("score")?,
            max_score: count("max_score")?,
        })
    }
}

row_fn! {
    /// Reads an attendance certificate.
    fn training_certificate_from_row(row) -> AttendanceCertificate {
        Ok(AttendanceCertificate {
            id: get(row, "id")?,
            participant_id: ParticipantId(get(row, "participant_id")?),
            session_id: SessionId(get(row, "session_id")?),
            site_id: SiteId(get(row, "site_id")?),
            kid: get(row, "kid")?,
            payload: get(row, "payload")?,
            qr_text: get(row, "qr_text")?,
            issued_at: get(row, "issued_at")?,
            valid_until: get(row, "valid_until")?,
        })
    }
}
