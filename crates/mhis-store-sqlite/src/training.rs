//! SQLite storage of training data (the `TrainingStore` half of the
//! store): needs questionnaires, sessions, participants, attendance,
//! scores and attendance certificates.

use super::{SqliteStore, insert_audit};
use async_trait::async_trait;
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::SiteId;
use mhis_domain::training::{ParticipantId, SessionId};
use mhis_store::{
    AttendanceCertificate, AttendanceMark, NeedsResponse, Participant, StoreError, StoreResult,
    TestScore, TrainingSession, TrainingStore, WithEntityId,
};
use mhis_store_sql::training::{
    NEEDS_COLUMNS, PARTICIPANT_COLUMNS, SESSION_COLUMNS, TRAINING_CERTIFICATE_COLUMNS,
    attendance_from_row, needs_from_row, participant_from_row, score_from_row, session_from_row,
    training_certificate_from_row,
};
use mhis_store_sql::{db_err, json_column};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::BTreeSet;

/// Appends `WHERE site_id IN (…)` when `sites` is given.
fn site_filter(qb: &mut QueryBuilder<'_, Sqlite>, sites: Option<&[SiteId]>) {
    if let Some(sites) = sites {
        if sites.is_empty() {
            qb.push(" WHERE 1 = 0");
            return;
        }
        qb.push(" WHERE site_id IN (");
        let mut list = qb.separated(", ");
        for s in sites {
            list.push_bind(s.0);
        }
        list.push_unseparated(")");
    }
}

/// Refuses participants that are not of `session`.
async fn check_participants(
    conn: &mut SqliteConnection,
    session: SessionId,
    ids: impl Iterator<Item = ParticipantId>,
) -> StoreResult<()> {
    let known: BTreeSet<uuid::Uuid> =
        sqlx::query("SELECT id FROM training_participants WHERE session_id = ?")
            .bind(session.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| r.try_get::<uuid::Uuid, _>(0))
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
    for id in ids {
        if !known.contains(&id.0) {
            return Err(StoreError::MissingReference {
                field: "participant_id",
                entity: "participant of this session",
            });
        }
    }
    Ok(())
}

#[async_trait]
impl TrainingStore for SqliteStore {
    async fn add_needs_response(&self, r: &NeedsResponse, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO training_needs_responses ({NEEDS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(r.id.0)
        .bind(r.site_id.0)
        .bind(&r.organisation)
        .bind(&r.organisation_type)
        .bind(&r.respondent)
        .bind(json_column(&r.answers))
        .bind(&r.questionnaire_version)
        .bind(&r.created_by)
        .bind(r.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::MissingReference {
                    field: "site_id",
                    entity: "site",
                }
            }
            _ => db_err(e),
        })?;
        insert_audit(&mut tx, &audit.with_entity_id(r.id), r.created_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn needs_responses(&self, sites: Option<&[SiteId]>) -> StoreResult<Vec<NeedsResponse>> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {NEEDS_COLUMNS} FROM training_needs_responses"
        ));
        site_filter(&mut qb, sites);
        qb.push(" ORDER BY created_at, id");
        qb.build()
            .fetch_all(&self.readers)
            .await
            .map_err(db_err)?
            .iter()
            .map(needs_from_row)
            .collect()
    }

    async fn add_training_session(
        &self,
        s: &TrainingSession,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO training_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(s.id.0)
        .bind(s.site_id.0)
        .bind(&s.title)
        .bind(&s.place)
        .bind(s.starts_on)
        .bind(s.ends_on)
        .bind(json_column(&s.trainers))
        .bind(json_column(&s.modules))
        .bind(json_column(&s.organisations))
        .bind(&s.created_by)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::MissingReference {
                    field: "site_id",
                    entity: "site",
                }
            }
            _ => db_err(e),
        })?;
        insert_audit(&mut tx, &audit.with_entity_id(s.id), s.created_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn training_sessions(
        &self,
        sites: Option<&[SiteId]>,
    ) -> StoreResult<Vec<TrainingSession>> {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {SESSION_COLUMNS} FROM training_sessions"));
        site_filter(&mut qb, sites);
        qb.push(" ORDER BY starts_on DESC, id");
        qb.build()
            .fetch_all(&self.readers)
            .await
            .map_err(db_err)?
            .iter()
            .map(session_from_row)
            .collect()
    }

    async fn training_session(&self, id: SessionId) -> StoreResult<TrainingSession> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM training_sessions WHERE id = ?"
        ))
        .bind(id.0)
        .fetch_optional(&self.readers)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound {
            entity: "training session",
        })?;
        session_from_row(&row)
    }

    async fn add_participants(
        &self,
        people: &[Participant],
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let Some(first) = people.first() else {
            return Ok(());
        };
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        for p in people {
            let d = &p.details;
            sqlx::query(&format!(
                "INSERT INTO training_participants ({PARTICIPANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))
            .bind(p.id.0)
            .bind(p.session_id.0)
            .bind(&d.family_name)
            .bind(&d.given_names)
            .bind(&d.organisation)
            .bind(&d.organisation_type)
            .bind(&d.role)
            .bind(d.sex.as_str())
            .bind(&d.contact)
            .bind(p.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::MissingReference {
                        field: "session_id",
                        entity: "training session",
                    }
                }
                _ => db_err(e),
            })?;
        }
        insert_audit(
            &mut tx,
            &audit.with_entity_id(first.session_id),
            first.created_at,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn participants(&self, session: SessionId) -> StoreResult<Vec<Participant>> {
        sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM training_participants WHERE session_id = ? ORDER BY family_name, given_names, id"
        ))
        .bind(session.0)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(participant_from_row)
        .collect()
    }

    async fn record_attendance(
        &self,
        session: SessionId,
        marks: &[AttendanceMark],
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        check_participants(&mut tx, session, marks.iter().map(|m| m.participant_id)).await?;
        for m in marks {
            sqlx::query(
                "INSERT INTO training_attendance (participant_id, day, present) VALUES (?, ?, ?) \
                 ON CONFLICT (participant_id, day) DO UPDATE SET present = excluded.present",
            )
            .bind(m.participant_id.0)
            .bind(m.day)
            .bind(m.present)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        insert_audit(&mut tx, &audit.with_entity_id(session), chrono::Utc::now()).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn attendance(&self, session: SessionId) -> StoreResult<Vec<AttendanceMark>> {
        sqlx::query(
            "SELECT a.participant_id, a.day, a.present FROM training_attendance a \
             JOIN training_participants p ON p.id = a.participant_id \
             WHERE p.session_id = ? ORDER BY a.day, a.participant_id",
        )
        .bind(session.0)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(attendance_from_row)
        .collect()
    }

    async fn record_scores(
        &self,
        session: SessionId,
        scores: &[TestScore],
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        check_participants(&mut tx, session, scores.iter().map(|s| s.participant_id)).await?;
        for s in scores {
            sqlx::query(
                "INSERT INTO training_scores (participant_id, module, phase, score, max_score) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (participant_id, module, phase) DO UPDATE SET score = excluded.score, max_score = excluded.max_score",
            )
            .bind(s.participant_id.0)
            .bind(&s.module)
            .bind(s.phase.as_str())
            .bind(i64::from(s.score))
            .bind(i64::from(s.max_score))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        insert_audit(&mut tx, &audit.with_entity_id(session), chrono::Utc::now()).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn scores(&self, session: SessionId) -> StoreResult<Vec<TestScore>> {
        sqlx::query(
            "SELECT s.participant_id, s.module, s.phase, s.score, s.max_score FROM training_scores s \
             JOIN training_participants p ON p.id = s.participant_id \
             WHERE p.session_id = ? ORDER BY s.module, s.participant_id, s.phase",
        )
        .bind(session.0)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(score_from_row)
        .collect()
    }

    async fn add_attendance_certificate(
        &self,
        c: &AttendanceCertificate,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        check_participants(&mut tx, c.session_id, std::iter::once(c.participant_id)).await?;
        sqlx::query(&format!(
            "INSERT INTO training_certificates ({TRAINING_CERTIFICATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&c.id)
        .bind(c.participant_id.0)
        .bind(c.session_id.0)
        .bind(c.site_id.0)
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

    async fn attendance_certificates(
        &self,
        session: SessionId,
    ) -> StoreResult<Vec<AttendanceCertificate>> {
        sqlx::query(&format!(
            "SELECT {TRAINING_CERTIFICATE_COLUMNS} FROM training_certificates WHERE session_id = ? ORDER BY issued_at, id"
        ))
        .bind(session.0)
        .fetch_all(&self.readers)
        .await
        .map_err(db_err)?
        .iter()
        .map(training_certificate_from_row)
        .collect()
    }

    async fn attendance_certificate(&self, id: &str) -> StoreResult<AttendanceCertificate> {
        let row = sqlx::query(&format!(
            "SELECT {TRAINING_CERTIFICATE_COLUMNS} FROM training_certificates WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.readers)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound {
            entity: "attendance certificate",
        })?;
        training_certificate_from_row(&row)
    }
}
