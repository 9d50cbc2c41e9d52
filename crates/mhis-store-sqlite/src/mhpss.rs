//! SQLite storage of MHPSS records: screenings, cases, counselling
//! sessions and the referrals confirmed from screenings (the `MhpssStore`
//! part of the store).

use super::{SqliteStore, insert_audit};
use crate::federation::{insert_referral, insert_timeline};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::{AssessmentId, MhpssCaseId, MigrantId, ScreeningId, SiteId};
use mhis_domain::mhpss::{CaseStatus, Closure, CounsellingSession, MhpssCase, Screening};
use mhis_domain::referral::{Referral, TimelineEntry};
use mhis_store::{MhpssStore, StoreError, StoreResult, WithEntityId};
use mhis_store_sql::mhpss::{
    CASE_COLUMNS, SCREENING_COLUMNS, SESSION_COLUMNS, case_from_row, screening_from_row,
    screening_json, session_from_row,
};
use mhis_store_sql::{REFERRAL_COLUMNS, db_err, referral_from_row};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

async fn insert_case(conn: &mut SqliteConnection, c: &MhpssCase) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO mhpss_cases ({CASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(c.id.0)
    .bind(c.migrant_id.0)
    .bind(c.site_id.0)
    .bind(c.status.as_str())
    .bind(&c.opened_by)
    .bind(c.opened_at)
    .bind(c.closed_at)
    .bind(&c.closed_by)
    .bind(c.closure_reason.map(|r| r.as_str()))
    .bind(&c.closure_note)
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::conflict(
            "case",
            "this person already has an open MHPSS case at this site",
        ),
        _ => db_err(e),
    })?;
    Ok(())
}

async fn case_by_id(conn: &mut SqliteConnection, id: MhpssCaseId) -> StoreResult<MhpssCase> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM mhpss_cases WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound { entity: "case" })?;
    case_from_row(&row)
}

/// A closed case refuses further writes.
fn require_open(case: &MhpssCase) -> StoreResult<()> {
    match case.status {
        CaseStatus::Open => Ok(()),
        CaseStatus::Closed => Err(StoreError::conflict("case", "the case is closed")),
    }
}

impl SqliteStore {
    async fn screenings_where(&self, column: &str, id: Uuid) -> StoreResult<Vec<Screening>> {
        sqlx::query(&format!(
            "SELECT {SCREENING_COLUMNS} FROM mhpss_screenings WHERE {column} = ? ORDER BY id DESC"
        ))
        .bind(id)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(screening_from_row)
        .collect()
    }
}

#[async_trait]
impl MhpssStore for SqliteStore {
    async fn create_screening(
        &self,
        s: &Screening,
        new_case: Option<&MhpssCase>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        match new_case {
            Some(case) => insert_case(&mut tx, case).await?,
            None => require_open(&case_by_id(&mut tx, s.case_id).await?)?,
        }
        let (answers, result) = screening_json(s);
        sqlx::query(&format!(
            "INSERT INTO mhpss_screenings ({SCREENING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(s.id.0)
        .bind(s.case_id.0)
        .bind(s.migrant_id.0)
        .bind(s.site_id.0)
        .bind(s.assessment_id.map(|a| a.0))
        .bind(s.context.as_str())
        .bind(&s.instrument)
        .bind(&s.version)
        .bind(answers)
        .bind(result)
        .bind(s.result.complete)
        .bind(s.result.positive)
        .bind(s.result.band.as_ref().map(|b| b.id.as_str()))
        .bind(s.has_immediate_flag())
        .bind(&s.screened_by)
        .bind(s.screened_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, &audit.with_entity_id(s.id), s.screened_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_screening(&self, id: ScreeningId) -> StoreResult<Screening> {
        self.screenings_where("id", id.0)
            .await?
            .pop()
            .ok_or(StoreError::NotFound {
                entity: "screening",
            })
    }

    async fn screenings_of_migrant(&self, migrant: MigrantId) -> StoreResult<Vec<Screening>> {
        self.screenings_where("migrant_id", migrant.0).await
    }

    async fn screenings_of_assessment(
        &self,
        assessment: AssessmentId,
    ) -> StoreResult<Vec<Screening>> {
        self.screenings_where("assessment_id", assessment.0).await
    }

    async fn screenings_of_case(&self, case: MhpssCaseId) -> StoreResult<Vec<Screening>> {
        self.screenings_where("case_id", case.0).await
    }

    async fn open_case(&self, migrant: MigrantId, site: SiteId) -> StoreResult<Option<MhpssCase>> {
        sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM mhpss_cases WHERE migrant_id = ? AND site_id = ? AND status = 'open'"
        ))
        .bind(migrant.0)
        .bind(site.0)
        .fetch_optional(&self.readers)
        .await
        .map_err(db_err)?
        .map(|r| case_from_row(&r))
        .transpose()
    }

    async fn get_case(&self, id: MhpssCaseId) -> StoreResult<MhpssCase> {
        let mut conn = self.readers.acquire().await.map_err(db_err)?;
        case_by_id(&mut conn, id).await
    }

    async fn cases_of_migrant(&self, migrant: MigrantId) -> StoreResult<Vec<MhpssCase>> {
        sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM mhpss_cases WHERE migrant_id = ? ORDER BY id DESC"
        ))
        .bind(migrant.0)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(case_from_row)
        .collect()
    }

    async fn list_cases(
        &self,
        sites: Option<&[SiteId]>,
        open_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<MhpssCase>> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {CASE_COLUMNS} FROM mhpss_cases WHERE 1 = 1"
        ));
        if open_only {
            qb.push(" AND status = 'open'");
        }
        if let Some(sites) = sites {
            qb.push(" AND site_id IN (");
            if sites.is_empty() {
                qb.push("NULL");
            }
            let mut sep = qb.separated(", ");
            for s in sites {
                sep.push_bind(s.0);
            }
            qb.push(")");
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        qb.build()
            .fetch_all(&self.readers)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_from_row)
            .collect()
    }

    async fn add_session(
        &self,
        session: &CounsellingSession,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        require_open(&case_by_id(&mut tx, session.case_id).await?)?;
        sqlx::query(&format!(
            "INSERT INTO mhpss_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(session.id.0)
        .bind(session.case_id.0)
        .bind(session.date)
        .bind(session.kind.as_str())
        .bind(&session.notes)
        .bind(&session.next_step)
        .bind(&session.recorded_by)
        .bind(session.recorded_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(
            &mut tx,
            &audit.with_entity_id(session.case_id),
            session.recorded_at,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn sessions_of(&self, case: MhpssCaseId) -> StoreResult<Vec<CounsellingSession>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM mhpss_sessions WHERE case_id = ? ORDER BY session_date DESC, id DESC"
        ))
        .bind(case.0)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(session_from_row)
        .collect()
    }

    async fn close_case(
        &self,
        id: MhpssCaseId,
        closure: &Closure,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<MhpssCase> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let updated = sqlx::query(
            "UPDATE mhpss_cases SET status = 'closed', closed_at = ?, closed_by = ?, closure_reason = ?, closure_note = ? WHERE id = ? AND status = 'open'",
        )
        .bind(now)
        .bind(by)
        .bind(closure.reason.as_str())
        .bind(&closure.note)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        let case = case_by_id(&mut tx, id).await?;
        if updated == 0 {
            return Err(StoreError::conflict("case", "the case is closed already"));
        }
        insert_audit(&mut tx, &audit.with_entity_id(id), now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(case)
    }

    async fn refer_from_screening(
        &self,
        screening: ScreeningId,
        referral: &Referral,
        history: &[TimelineEntry],
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        insert_referral(&mut tx, referral).await?;
        insert_timeline(&mut tx, referral.id, history).await?;
        sqlx::query(
            "INSERT INTO mhpss_screening_referrals (referral_id, screening_id) VALUES (?, ?)",
        )
        .bind(referral.id.0)
        .bind(screening.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(
            &mut tx,
            &audit.with_entity_id(referral.id),
            referral.created_at,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn referrals_of_screening(&self, screening: ScreeningId) -> StoreResult<Vec<Referral>> {
        let columns = REFERRAL_COLUMNS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "SELECT {columns} FROM referrals r JOIN mhpss_screening_referrals l ON l.referral_id = r.id WHERE l.screening_id = ? ORDER BY r.id"
        ))
        .bind(screening.0)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(referral_from_row)
        .collect()
    }
}
