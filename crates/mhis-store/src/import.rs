//! Writes that span many records in one transaction: the import of a FHIR
//! transaction Bundle (new or matched migrants, new assessments and their
//! observations) and the bulk registration that loads benchmark registries.
//!
//! **Invariant** (each backend keeps it; the FHIR story tests check it on
//! both): [`ImportStore::import`] writes every record and every audit entry
//! of the import in one database transaction, so any failure — a check
//! only the database can make, a constraint, a lost connection — leaves
//! nothing of the import stored.

use crate::{Actor, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::assessment::{Assessment, NewAssessment};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::{AssessmentId, MigrantId, SiteId};
use mhis_domain::migrant::{Migrant, MigrantDetails};
use mhis_domain::observation::{NewObservation, Observation};

/// A migrant an imported record is about: a stored one, or the `n`th new
/// migrant of the same [`Import`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MigrantSlot {
    /// Already stored.
    Existing(MigrantId),
    /// `Import::migrants[n]`.
    New(usize),
}

/// An assessment imported observations belong to: a stored one, or the
/// `n`th new assessment of the same [`Import`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssessmentSlot {
    /// Already stored.
    Existing(AssessmentId),
    /// `Import::assessments[n]`.
    New(usize),
}

/// A migrant to register.
#[derive(Debug, Clone)]
pub struct ImportMigrant {
    /// The registering site.
    pub site: SiteId,
    /// Who.
    pub details: MigrantDetails,
    /// Audited with the new migrant's id.
    pub audit: AuditEvent,
}

/// An assessment to open.
#[derive(Debug, Clone)]
pub struct ImportAssessment {
    /// Whose; for a new migrant, `assessment.migrant_id` is replaced by its
    /// id.
    pub migrant: MigrantSlot,
    /// What.
    pub assessment: NewAssessment,
    /// Audited with the new assessment's id.
    pub audit: AuditEvent,
}

/// Observations to record on one assessment (one code at most once, and
/// none that already has a current value there).
#[derive(Debug, Clone)]
pub struct ImportBatch {
    /// Where.
    pub assessment: AssessmentSlot,
    /// What.
    pub observations: Vec<NewObservation>,
    /// Audited with the assessment's id.
    pub audit: AuditEvent,
}

/// Everything one import writes.
#[derive(Debug, Clone)]
pub struct Import {
    /// New migrants, in order.
    pub migrants: Vec<ImportMigrant>,
    /// New assessments, in order.
    pub assessments: Vec<ImportAssessment>,
    /// Batches of observations, in order.
    pub batches: Vec<ImportBatch>,
    /// Who records the observations.
    pub actor: Actor,
}

/// What an import stored, in the order of the [`Import`]'s lists.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// One per `Import::migrants`.
    pub migrants: Vec<Migrant>,
    /// One per `Import::assessments`.
    pub assessments: Vec<Assessment>,
    /// One list per `Import::batches`.
    pub observations: Vec<Vec<Observation>>,
}

/// Multi-record writes, each in one transaction.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Registers the new migrants, opens the new assessments and records
    /// the observations, with every audit entry, all or nothing. A stored
    /// assessment must exist and accept results (otherwise not found or a
    /// conflict on `assessment_id`); a code with a current value is a
    /// conflict on `batches[i].observations[j].code`.
    async fn import(&self, import: &Import, now: DateTime<Utc>) -> StoreResult<Imported>;

    /// Registers `people` at `site` with consecutive registration numbers in
    /// one transaction, audited by one entry (`audit`, whose entity id
    /// becomes the site's) for the whole batch, and returns how many were
    /// stored. For loading large registries (benchmarks, migrations from
    /// another system); duplicates are not looked for.
    async fn bulk_register(
        &self,
        site: SiteId,
        people: &[MigrantDetails],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<usize>;
}

/// Refuses a batch recording one code twice.
pub fn check_batch_codes_unique(batch: usize, observations: &[NewObservation]) -> StoreResult<()> {
    for (j, o) in observations.iter().enumerate() {
        if observations[..j].iter().any(|p| p.code == o.code) {
            return Err(crate::StoreError::conflict(
                format!("batches[{batch}].observations[{j}].code"),
                format!("'{}' is recorded twice", o.code),
            ));
        }
    }
    Ok(())
}
