//! Row decoding of vaccination records, for both backends.

use super::{damaged, get};
use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::ids::{AssessmentId, MigrantId, SiteId};
use mhis_domain::vaccination::{NewVaccination, Vaccination, VaccinationId, VaccinationStatus};
use mhis_store::{StoreError, StoreResult};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

/// The columns of `vaccinations` that [`vaccination_from_row`] reads, in
/// the order the backends insert them.
pub const VACCINATION_COLUMNS: &str = "id, migrant_id, assessment_id, site_id, vaccine, \
    given_on, status, lot_number, dose_number, recorded_by, version, recorded_at, updated_at";

row_fn! {
    /// Reads a vaccination.
    fn vaccination_from_row(row) -> Vaccination {
        let dose: Option<i64> = get(row, "dose_number")?;
        Ok(Vaccination {
            id: VaccinationId(get(row, "id")?),
            content: NewVaccination {
                migrant_id: MigrantId(get(row, "migrant_id")?),
                assessment_id: get::<Option<Uuid>, _>(row, "assessment_id")?.map(AssessmentId),
                site_id: SiteId(get(row, "site_id")?),
                vaccine: get(row, "vaccine")?,
                date: get(row, "given_on")?,
                status: VaccinationStatus::parse("status", &get::<String, _>(row, "status")?)
                    .map_err(damaged)?,
                lot_number: get(row, "lot_number")?,
                dose_number: dose
                    .map(u32::try_from)
                    .transpose()
                    .map_err(|e| StoreError::Database(format!("dose_number: {e}")))?,
            },
            recorded_by: get(row, "recorded_by")?,
            version: get(row, "version")?,
            recorded_at: get(row, "recorded_at")?,
            updated_at: get(row, "updated_at")?,
        })
    }
}
