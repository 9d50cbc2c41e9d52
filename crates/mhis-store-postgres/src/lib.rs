//! The PostgreSQL implementation of the mhis [`Store`], for a national or
//! regional server where many sites write to one database.
//!
//! It keeps the same columns as the SQLite store (so one row decoder serves
//! both) but with PostgreSQL's own types: `uuid`, `timestamptz`, `date`,
//! `boolean`. This crate is used through `mhis_store::Store` only.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::access::{Scope, User};
use mhis_domain::assessment::{Assessment, AssessmentStatus, NewAssessment};
use mhis_domain::audit::{AuditEntry, AuditEvent, next_entry};
use mhis_domain::finalisation::Finalisation;
use mhis_domain::ids::{AssessmentId, MigrantId, ObservationId, SiteId, TokenId, UserId};
use mhis_domain::migrant::{Migrant, MigrantDetails};
use mhis_domain::observation::{Correction, NewObservation, Observation};
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::site::{NewSite, Site};
use mhis_domain::vocabulary::Vocabulary;
use mhis_store::{
    Actor, ApiToken, AssessmentFilter, AuditFilter, DuplicateCandidate, MigrantQuery, Session,
    Store, StoreError, StoreResult, StoredCertificate, StoredKey, UserLogin, WithEntityId,
    value_to_stored,
};
use mhis_store_sql::{
    ASSESSMENT_COLUMNS, AUDIT_COLUMNS, CERTIFICATE_COLUMNS, MIGRANT_COLUMNS, OBSERVATION_COLUMNS,
    SITE_COLUMNS, USER_COLUMNS, assessment_from_row, audit_from_row, certificate_from_row, db_err,
    migrant_from_row, observation_from_row, site_from_row, user_from_row,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

mod federation;
mod import;
mod indicators;
mod mhpss;
mod training;
mod vaccination;

/// The advisory lock key that serialises audit appends ("mhis" in ASCII).
const AUDIT_LOCK: i64 = 0x6d68_6973;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    vocabulary: Arc<Vocabulary>,
}

impl PgStore {
    /// Connects to the database at a `postgres://` URL.
    pub async fn connect(url: &str, vocabulary: Arc<Vocabulary>) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(db_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(Self { pool, vocabulary })
    }

    async fn migrant_by_id(
        &self,
        executor: impl sqlx::PgExecutor<'_>,
        id: Uuid,
    ) -> StoreResult<Migrant> {
        let sql = format!("SELECT {MIGRANT_COLUMNS} FROM migrants WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(executor)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { entity: "migrant" })?;
        migrant_from_row(&row)
    }
}

/// Appends an audit entry inside the caller's transaction, chained to the
/// last one. A transaction-scoped advisory lock serialises appends, so two
/// transactions never chain to the same predecessor; it is held until the
/// caller commits.
async fn insert_audit(
    conn: &mut PgConnection,
    event: &AuditEvent,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    let previous = match &last {
        Some(row) => Some((
            row.try_get::<i64, _>(0).map_err(db_err)?,
            row.try_get::<String, _>(1).map_err(db_err)?,
        )),
        None => None,
    };
    let entry = next_entry(
        previous.as_ref().map(|(seq, hash)| (*seq, hash.as_str())),
        mhis_store::audit_time(now),
        event.clone(),
    );
    sqlx::query(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(entry.seq)
    .bind(entry.at)
    .bind(&entry.event.actor)
    .bind(&entry.event.action)
    .bind(&entry.event.entity)
    .bind(&entry.event.entity_id)
    .bind(&entry.event.origin)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The sites of a user.
async fn user_sites(conn: impl sqlx::PgExecutor<'_>, id: Uuid) -> StoreResult<Vec<SiteId>> {
    let rows = sqlx::query("SELECT site_id FROM user_sites WHERE user_id = $1 ORDER BY site_id")
        .bind(id)
        .fetch_all(conn)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| r.try_get::<Uuid, _>(0).map(SiteId).map_err(db_err))
        .collect()
}

/// Binds the columns of a migrant's details in the order of
/// `MIGRANT_DETAIL_COLUMNS`.
fn bind_details<'q>(
    q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    d: &'q MigrantDetails,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    q.bind(&d.family_name)
        .bind(&d.given_names)
        .bind(&d.family_name_latin)
        .bind(&d.given_names_latin)
        .bind(d.search_key())
        .bind(d.sex.as_str())
        .bind(d.birth_date.to_string())
        .bind(d.birth_date.earliest())
        .bind(d.birth_date.latest())
        .bind(d.nationality.as_str())
        .bind(d.document.as_ref().map(|x| x.kind.as_str()))
        .bind(d.document.as_ref().map(|x| x.number.as_str()))
        .bind(d.document.as_ref().map(|x| x.issuing_country.as_str()))
        .bind(d.phone.as_ref().map(|x| x.as_str()))
        .bind(d.preferred_language.as_ref().map(|x| x.as_str()))
}

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(e.to_string()))
    }

    async fn create_site(&self, site: &NewSite, audit: &AuditEvent) -> StoreResult<Site> {
        let id = SiteId::new();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let result = sqlx::query(
            "INSERT INTO sites (id, code, kind, country, name) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(id.0)
        .bind(site.code.as_str())
        .bind(site.kind.as_str())
        .bind(site.country.as_str())
        .bind(&site.name)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::conflict(
                "code",
                format!("site code '{}' is already taken", site.code.as_str()),
            ));
        }
        insert_audit(&mut tx, &audit.with_entity_id(id), chrono::Utc::now()).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Site {
            id,
            code: site.code.clone(),
            kind: site.kind,
            country: site.country,
            name: site.name.clone(),
        })
    }

    async fn list_sites(&self) -> StoreResult<Vec<Site>> {
        let rows = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY code"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(site_from_row).collect()
    }

    async fn get_site(&self, id: SiteId) -> StoreResult<Site> {
        let row = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { entity: "site" })?;
        site_from_row(&row)
    }

    async fn create_migrant(
        &self,
        site: SiteId,
        details: &MigrantDetails,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<(Migrant, Vec<DuplicateCandidate>)> {
        let duplicates = self.find_duplicates(details, None).await?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let counter = sqlx::query(
            "UPDATE sites SET next_registration = next_registration + 1 WHERE id = $1 \
             RETURNING code, next_registration - 1",
        )
        .bind(site.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::MissingReference {
            field: "site_id",
            entity: "site",
        })?;
        let code: String = counter.try_get(0).map_err(db_err)?;
        let number: i64 = counter.try_get(1).map_err(db_err)?;
        let id = MigrantId::new();
        let registration_number = format!("{code}-{number:06}");
        let q = sqlx::query(
            "INSERT INTO migrants (id, registration_number, registered_at, family_name, \
             given_names, family_name_latin, given_names_latin, name_key, sex, birth_date, \
             birth_earliest, birth_latest, nationality, document_kind, document_number, \
             document_country, phone, preferred_language, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1, $19, $20)",
        )
        .bind(id.0)
        .bind(&registration_number)
        .bind(site.0);
        bind_details(q, details)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(id), now).await?;
        tx.commit().await.map_err(db_err)?;
        let migrant = Migrant {
            id,
            registration_number,
            registered_at: site,
            details: details.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        Ok((migrant, duplicates))
    }

    async fn get_migrant(&self, id: MigrantId) -> StoreResult<Migrant> {
        self.migrant_by_id(&self.pool, id.0).await
    }

    async fn update_migrant(
        &self,
        id: MigrantId,
        version: i64,
        details: &MigrantDetails,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Migrant> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let q = sqlx::query(
            "UPDATE migrants SET family_name = $1, given_names = $2, family_name_latin = $3, \
             given_names_latin = $4, name_key = $5, sex = $6, birth_date = $7, birth_earliest = $8, \
             birth_latest = $9, nationality = $10, document_kind = $11, document_number = $12, \
             document_country = $13, phone = $14, preferred_language = $15, version = version + 1, \
             updated_at = $16 WHERE id = $17 AND version = $18",
        );
        let done = bind_details(q, details)
            .bind(now)
            .bind(id.0)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            // Tell a missing record from a stale version.
            let current = self.migrant_by_id(&mut *tx, id.0).await?;
            return Err(StoreError::conflict(
                "version",
                format!(
                    "the record was changed by someone else (version {} is current, not {version}); reload it and apply the change again",
                    current.version
                ),
            ));
        }
        let migrant = self.migrant_by_id(&mut *tx, id.0).await?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(migrant)
    }

    async fn search_migrants(
        &self,
        query: &MigrantQuery,
        page: PageRequest,
    ) -> StoreResult<Page<Migrant>> {
        paged(
            &self.pool,
            MIGRANT_COLUMNS,
            "migrants",
            "id DESC",
            |qb| push_migrant_filter(qb, query),
            page,
            migrant_from_row,
        )
        .await
    }

    async fn find_duplicates(
        &self,
        details: &MigrantDetails,
        exclude: Option<MigrantId>,
    ) -> StoreResult<Vec<DuplicateCandidate>> {
        let sql = format!(
            "SELECT {MIGRANT_COLUMNS} FROM migrants \
             WHERE (document_number = $1 AND document_country = $2) \
                OR (name_key = $3 AND birth_earliest <= $4 AND birth_latest >= $5) \
             ORDER BY id DESC LIMIT 20"
        );
        let doc = details.document.as_ref();
        let rows = sqlx::query(&sql)
            .bind(doc.map(|d| d.number.as_str()))
            .bind(doc.map(|d| d.issuing_country.as_str()))
            .bind(details.search_key())
            .bind(details.birth_date.latest())
            .bind(details.birth_date.earliest())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut found = Vec::new();
        for row in &rows {
            let migrant = migrant_from_row(row)?;
            if Some(migrant.id) != exclude {
                found.push(mhis_store::duplicate_candidate(details, migrant));
            }
        }
        Ok(found)
    }

    async fn create_assessment(
        &self,
        a: &NewAssessment,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Assessment> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
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
                .fetch_optional(&mut *tx)
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
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(id), now).await?;
        tx.commit().await.map_err(db_err)?;
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

    async fn get_assessment(&self, id: AssessmentId) -> StoreResult<Assessment> {
        let row = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} FROM assessments WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound {
            entity: "assessment",
        })?;
        assessment_from_row(&row)
    }

    async fn list_assessments(
        &self,
        filter: &AssessmentFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Assessment>> {
        let push_filter = |qb: &mut QueryBuilder<Postgres>| {
            if let Some(m) = filter.migrant_id {
                qb.push(" AND migrant_id = ").push_bind(m.0);
            }
            if let Some(sites) = &filter.sites {
                push_site_filter(qb, "site_id", sites);
            }
            if let Some(s) = filter.status {
                qb.push(" AND status = ").push_bind(s.as_str());
            }
        };
        paged(
            &self.pool,
            ASSESSMENT_COLUMNS,
            "assessments",
            "id DESC",
            push_filter,
            page,
            assessment_from_row,
        )
        .await
    }

    async fn set_progress(&self, id: AssessmentId, status: AssessmentStatus) -> StoreResult<()> {
        if status == AssessmentStatus::Finalised {
            return Err(StoreError::conflict(
                "status",
                "finalise through finalise_assessment",
            ));
        }
        sqlx::query("UPDATE assessments SET status = $1 WHERE id = $2 AND status <> 'finalised'")
            .bind(status.as_str())
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn finalise_assessment(
        &self,
        id: AssessmentId,
        finalisation: &Finalisation,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Assessment> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE assessments SET status = 'finalised', final_outcome = $1, engine_outcome = $2, final_reason = $3, finalised_by = $4, finalised_at = $5, updated_at = $6 WHERE id = $7 AND status <> 'finalised'",
        )
        .bind(finalisation.final_outcome.as_str())
        .bind(finalisation.engine_outcome.as_str())
        .bind(&finalisation.reason)
        .bind(by)
        .bind(now)
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let row = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} FROM assessments WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound {
            entity: "assessment",
        })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::conflict(
                "status",
                "the assessment is already finalised; amend it to change it",
            ));
        }
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await.map_err(db_err)?;
        assessment_from_row(&row)
    }

    async fn amend_assessment(
        &self,
        id: AssessmentId,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Assessment> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let current = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} FROM assessments WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound {
            entity: "assessment",
        })
        .and_then(|row| assessment_from_row(&row))?;
        let Some(previous) = current
            .final_outcome
            .filter(|_| current.status == AssessmentStatus::Finalised)
        else {
            return Err(StoreError::conflict(
                "status",
                "only a finalised assessment can be amended",
            ));
        };
        sqlx::query(
            "INSERT INTO assessment_amendments (id, assessment_id, reason, previous_outcome, amended_by, amended_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(id.0)
        .bind(reason)
        .bind(&previous)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE assessments SET status = 'open', final_outcome = NULL, engine_outcome = NULL, final_reason = NULL, finalised_by = NULL, finalised_at = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, audit, now).await?;
        let row = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} FROM assessments WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        assessment_from_row(&row)
    }

    async fn record_observations(
        &self,
        assessment: AssessmentId,
        observations: &[NewObservation],
        actor: &Actor,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Vec<Observation>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Touch the assessment only if it still accepts results; this is
        // also the check that it exists and is not finalised.
        let touched = sqlx::query(
            "UPDATE assessments SET updated_at = $1 WHERE id = $2 AND status <> 'finalised'",
        )
        .bind(now)
        .bind(assessment.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if touched.rows_affected() == 0 {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM assessments WHERE id = $1")
                    .bind(assessment.0)
                    .fetch_optional(&mut *tx)
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
            .fetch_all(&mut *tx)
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
        let mut insert = QueryBuilder::<Postgres>::new(format!(
            "INSERT INTO observations ({OBSERVATION_COLUMNS}) "
        ));
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
        insert.build().execute(&mut *tx).await.map_err(db_err)?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    async fn correct_observation(
        &self,
        id: ObservationId,
        correction: &Correction,
        actor: &Actor,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Observation> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let sql = format!("SELECT {OBSERVATION_COLUMNS} FROM observations WHERE id = $1");
        let old = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound {
                entity: "observation",
            })
            .and_then(|row| observation_from_row(&row, &self.vocabulary))?;
        let status: String = sqlx::query("SELECT status FROM assessments WHERE id = $1")
            .bind(old.assessment_id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?
            .try_get(0)
            .map_err(db_err)?;
        mhis_store::check_accepts_results(&status)?;
        let new = mhis_store::correcting_observation(&old, correction, actor, now)?;
        // Link first: the unique index allows one current row per code, and
        // the deferred foreign key lets the link name the row inserted next.
        sqlx::query(
            "UPDATE observations SET superseded_by = $1 WHERE id = $2 AND superseded_by IS NULL",
        )
        .bind(new.id.0)
        .bind(old.id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO observations ({OBSERVATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(new.id.0)
        .bind(new.assessment_id.0)
        .bind(new.code.as_str())
        .bind(value_to_stored(&new.value))
        .bind(new.unit.as_deref())
        .bind(new.observed_at)
        .bind(new.recorded_by.as_str())
        .bind(new.recorded_at)
        .bind(old.id.0)
        .bind(None::<Uuid>)
        .bind(new.correction_reason.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE assessments SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(old.assessment_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(new.id), now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(new)
    }

    async fn get_observation(&self, id: ObservationId) -> StoreResult<Observation> {
        let sql = format!("SELECT {OBSERVATION_COLUMNS} FROM observations WHERE id = $1");
        sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound {
                entity: "observation",
            })
            .and_then(|row| observation_from_row(&row, &self.vocabulary))
    }

    async fn list_observations(
        &self,
        assessment: AssessmentId,
        include_history: bool,
    ) -> StoreResult<Vec<Observation>> {
        let sql = format!(
            "SELECT {OBSERVATION_COLUMNS} FROM observations WHERE assessment_id = $1 {} ORDER BY id",
            if include_history {
                ""
            } else {
                "AND superseded_by IS NULL"
            }
        );
        sqlx::query(&sql)
            .bind(assessment.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| observation_from_row(row, &self.vocabulary))
            .collect()
    }

    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, display_name, role, national, language, \
             password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (username) DO NOTHING",
        )
        .bind(user.id.0)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(matches!(user.scope, Scope::National))
        .bind(&user.language)
        .bind(password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::conflict(
                "username",
                format!("the user name '{}' is taken", user.username),
            ));
        }
        if let Scope::Sites(sites) = &user.scope {
            for site in sites {
                let exists = sqlx::query("SELECT 1 FROM sites WHERE id = $1")
                    .bind(site.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if exists.is_none() {
                    return Err(StoreError::MissingReference {
                        field: "sites",
                        entity: "site",
                    });
                }
                sqlx::query("INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)")
                    .bind(user.id.0)
                    .bind(site.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
        }
        insert_audit(&mut tx, &audit.with_entity_id(user.id), now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn find_user_login(&self, username: &str) -> StoreResult<Option<UserLogin>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash, failed_logins, locked_until \
             FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let id: Uuid = row.try_get("id").map_err(db_err)?;
        let sites = user_sites(&self.pool, id).await?;
        Ok(Some(UserLogin {
            user: user_from_row(&row, sites)?,
            password_hash: row.try_get("password_hash").map_err(db_err)?,
            failed_logins: row.try_get("failed_logins").map_err(db_err)?,
            locked_until: row.try_get("locked_until").map_err(db_err)?,
        }))
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { entity: "user" })?;
        let sites = user_sites(&self.pool, id.0).await?;
        user_from_row(&row, sites)
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(db_err)?;
            users.push(user_from_row(row, user_sites(&self.pool, id).await?)?);
        }
        Ok(users)
    }

    async fn record_login_failure(
        &self,
        id: UserId,
        lock_until: Option<DateTime<Utc>>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1, \
             locked_until = COALESCE($1, locked_until) WHERE id = $2",
        )
        .bind(lock_until)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, audit, chrono::Utc::now()).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn record_login_success(&self, id: UserId, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_audit(&mut tx, audit, chrono::Utc::now()).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn create_token(
        &self,
        token: &ApiToken,
        token_hash: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id.0)
        .bind(token.user_id.0)
        .bind(&token.name)
        .bind(token_hash)
        .bind(token.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(token.id), token.created_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<(ApiToken, User)>> {
        // One query on the hot path of every API request: the token, its
        // user, and the user's sites (one row per site).
        let rows = sqlx::query(
            "SELECT u.id AS id, u.username AS username, u.display_name AS display_name, u.role AS role, u.national AS national, u.language AS language, t.id AS token_id, t.name AS token_name, t.created_at AS token_created_at, us.site_id AS site_id FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN user_sites us ON us.user_id = u.id WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let sites = rows
            .iter()
            .filter_map(|r| r.try_get::<Option<Uuid>, _>("site_id").ok().flatten())
            .map(SiteId)
            .collect();
        let user = user_from_row(first, sites)?;
        let token = ApiToken {
            id: TokenId(first.try_get("token_id").map_err(db_err)?),
            user_id: user.id,
            name: first.try_get("token_name").map_err(db_err)?,
            created_at: first.try_get("token_created_at").map_err(db_err)?,
            revoked_at: None,
        };
        Ok(Some((token, user)))
    }

    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        sqlx::query(
            "SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            Ok(ApiToken {
                id: TokenId(row.try_get("id").map_err(db_err)?),
                user_id: UserId(row.try_get("user_id").map_err(db_err)?),
                name: row.try_get("name").map_err(db_err)?,
                created_at: row.try_get("created_at").map_err(db_err)?,
                revoked_at: row.try_get("revoked_at").map_err(db_err)?,
            })
        })
        .collect()
    }

    async fn revoke_token(
        &self,
        id: TokenId,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "token" });
        }
        insert_audit(&mut tx, &audit.with_entity_id(id), now).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn create_session(&self, session: &Session, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id.0)
        .bind(&session.csrf_token)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, audit, session.created_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Session, User)>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let session = Session {
            token_hash: row.try_get("token_hash").map_err(db_err)?,
            user_id: UserId(row.try_get("user_id").map_err(db_err)?),
            csrf_token: row.try_get("csrf_token").map_err(db_err)?,
            created_at: row.try_get("created_at").map_err(db_err)?,
            expires_at: row.try_get("expires_at").map_err(db_err)?,
        };
        let user = self.get_user(session.user_id).await?;
        Ok(Some((session, user)))
    }

    async fn delete_session(&self, token_hash: &str, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_audit(&mut tx, audit, chrono::Utc::now()).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn add_signing_key(&self, key: &StoredKey, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "UPDATE signing_keys SET retired_at = $1 WHERE site_id = $2 AND retired_at IS NULL",
        )
        .bind(key.created_at)
        .bind(key.site_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, site_id, public_key, private_key_sealed, valid_from, valid_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(key.site_id.0)
        .bind(&key.public_key)
        .bind(&key.private_key_sealed)
        .bind(key.valid_from)
        .bind(key.valid_until)
        .bind(key.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(&key.kid), key.created_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn signing_keys(&self, site: Option<SiteId>) -> StoreResult<Vec<StoredKey>> {
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT kid, site_id, public_key, private_key_sealed, valid_from, valid_until, retired_at, created_at FROM signing_keys WHERE 1 = 1",
        );
        if let Some(site) = site {
            qb.push(" AND site_id = ").push_bind(site.0);
        }
        qb.push(" ORDER BY created_at DESC");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(StoredKey {
                    kid: row.try_get("kid").map_err(db_err)?,
                    site_id: SiteId(row.try_get("site_id").map_err(db_err)?),
                    public_key: row.try_get("public_key").map_err(db_err)?,
                    private_key_sealed: row.try_get("private_key_sealed").map_err(db_err)?,
                    valid_from: row.try_get("valid_from").map_err(db_err)?,
                    valid_until: row.try_get("valid_until").map_err(db_err)?,
                    retired_at: row.try_get("retired_at").map_err(db_err)?,
                    created_at: row.try_get("created_at").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn add_certificate(&self, c: &StoredCertificate, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO certificates (id, assessment_id, site_id, country, kid, payload, qr_text, issued_at, valid_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&c.id)
        .bind(c.assessment_id.0)
        .bind(c.site_id.0)
        .bind(&c.country)
        .bind(&c.kid)
        .bind(&c.payload)
        .bind(&c.qr_text)
        .bind(c.issued_at)
        .bind(c.valid_until)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(&c.id), c.issued_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_certificate(&self, id: &str) -> StoreResult<StoredCertificate> {
        let row = sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound {
            entity: "certificate",
        })?;
        certificate_from_row(&row)
    }

    async fn certificates_of(
        &self,
        assessment: AssessmentId,
    ) -> StoreResult<Vec<StoredCertificate>> {
        sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE assessment_id = $1 ORDER BY issued_at DESC"
        ))
        .bind(assessment.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(certificate_from_row)
        .collect()
    }

    async fn revoke_certificate(
        &self,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE certificates SET revoked_at = $1, revocation_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM certificates WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            return Err(match exists {
                Some(_) => StoreError::conflict("id", "the certificate is already revoked"),
                None => StoreError::NotFound {
                    entity: "certificate",
                },
            });
        }
        insert_audit(&mut tx, &audit.with_entity_id(id), now).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn revoked_certificates(&self) -> StoreResult<Vec<(String, String)>> {
        sqlx::query("SELECT country, id FROM certificates WHERE revoked_at IS NOT NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok((r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?)))
            .collect()
    }

    async fn add_trust_document(
        &self,
        kind: &str,
        issuer: &str,
        issued_at: DateTime<Utc>,
        signed: &[u8],
        anchor: &[u8],
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let now = chrono::Utc::now();
        sqlx::query(
            "INSERT INTO trust_documents (kind, issuer, issued_at, signed, imported_at, anchor) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(kind)
        .bind(issuer)
        .bind(issued_at)
        .bind(signed)
        .bind(now)
        .bind(anchor)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn latest_trust_document(&self, kind: &str) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT signed, anchor FROM trust_documents WHERE kind = $1 \
             ORDER BY issued_at DESC, id DESC LIMIT 1",
        )
        .bind(kind)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| {
            let anchor: Option<Vec<u8>> = r.try_get(1).map_err(db_err)?;
            Ok((r.try_get(0).map_err(db_err)?, anchor.unwrap_or_default()))
        })
        .transpose()
    }

    async fn append_audit(&self, event: &AuditEvent, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        insert_audit(&mut tx, event, now).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        let push_filter = |qb: &mut QueryBuilder<Postgres>| {
            if let Some(actor) = &filter.actor {
                qb.push(" AND actor = ").push_bind(actor.clone());
            }
            if let Some(prefix) = &filter.action_prefix {
                qb.push(" AND substr(action, 1, length(")
                    .push_bind(prefix.clone())
                    .push(")) = ")
                    .push_bind(prefix.clone());
            }
            if let Some(id) = &filter.entity_id {
                qb.push(" AND entity_id = ").push_bind(id.clone());
            }
        };
        paged(
            &self.pool,
            AUDIT_COLUMNS,
            "audit_log",
            "seq DESC",
            push_filter,
            page,
            audit_from_row,
        )
        .await
    }

    async fn audit_chain(&self) -> StoreResult<Vec<AuditEntry>> {
        sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(audit_from_row)
        .collect()
    }
}

/// One page of rows and the total count, with the same filter on both
/// queries: `SELECT columns FROM table WHERE 1 = 1 <filter> ORDER BY order`.
async fn paged<T>(
    pool: &PgPool,
    columns: &str,
    table: &str,
    order: &str,
    filter: impl Fn(&mut QueryBuilder<'_, Postgres>),
    page: PageRequest,
    decode: impl Fn(&sqlx::postgres::PgRow) -> StoreResult<T>,
) -> StoreResult<Page<T>> {
    let mut count =
        QueryBuilder::<Postgres>::new(format!("SELECT COUNT(*) FROM {table} WHERE 1 = 1"));
    filter(&mut count);
    let total: i64 = count
        .build()
        .fetch_one(pool)
        .await
        .map_err(db_err)?
        .try_get(0)
        .map_err(db_err)?;
    let mut select =
        QueryBuilder::<Postgres>::new(format!("SELECT {columns} FROM {table} WHERE 1 = 1"));
    filter(&mut select);
    select
        .push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(i64::from(page.per_page()))
        .push(" OFFSET ")
        .push_bind(page.offset() as i64);
    let rows = select.build().fetch_all(pool).await.map_err(db_err)?;
    Ok(Page {
        items: rows.iter().map(decode).collect::<StoreResult<_>>()?,
        page: page.page(),
        per_page: page.per_page(),
        total: total as u64,
    })
}

/// `AND column IN (sites)`; an empty list matches nothing (a user with no
/// visible site sees no records).
fn push_site_filter(qb: &mut QueryBuilder<'_, Postgres>, column: &str, sites: &[SiteId]) {
    qb.push(format!(" AND {column} IN ("));
    if sites.is_empty() {
        qb.push("NULL");
    }
    let mut sep = qb.separated(", ");
    for s in sites {
        sep.push_bind(s.0);
    }
    qb.push(")");
}

fn push_migrant_filter(qb: &mut QueryBuilder<'_, Postgres>, query: &MigrantQuery) {
    for token in &query.name_tokens {
        // Keys hold only upper-case letters and single spaces, so a token
        // cannot carry LIKE wildcards.
        qb.push(" AND (' ' || name_key) LIKE ")
            .push_bind(format!("% {token}%"));
    }
    if let Some(number) = &query.document_number {
        qb.push(" AND document_number = ").push_bind(number.clone());
    }
    if let Some(date) = &query.birth_date {
        qb.push(" AND birth_earliest <= ")
            .push_bind(date.latest())
            .push(" AND birth_latest >= ")
            .push_bind(date.earliest());
    }
    if let Some(sites) = &query.sites {
        push_site_filter(qb, "registered_at", sites);
    }
}
