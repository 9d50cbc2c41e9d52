//! Storage of training and capacity building: answered needs
//! questionnaires, sessions, participants, attendance per day, pre/post
//! test scores and attendance certificates.
//!
//! **Invariants** (each backend keeps them; the story tests check them):
//! - every write runs in one transaction with its audit entry; an import of
//!   participants stores every row or none;
//! - attendance and scores are keyed by participant and day (or module and
//!   phase): recording again replaces the earlier value;
//! - a participant, mark or score belongs to exactly one session, and a
//!   write naming a participant of another session is refused;
//! - no training table refers to migrants or assessments.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::SiteId;
use mhis_domain::training::needs::Answer;
use mhis_domain::training::participant::NewParticipant;
use mhis_domain::training::{NeedsResponseId, ParticipantId, SessionId};
use std::collections::BTreeMap;

/// One answered needs questionnaire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsResponse {
    /// Identifier.
    pub id: NeedsResponseId,
    /// The site whose trainers collected it.
    pub site_id: SiteId,
    /// The partner organisation.
    pub organisation: String,
    /// Its type.
    pub organisation_type: String,
    /// Who answered.
    pub respondent: String,
    /// Answers by question id.
    pub answers: BTreeMap<String, Answer>,
    /// Version of the questionnaire answered.
    pub questionnaire_version: String,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A training session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingSession {
    /// Identifier.
    pub id: SessionId,
    /// The site that runs it.
    pub site_id: SiteId,
    /// Title.
    pub title: String,
    /// Where it takes place.
    pub place: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (inclusive).
    pub ends_on: NaiveDate,
    /// Trainers' names.
    pub trainers: Vec<String>,
    /// Module ids taught.
    pub modules: Vec<String>,
    /// Partner organisations invited.
    pub organisations: Vec<String>,
    /// Who scheduled it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl TrainingSession {
    /// Every day of the session, first to last.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.starts_on
            .iter_days()
            .take_while(|d| *d <= self.ends_on)
            .collect()
    }
}

/// A participant of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Identifier.
    pub id: ParticipantId,
    /// The session.
    pub session_id: SessionId,
    /// Details.
    pub details: NewParticipant,
    /// Added.
    pub created_at: DateTime<Utc>,
}

/// Whether a participant attended on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttendanceMark {
    /// The participant.
    pub participant_id: ParticipantId,
    /// The day.
    pub day: NaiveDate,
    /// Present.
    pub present: bool,
}

/// Before or after the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// The pre-test.
    Pre,
    /// The post-test.
    Post,
}

impl Phase {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pre => "pre",
            Self::Post => "post",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pre" => Some(Self::Pre),
            "post" => Some(Self::Post),
            _ => None,
        }
    }
}

/// A knowledge-test score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestScore {
    /// The participant.
    pub participant_id: ParticipantId,
    /// The module tested.
    pub module: String,
    /// Pre or post.
    pub phase: Phase,
    /// Correct answers.
    pub score: u32,
    /// Questions in the test.
    pub max_score: u32,
}

/// An issued attendance certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceCertificate {
    /// The certificate id (in the signed payload).
    pub id: String,
    /// The participant.
    pub participant_id: ParticipantId,
    /// The session.
    pub session_id: SessionId,
    /// The issuing site.
    pub site_id: SiteId,
    /// The signing key.
    pub kid: String,
    /// The signed payload as JSON.
    pub payload: String,
    /// The QR text (`MHC1:…`).
    pub qr_text: String,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Last valid day.
    pub valid_until: NaiveDate,
}

/// Storage of training data.
#[async_trait]
pub trait TrainingStore: Send + Sync {
    /// Stores an answered questionnaire.
    async fn add_needs_response(&self, r: &NeedsResponse, audit: &AuditEvent) -> StoreResult<()>;

    /// Answered questionnaires of these sites (all with `None`), oldest
    /// first.
    async fn needs_responses(&self, sites: Option<&[SiteId]>) -> StoreResult<Vec<NeedsResponse>>;

    /// Schedules a session.
    async fn add_training_session(
        &self,
        s: &TrainingSession,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    /// Sessions of these sites (all with `None`), by first day.
    async fn training_sessions(
        &self,
        sites: Option<&[SiteId]>,
    ) -> StoreResult<Vec<TrainingSession>>;

    /// One session.
    async fn training_session(&self, id: SessionId) -> StoreResult<TrainingSession>;

    /// Adds participants to a session, all or none.
    async fn add_participants(&self, people: &[Participant], audit: &AuditEvent)
    -> StoreResult<()>;

    /// Participants of a session, by family name.
    async fn participants(&self, session: SessionId) -> StoreResult<Vec<Participant>>;

    /// Records attendance of a session's participants on one day,
    /// replacing earlier marks of that day.
    async fn record_attendance(
        &self,
        session: SessionId,
        marks: &[AttendanceMark],
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    /// Attendance marks of a session.
    async fn attendance(&self, session: SessionId) -> StoreResult<Vec<AttendanceMark>>;

    /// Records test scores of a session's participants, replacing earlier
    /// scores of the same module and phase.
    async fn record_scores(
        &self,
        session: SessionId,
        scores: &[TestScore],
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    /// Test scores of a session.
    async fn scores(&self, session: SessionId) -> StoreResult<Vec<TestScore>>;

    /// Stores an issued attendance certificate.
    async fn add_attendance_certificate(
        &self,
        c: &AttendanceCertificate,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    /// Attendance certificates of a session.
    async fn attendance_certificates(
        &self,
        session: SessionId,
    ) -> StoreResult<Vec<AttendanceCertificate>>;

    /// One attendance certificate.
    async fn attendance_certificate(&self, id: &str) -> StoreResult<AttendanceCertificate>;
}
