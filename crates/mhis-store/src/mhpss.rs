//! Storage of mental health and psychosocial support (MHPSS) records:
//! screenings, cases, counselling sessions, and the link between a
//! screening and the referrals confirmed from it.
//!
//! **Invariants** (each backend keeps them; the story tests check them):
//! - every write appends its audit entry in the same transaction;
//! - a person has at most one open case per site (a second is a conflict
//!   on `case`); a screening that opens a case writes both or neither;
//! - sessions are added only to an open case, and closing is a
//!   compare-and-set on `open`: a closed case changes no more.
//!
//! Reads are not audited here: the server appends an entry for every read
//! it shows (`mhpss.*.read`), as for other personal data.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::{AssessmentId, MhpssCaseId, MigrantId, ScreeningId, SiteId};
use mhis_domain::mhpss::{Closure, CounsellingSession, MhpssCase, Screening};
use mhis_domain::referral::{Referral, TimelineEntry};

/// The storage of MHPSS records.
#[async_trait]
pub trait MhpssStore: Send + Sync {
    /// Stores a screening, with the case it opens when it opens one, in one
    /// transaction.
    async fn create_screening(
        &self,
        screening: &Screening,
        new_case: Option<&MhpssCase>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// One screening.
    async fn get_screening(&self, id: ScreeningId) -> StoreResult<Screening>;
    /// The screenings of a person, newest first.
    async fn screenings_of_migrant(&self, migrant: MigrantId) -> StoreResult<Vec<Screening>>;
    /// The screenings done as part of an assessment, newest first.
    async fn screenings_of_assessment(
        &self,
        assessment: AssessmentId,
    ) -> StoreResult<Vec<Screening>>;
    /// The screenings of a case, newest first.
    async fn screenings_of_case(&self, case: MhpssCaseId) -> StoreResult<Vec<Screening>>;

    /// The open case of a person at a site, if any.
    async fn open_case(&self, migrant: MigrantId, site: SiteId) -> StoreResult<Option<MhpssCase>>;
    /// One case.
    async fn get_case(&self, id: MhpssCaseId) -> StoreResult<MhpssCase>;
    /// The cases of a person, newest first.
    async fn cases_of_migrant(&self, migrant: MigrantId) -> StoreResult<Vec<MhpssCase>>;
    /// Cases at the sites (`None`: every site), newest first, open ones
    /// only when asked, at most `limit`.
    async fn list_cases(
        &self,
        sites: Option<&[SiteId]>,
        open_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<MhpssCase>>;

    /// Adds a session to an open case (a conflict on `case` when closed).
    async fn add_session(
        &self,
        session: &CounsellingSession,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// The sessions of a case, newest first.
    async fn sessions_of(&self, case: MhpssCaseId) -> StoreResult<Vec<CounsellingSession>>;
    /// Closes an open case (a conflict on `case` when it is closed already).
    async fn close_case(
        &self,
        id: MhpssCaseId,
        closure: &Closure,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<MhpssCase>;

    /// Stores a referral confirmed from a screening with its first
    /// timeline entries, linked to the screening, in one transaction.
    async fn refer_from_screening(
        &self,
        screening: ScreeningId,
        referral: &Referral,
        history: &[TimelineEntry],
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// The referrals confirmed from a screening, oldest first.
    async fn referrals_of_screening(&self, screening: ScreeningId) -> StoreResult<Vec<Referral>>;
}
