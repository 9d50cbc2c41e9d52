//! Storage of vaccination records (FHIR `Immunization`).
//!
//! **Invariants** (each backend keeps them): a vaccination names a stored
//! migrant and site, and an assessment only of that migrant
//! ([`crate::StoreError::MissingReference`] otherwise); an update is a
//! compare-and-set on the version read (a conflict on `version` otherwise)
//! and keeps who first recorded it; every write is audited in its
//! transaction.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::MigrantId;
use mhis_domain::vaccination::{NewVaccination, Vaccination, VaccinationId};

/// Vaccination records.
#[async_trait]
pub trait VaccinationStore: Send + Sync {
    /// Records a vaccination by `by` (a user name), version 1.
    async fn record_vaccination(
        &self,
        vaccination: &NewVaccination,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Vaccination>;
    /// Replaces a vaccination's content if the stored version is `version`.
    async fn update_vaccination(
        &self,
        id: VaccinationId,
        version: i64,
        vaccination: &NewVaccination,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Vaccination>;
    /// One vaccination.
    async fn get_vaccination(&self, id: VaccinationId) -> StoreResult<Vaccination>;
    /// Every vaccination of a migrant, by date then id.
    async fn vaccinations_of(&self, migrant: MigrantId) -> StoreResult<Vec<Vaccination>>;
}
