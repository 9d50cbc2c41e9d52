//! The storage boundary of mhis.
//!
//! This crate owns the [`Store`] trait that the server talks to, the query
//! and filter types it takes, and [`StoreError`]. It holds no SQL: each
//! backend (`mhis-store-sqlite`, `mhis-store-postgres`) implements the trait
//! with its own migrations, and one story test suite runs against both to
//! prove they behave the same.
//!
//! **Invariant:** every method that writes does so in one transaction; a
//! call that returns an error has written nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::access::User;
use mhis_domain::assessment::{Assessment, AssessmentStatus, NewAssessment};
use mhis_domain::audit::{AuditEntry, AuditEvent};
use mhis_domain::finalisation::Finalisation;
use mhis_domain::ids::{AssessmentId, MigrantId, ObservationId, SiteId, TokenId, UserId};
use mhis_domain::migrant::{DuplicateReason, Migrant, MigrantDetails, PartialDate};
use mhis_domain::observation::{Correction, NewObservation, Observation};
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::site::{NewSite, Site};
use serde_json::Value as Json;

pub mod federation;
pub mod indicators;
pub use federation::*;
pub use indicators::*;
pub mod import;
pub use import::*;
pub mod vaccination;
pub use vaccination::*;
pub mod training;
pub use training::*;
pub mod mhpss;
pub use mhpss::MhpssStore;

/// Every way storage can fail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for (`migrant`, `assessment`…).
        entity: &'static str,
    },
    /// The write conflicts with stored state (a unique value taken, a stale
    /// version, a finalised assessment).
    #[error("{field}: {message}")]
    Conflict {
        /// The field in conflict.
        field: String,
        /// What conflicts.
        message: String,
    },
    /// A referenced record does not exist.
    #[error("{field}: no such {entity}")]
    MissingReference {
        /// The referencing field (`site_id`).
        field: &'static str,
        /// The kind of record referenced.
        entity: &'static str,
    },
    /// The database failed (connection, I/O, corrupt data). Logged, never
    /// shown to clients.
    #[error("database: {0}")]
    Database(String),
}

impl StoreError {
    /// A conflict on `field`.
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A result of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// What a registry search looks for; every given criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrantQuery {
    /// Search-key tokens (see `mhis_domain::transliteration::search_key`):
    /// each must start a word of the person's names.
    pub name_tokens: Vec<String>,
    /// A normalised document number, matched exactly.
    pub document_number: Option<String>,
    /// A birth date; partial dates match every compatible birth date.
    pub birth_date: Option<PartialDate>,
    /// Only people registered at one of these sites (`None`: everywhere).
    pub sites: Option<Vec<SiteId>>,
}

/// A stored record that may be the same person as another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateCandidate {
    /// The existing record.
    pub migrant: Migrant,
    /// Why it matched.
    pub reasons: Vec<DuplicateReason>,
}

/// Filters for listing assessments; every given criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssessmentFilter {
    /// Of one migrant.
    pub migrant_id: Option<MigrantId>,
    /// At one of these sites (`None`: everywhere).
    pub sites: Option<Vec<SiteId>>,
    /// In one status.
    pub status: Option<AssessmentStatus>,
}

/// Who performed a write, kept with what they wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

/// The storage of one mhis deployment.
#[async_trait]
pub trait Store:
    FederationStore
    + IndicatorStore
    + ImportStore
    + VaccinationStore
    + TrainingStore
    + MhpssStore
    + Send
    + Sync
    + 'static
{
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;

    /// Stores a new site; its code must be unused.
    async fn create_site(&self, site: &NewSite, audit: &AuditEvent) -> StoreResult<Site>;
    /// Every site, ordered by code.
    async fn list_sites(&self) -> StoreResult<Vec<Site>>;
    /// One site.
    async fn get_site(&self, id: SiteId) -> StoreResult<Site>;

    /// Registers a migrant at a site, giving it the site's next registration
    /// number, and returns the records that may be the same person. A
    /// possible duplicate does not block registration.
    async fn create_migrant(
        &self,
        site: SiteId,
        details: &MigrantDetails,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<(Migrant, Vec<DuplicateCandidate>)>;
    /// One migrant.
    async fn get_migrant(&self, id: MigrantId) -> StoreResult<Migrant>;
    /// Replaces a migrant's details if the stored version is `version`
    /// (otherwise a conflict on `version`: someone else changed it).
    async fn update_migrant(
        &self,
        id: MigrantId,
        version: i64,
        details: &MigrantDetails,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Migrant>;
    /// Searches the registry, newest first.
    async fn search_migrants(
        &self,
        query: &MigrantQuery,
        page: PageRequest,
    ) -> StoreResult<Page<Migrant>>;
    /// Records that may be the same person as `details`, other than
    /// `exclude`.
    async fn find_duplicates(
        &self,
        details: &MigrantDetails,
        exclude: Option<MigrantId>,
    ) -> StoreResult<Vec<DuplicateCandidate>>;

    /// Opens an assessment.
    async fn create_assessment(
        &self,
        assessment: &NewAssessment,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Assessment>;
    /// One assessment.
    async fn get_assessment(&self, id: AssessmentId) -> StoreResult<Assessment>;
    /// Assessments matching a filter, newest first.
    async fn list_assessments(
        &self,
        filter: &AssessmentFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Assessment>>;

    /// Moves an assessment between `open` and `complete` (nothing due, ready
    /// for the physician); a finalised assessment is left as it is.
    async fn set_progress(&self, id: AssessmentId, status: AssessmentStatus) -> StoreResult<()>;
    /// Finalises an assessment that is not finalised yet (otherwise a
    /// conflict), recording the engine's and the physician's outcomes.
    async fn finalise_assessment(
        &self,
        id: AssessmentId,
        finalisation: &Finalisation,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Assessment>;
    /// Re-opens a finalised assessment (otherwise a conflict), keeping the
    /// previous outcome and the reason as an amendment.
    async fn amend_assessment(
        &self,
        id: AssessmentId,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Assessment>;

    /// Records observations on an assessment, all or none. A code that
    /// already has a current value is a conflict: a changed value is a
    /// correction, which keeps history.
    async fn record_observations(
        &self,
        assessment: AssessmentId,
        observations: &[NewObservation],
        actor: &Actor,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Vec<Observation>>;
    /// Supersedes a current observation with a corrected value.
    async fn correct_observation(
        &self,
        id: ObservationId,
        correction: &Correction,
        actor: &Actor,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Observation>;
    /// One observation, current or superseded.
    async fn get_observation(&self, id: ObservationId) -> StoreResult<Observation>;
    /// The observations of an assessment in the order recorded; superseded
    /// ones only when `include_history`.
    async fn list_observations(
        &self,
        assessment: AssessmentId,
        include_history: bool,
    ) -> StoreResult<Vec<Observation>>;

    /// Creates a user account with its sites; the user name must be unused.
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// A user and their credentials, by login name.
    async fn find_user_login(&self, username: &str) -> StoreResult<Option<UserLogin>>;
    /// One user.
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    /// Every user, by login name.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Records a failed login: counts it, and locks the account until
    /// `lock_until` when given.
    async fn record_login_failure(
        &self,
        id: UserId,
        lock_until: Option<DateTime<Utc>>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Records a successful login: clears the failure count.
    async fn record_login_success(&self, id: UserId, audit: &AuditEvent) -> StoreResult<()>;

    /// Stores a new API token's hash for a user.
    async fn create_token(
        &self,
        token: &ApiToken,
        token_hash: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// The live (unrevoked) token with this hash, and its user.
    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<(ApiToken, User)>>;
    /// The tokens of a user, newest first, revoked ones included.
    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    /// Revokes a token.
    async fn revoke_token(
        &self,
        id: TokenId,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    /// Stores a browser session (by the hash of its secret).
    async fn create_session(&self, session: &Session, audit: &AuditEvent) -> StoreResult<()>;
    /// The unexpired session with this secret hash, and its user.
    async fn find_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Session, User)>>;
    /// Ends a session (logout).
    async fn delete_session(&self, token_hash: &str, audit: &AuditEvent) -> StoreResult<()>;

    /// Stores a new signing key for its site and retires the site's
    /// earlier keys (kept for verification, no longer used to sign).
    async fn add_signing_key(&self, key: &StoredKey, audit: &AuditEvent) -> StoreResult<()>;
    /// Signing keys, newest first; of one site, or of every site.
    async fn signing_keys(&self, site: Option<SiteId>) -> StoreResult<Vec<StoredKey>>;
    /// Stores an issued certificate.
    async fn add_certificate(
        &self,
        certificate: &StoredCertificate,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// One certificate.
    async fn get_certificate(&self, id: &str) -> StoreResult<StoredCertificate>;
    /// The certificates issued for an assessment, newest first.
    async fn certificates_of(
        &self,
        assessment: AssessmentId,
    ) -> StoreResult<Vec<StoredCertificate>>;
    /// Revokes a certificate (a conflict when it already is).
    async fn revoke_certificate(
        &self,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Every revoked certificate, as (issuing country, certificate id).
    async fn revoked_certificates(&self) -> StoreResult<Vec<(String, String)>>;
    /// Stores a signed trust document (`trust_list` or `revocations`)
    /// imported by a verifier, with the anchor key it was checked against.
    async fn add_trust_document(
        &self,
        kind: &str,
        issuer: &str,
        issued_at: DateTime<Utc>,
        signed: &[u8],
        anchor: &[u8],
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// The most recently issued trust document of a kind: the signed bytes
    /// and the anchor's public key (SPKI DER).
    async fn latest_trust_document(&self, kind: &str) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>>;

    /// Appends an audit entry on its own (for reads of personal data).
    async fn append_audit(&self, event: &AuditEvent, now: DateTime<Utc>) -> StoreResult<()>;
    /// Audit entries matching a filter, newest first.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEntry>>;
    /// The whole trail in chain order, for verification.
    async fn audit_chain(&self) -> StoreResult<Vec<AuditEntry>>;
}

/// Filters of the audit trail page; every given criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// By actor.
    pub actor: Option<String>,
    /// By action prefix (`migrant.` for every migrant action).
    pub action_prefix: Option<String>,
    /// By record id.
    pub entity_id: Option<String>,
}

/// A user with the secrets needed to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLogin {
    /// The user.
    pub user: User,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Consecutive failed logins.
    pub failed_logins: i64,
    /// Locked until then, after too many failures.
    pub locked_until: Option<DateTime<Utc>>,
}

/// A site's certificate signing key as stored: the private half sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Key id, hex (first 8 bytes of SHA-256 of the public key).
    pub kid: String,
    /// The site that signs with it.
    pub site_id: SiteId,
    /// SubjectPublicKeyInfo, DER.
    pub public_key: Vec<u8>,
    /// The PKCS#8 private key, sealed with the key encryption key.
    pub private_key_sealed: Vec<u8>,
    /// Valid from.
    pub valid_from: DateTime<Utc>,
    /// Valid until (at most a year after `valid_from`).
    pub valid_until: DateTime<Utc>,
    /// When a newer key replaced it for signing.
    pub retired_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// An issued certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredCertificate {
    /// The certificate id (unique, never reused).
    pub id: String,
    /// The assessment it certifies.
    pub assessment_id: AssessmentId,
    /// The issuing site.
    pub site_id: SiteId,
    /// The issuing country (ISO 3166-1 alpha-2).
    pub country: String,
    /// The signing key's id, hex.
    pub kid: String,
    /// The signed claims, as JSON.
    pub payload: String,
    /// The QR text (`MHC1:…`).
    pub qr_text: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Last day of validity.
    pub valid_until: chrono::NaiveDate,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why.
    pub revocation_reason: Option<String>,
}

/// A browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the session secret held in the cookie.
    pub token_hash: String,
    /// The user.
    pub user_id: UserId,
    /// The token every form of this session must echo.
    pub csrf_token: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
}

/// An API token (the secret itself is shown once and stored hashed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    /// Identifier.
    pub id: TokenId,
    /// Owner.
    pub user_id: UserId,
    /// A label (`lab-analyser-1`).
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Serialises an observation value for storage.
pub fn value_to_stored(value: &mhis_domain::observation::ObservationValue) -> String {
    value.to_json().to_string()
}

/// Parses a stored value (always written by [`value_to_stored`]).
pub fn value_from_stored(text: &str) -> StoreResult<Json> {
    serde_json::from_str(text).map_err(|e| StoreError::Database(format!("stored value: {e}")))
}

// Backend-neutral pieces that both implementations share, so the rules they
// encode (what counts as a duplicate, when results may be written) live once.

/// Classifies why a stored record matched a duplicate query.
pub fn duplicate_candidate(details: &MigrantDetails, migrant: Migrant) -> DuplicateCandidate {
    let mut reasons = Vec::new();
    if let (Some(a), Some(b)) = (&details.document, &migrant.details.document)
        && a.number == b.number
        && a.issuing_country == b.issuing_country
    {
        reasons.push(DuplicateReason::SameDocument);
    }
    let overlap = details.birth_date.earliest() <= migrant.details.birth_date.latest()
        && details.birth_date.latest() >= migrant.details.birth_date.earliest();
    if details.search_key() == migrant.details.search_key() && overlap {
        reasons.push(DuplicateReason::SameNameAndBirthDate);
    }
    DuplicateCandidate { migrant, reasons }
}

/// Refuses a write of results to an assessment whose stored status is
/// `status` when it no longer accepts them.
pub fn check_accepts_results(status: &str) -> StoreResult<()> {
    match AssessmentStatus::parse("status", status) {
        Ok(s) if s.accepts_results() => Ok(()),
        Ok(_) => Err(StoreError::conflict(
            "assessment_id",
            "the assessment is finalised; amend it to change its results",
        )),
        Err(e) => Err(StoreError::Database(e.to_string())),
    }
}

/// Refuses a batch that records a code which already has a current value.
pub fn check_codes_free(observations: &[NewObservation], taken: &[String]) -> StoreResult<()> {
    match observations
        .iter()
        .enumerate()
        .find(|(_, o)| taken.contains(&o.code))
    {
        Some((i, o)) => Err(StoreError::conflict(
            format!("observations[{i}].code"),
            format!(
                "'{}' already has a value on this assessment; correct that observation instead",
                o.code
            ),
        )),
        None => Ok(()),
    }
}

/// The stored form of a newly recorded observation.
pub fn new_observation(
    assessment: AssessmentId,
    o: &NewObservation,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Observation {
    Observation {
        id: ObservationId::new(),
        assessment_id: assessment,
        code: o.code.clone(),
        value: o.value.clone(),
        unit: o.unit.clone(),
        observed_at: o.observed_at,
        recorded_by: actor.0.clone(),
        recorded_at: now,
        supersedes: None,
        superseded_by: None,
        correction_reason: None,
    }
}

/// The observation that corrects `old`, or a conflict when `old` is already
/// history or the correction is for another code.
pub fn correcting_observation(
    old: &Observation,
    correction: &Correction,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<Observation> {
    if let Some(newer) = old.superseded_by {
        return Err(StoreError::conflict(
            "id",
            format!("this observation was already corrected by {newer}; correct that one"),
        ));
    }
    if correction.replacement.code != old.code {
        return Err(StoreError::conflict("code", "a correction keeps the code"));
    }
    let mut new = new_observation(old.assessment_id, &correction.replacement, actor, now);
    new.supersedes = Some(old.id);
    new.correction_reason = Some(correction.reason.clone());
    Ok(new)
}

/// The time recorded in an audit entry: to the microsecond, the precision
/// both backends store, so the hash recomputed from a stored entry matches.
pub fn audit_time(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    now.trunc_subsecs(6)
}

/// Names the record an audit event is about.
pub trait WithEntityId {
    /// The same event, about record `id`.
    fn with_entity_id(&self, id: impl std::fmt::Display) -> AuditEvent;
}

impl WithEntityId for AuditEvent {
    fn with_entity_id(&self, id: impl std::fmt::Display) -> AuditEvent {
        AuditEvent {
            entity_id: Some(id.to_string()),
            ..self.clone()
        }
    }
}
