//! PostgreSQL storage of multi-record imports and bulk registration (the
//! `ImportStore` half of the store): everything of one call in one
//! transaction.

use super::{PgStore, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::assessment::{Assessment, AssessmentStatus, NewAssessment};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::{AssessmentId, MigrantId, SiteId};
use mhis_domain::migrant::{Migrant, MigrantDetails};
use mhis_domain::observation::{NewObservation, Observation};
use mhis_store::{
    Actor, AssessmentSlot, Import, ImportStore, Imported, MigrantSlot, StoreError, StoreResult,
    WithEntityId, value_to_stored,
};
use mhis_store_sql::{OBSERVATION_COLUMNS, db_err};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use uuid::Uuid;

/// Rows per multi-row INSERT of migrants (21 values a row stays under
/// PostgreSQL's 65,535 bound parameters).
const ROWS_PER_INSERT: usize = 1_000;

const MIGRANT_INSERT: &str = "INSERT INTO migrants (id, registration_number, registered_at, \
     family_name, given_names, family_name_latin, given_names_latin, name_key, sex, birth_date, \
     birth_earliest, birth_latest, nationality, document_kind, document_number, \
     document_country, phone, preferred_language, version, created_at, updated_at) ";

/// Takes `n` registration numbers from a site's counter: its code and the
/// first number.
async fn take_numbers(conn: &mut PgConnection, site: SiteId, n: i64) -> StoreResult<(String, i64)> {
    let row = sqlx::query(
        "UPDATE sites SET next_registration = next_registration + $1 WHERE id = $2 \
         RETURNING code, next_registration - $1",
    )
    .bind(n)
    .bind(site.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::MissingReference {
        field: "site_id",
        entity: "site",
    })?;
    Ok((
        row.try_get(0).map_err(db_err)?,
        row.try_get(1).map_err(db_err)?,
    ))
}

/// Inserts migrants registered at `site` with the given ids and numbers.
async fn insert_migrants(
    conn: &mut PgConnection,
    site: SiteId,
    rows: &[(MigrantId, String, &MigrantDetails)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Postgres>::new(MIGRANT_INSERT);
        qb.push_values(chunk, |mut b, (id, number, d)| {
            b.push_bind(id.0)
                .push_bind(number.clone())
                .push_bind(site.0)
                .push_bind(d.family_name.clone())
                .push_bind(d.given_names.clone())
                .push_bind(d.family_name_latin.clone())
                .push_bind(d.given_names_latin.clone())
                .push_bind(d.search_key())
                .push_bind(d.sex.as_str())
                .push_bind(d.birth_date.to_string())
                .push_bind(d.birth_date.earliest())
                .push_bind(d.birth_date.latest())
                .push_bind(d.nationality.as_str().to_owned())
                .push_bind(d.document.as_ref().map(|x| x.kind.as_str()))
                .push_bind(d.document.as_ref().map(|x| x.number.clone()))
                .push_bind(
                    d.document
                        .as_ref()
                        .map(|x| x.issuing_country.as_str().to_owned()),
                )
                .push_bind(d.phone.as_ref().map(|x| x.as_str().to_owned()))
                .push_bind(d.preferred_language.as_ref().map(|x| x.as_str().to_owned()))
                .push_bind(1_i64)
                .push_bind(now)
                .push_bind(now);
        });
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// Registers one migrant inside the caller's transaction.
async fn register(
    conn: &mut PgConnection,
    site: SiteId,
    details: &MigrantDetails,
    now: DateTime<Utc>,
) -> StoreResult<Migrant> {
    let (code, number) = take_numbers(conn, site, 1).await?;
    let id = MigrantId::new();
    let registration_number = format!("{code}-{number:06}");
    insert_migrants(
        conn,
        site,
        &[(id, registration_number.clone(), details)],
        now,
    )
    .await?;
    Ok(Migrant {
        id,
        registration_number,
        registered_at: site,
        details: details.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// Opens one assessment inside the caller's transaction.
async fn open(
    conn: &mut PgConnection,
    a: &NewAssessment,
    now: DateTime<Utc>,
) -> StoreResult<Assessment> {
    for (field, entity, sql, id) in [
        (
            "migrant_id",
            "migrant",
            "SELECT 1 FROM migrants WHERE id = $1",
            a.migrant_id.0,
        ),
        (
            "site_id",
            "site",
            "SELECT 1 FROM sites WHERE id = $1",
            a.site_id.0,
        ),
    ] {
        let exists = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::MissingReference { field, entity });
        }
    }
    let id = AssessmentId::new();
    sqlx::query(
        "INSERT INTO assessments (id, migrant_id, site_id, purpose, destination, protocol, \
         status, assessment_date, opened_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id.0)
    .bind(a.migrant_id.0)
    .bind(a.site_id.0)
    .bind(a.purpose.as_str())
    .bind(a.destination.as_str())
    .bind(a.protocol.as_str())
    .bind(AssessmentStatus::Open.as_str())
    .bind(a.assessment_date)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(Assessment {
        id,
        migrant_id: a.migrant_id,
        site_id: a.site_id,
        purpose: a.purpose,
        destination: a.destination,
        protocol: a.protocol.clone(),
        status: AssessmentStatus::Open,
        assessment_date: a.assessment_date,
        opened_at: now,
        finalised_at: None,
        updated_at: now,
        final_outcome: None,
        engine_outcome: None,
        final_reason: None,
        finalised_by: None,
    })
}

/// Records observations on an assessment inside the caller's transaction:
/// the assessment must accept results and no code may have a current value.
async fn record(
    conn: &mut PgConnection,
    assessment: AssessmentId,
    observations: &[NewObservation],
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Observation>> {
    let touched = sqlx::query(
        "UPDATE assessments SET updated_at = $1 WHERE id = $2 AND status <> 'finalised'",
    )
    .bind(now)
    .bind(assessment.0)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if touched.rows_affected() == 0 {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM assessments WHERE id = $1")
                .bind(assessment.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
        return Err(match status {
            Some(status) => match mhis_store::check_accepts_results(&status) {
                Err(e) => e,
                Ok(()) => StoreError::Database("assessment not updated".into()),
            },
            None => StoreError::NotFound {
                entity: "assessment",
            },
        });
    }
    if observations.is_empty() {
        return Ok(Vec::new());
    }
    let mut existing = QueryBuilder::<Postgres>::new(
        "SELECT code FROM observations WHERE superseded_by IS NULL AND assessment_id = ",
    );
    existing.push_bind(assessment.0).push(" AND code IN (");
    let mut sep = existing.separated(", ");
    for o in observations {
        sep.push_bind(o.code.as_str());
    }
    existing.push(")");
    let taken: Vec<String> = existing
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(db_err)?;
    mhis_store::check_codes_free(observations, &taken)?;
    let stored: Vec<Observation> = observations
        .iter()
        .map(|o| mhis_store::new_observation(assessment, o, actor, now))
        .collect();
    let mut insert =
        QueryBuilder::<Postgres>::new(format!("INSERT INTO observations ({OBSERVATION_COLUMNS}) "));
    insert.push_values(&stored, |mut b, o| {
        b.push_bind(o.id.0)
            .push_bind(o.assessment_id.0)
            .push_bind(o.code.as_str())
            .push_bind(value_to_stored(&o.value))
            .push_bind(o.unit.as_deref())
            .push_bind(o.observed_at)
            .push_bind(o.recorded_by.as_str())
            .push_bind(o.recorded_at)
            .push_bind(None::<Uuid>)
            .push_bind(None::<Uuid>)
            .push_bind(None::<String>);
    });
    insert.build().execute(&mut *conn).await.map_err(db_err)?;
    Ok(stored)
}

/// A conflict inside batch `i` named from the import's root.
fn within_batch(i: usize, e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict { field, message } => {
            StoreError::conflict(format!("batches[{i}].{field}"), message)
        }
        other => other,
    }
}

fn slot_missing(what: &str, n: usize) -> StoreError {
    StoreError::Database(format!(
        "import names new {what} {n}, which it does not hold"
    ))
}

#[async_trait]
impl ImportStore for PgStore {
    async fn import(&self, import: &Import, now: DateTime<Utc>) -> StoreResult<Imported> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let mut out = Imported::default();
        for m in &import.migrants {
            let migrant = register(&mut tx, m.site, &m.details, now).await?;
            insert_audit(&mut tx, &m.audit.with_entity_id(migrant.id), now).await?;
            out.migrants.push(migrant);
        }
        for a in &import.assessments {
            let mut new = a.assessment.clone();
            if let MigrantSlot::New(n) = a.migrant {
                new.migrant_id = out
                    .migrants
                    .get(n)
                    .ok_or_else(|| slot_missing("migrant", n))?
                    .id;
            }
            let assessment = open(&mut tx, &new, now).await?;
            insert_audit(&mut tx, &a.audit.with_entity_id(assessment.id), now).await?;
            out.assessments.push(assessment);
        }
        for (i, b) in import.batches.iter().enumerate() {
            mhis_store::check_batch_codes_unique(i, &b.observations)?;
            let id = match b.assessment {
                AssessmentSlot::Existing(id) => id,
                AssessmentSlot::New(n) => {
                    out.assessments
                        .get(n)
                        .ok_or_else(|| slot_missing("assessment", n))?
                        .id
                }
            };
            let stored = record(&mut tx, id, &b.observations, &import.actor, now)
                .await
                .map_err(|e| within_batch(i, e))?;
            insert_audit(&mut tx, &b.audit.with_entity_id(id), now).await?;
            out.observations.push(stored);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn bulk_register(
        &self,
        site: SiteId,
        people: &[MigrantDetails],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<usize> {
        if people.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let n = i64::try_from(people.len()).map_err(db_err)?;
        let (code, first) = take_numbers(&mut tx, site, n).await?;
        let rows: Vec<(MigrantId, String, &MigrantDetails)> = people
            .iter()
            .zip(first..)
            .map(|(d, number)| (MigrantId::new(), format!("{code}-{number:06}"), d))
            .collect();
        insert_migrants(&mut tx, site, &rows, now).await?;
        insert_audit(&mut tx, &audit.with_entity_id(site), now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(people.len())
    }
}
