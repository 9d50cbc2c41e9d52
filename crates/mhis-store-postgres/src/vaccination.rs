//! PostgreSQL storage of vaccination records (the `VaccinationStore` half of
//! the store).

use super::{PgStore, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::MigrantId;
use mhis_domain::vaccination::{NewVaccination, Vaccination, VaccinationId};
use mhis_store::{StoreError, StoreResult, VaccinationStore, WithEntityId};
use mhis_store_sql::{VACCINATION_COLUMNS, db_err, vaccination_from_row};
use sqlx::PgConnection;

/// The migrant, site and assessment a vaccination names must exist, and
/// the assessment must be the migrant's.
async fn check_references(conn: &mut PgConnection, v: &NewVaccination) -> StoreResult<()> {
    let checks = [
        (
            "migrant_id",
            "migrant",
            "SELECT 1 FROM migrants WHERE id = $1",
            v.migrant_id.0,
        ),
        (
            "site_id",
            "site",
            "SELECT 1 FROM sites WHERE id = $1",
            v.site_id.0,
        ),
    ];
    for (field, entity, sql, id) in checks {
        if sqlx::query(sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .is_none()
        {
            return Err(StoreError::MissingReference { field, entity });
        }
    }
    if let Some(a) = v.assessment_id {
        let found = sqlx::query("SELECT 1 FROM assessments WHERE id = $1 AND migrant_id = $2")
            .bind(a.0)
            .bind(v.migrant_id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::MissingReference {
                field: "assessment_id",
                entity: "assessment",
            });
        }
    }
    Ok(())
}

async fn by_id(conn: &mut PgConnection, id: VaccinationId) -> StoreResult<Vaccination> {
    let row = sqlx::query(&format!(
        "SELECT {VACCINATION_COLUMNS} FROM vaccinations WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound {
        entity: "vaccination",
    })?;
    vaccination_from_row(&row)
}

#[async_trait]
impl VaccinationStore for PgStore {
    async fn record_vaccination(
        &self,
        v: &NewVaccination,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Vaccination> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        check_references(&mut tx, v).await?;
        let id = VaccinationId::new();
        sqlx::query(&format!(
            "INSERT INTO vaccinations ({VACCINATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12)"
        ))
        .bind(id.0)
        .bind(v.migrant_id.0)
        .bind(v.assessment_id.map(|a| a.0))
        .bind(v.site_id.0)
        .bind(&v.vaccine)
        .bind(v.date)
        .bind(v.status.as_str())
        .bind(&v.lot_number)
        .bind(v.dose_number.map(i64::from))
        .bind(by)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(id), now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Vaccination {
            id,
            content: v.clone(),
            recorded_by: by.to_owned(),
            version: 1,
            recorded_at: now,
            updated_at: now,
        })
    }

    async fn update_vaccination(
        &self,
        id: VaccinationId,
        version: i64,
        v: &NewVaccination,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Vaccination> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        check_references(&mut tx, v).await?;
        let changed = sqlx::query(
            "UPDATE vaccinations SET migrant_id = $1, assessment_id = $2, site_id = $3, \
             vaccine = $4, given_on = $5, status = $6, lot_number = $7, dose_number = $8, \
             version = version + 1, updated_at = $9 WHERE id = $10 AND version = $11",
        )
        .bind(v.migrant_id.0)
        .bind(v.assessment_id.map(|a| a.0))
        .bind(v.site_id.0)
        .bind(&v.vaccine)
        .bind(v.date)
        .bind(v.status.as_str())
        .bind(&v.lot_number)
        .bind(v.dose_number.map(i64::from))
        .bind(now)
        .bind(id.0)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if changed.rows_affected() == 0 {
            // Missing, or someone else changed it first.
            let current = by_id(&mut tx, id).await?;
            return Err(StoreError::conflict(
                "version",
                format!(
                    "the vaccination is at version {}, not {version}; read it again",
                    current.version
                ),
            ));
        }
        insert_audit(&mut tx, &audit.with_entity_id(id), now).await?;
        let stored = by_id(&mut tx, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    async fn get_vaccination(&self, id: VaccinationId) -> StoreResult<Vaccination> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        by_id(&mut conn, id).await
    }

    async fn vaccinations_of(&self, migrant: MigrantId) -> StoreResult<Vec<Vaccination>> {
        let rows = sqlx::query(&format!(
            "SELECT {VACCINATION_COLUMNS} FROM vaccinations WHERE migrant_id = $1 \
             ORDER BY given_on, id"
        ))
        .bind(migrant.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(vaccination_from_row).collect()
    }
}
