//! PostgreSQL storage of referrals, departures, the node identity, peers, the
//! outbox and the inbox (the `FederationStore` half of the store).

use super::{PgStore, insert_audit, paged};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::{AssessmentId, MessageId, ReferralId, SiteId};
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::referral::{Referral, ReferralState, TimelineEntry};
use mhis_store::{
    Delivery, Departure, FederationStore, InboxMessage, IncomingEffect, NodeIdentity,
    OutboxMessage, Peer, ReferralChange, ReferralFilter, ReferralView, StoreError, StoreResult,
    WithEntityId,
};
use mhis_store_sql::{
    DEPARTURE_COLUMNS, NODE_COLUMNS, OUTBOX_COLUMNS, PEER_COLUMNS, REFERRAL_COLUMNS,
    TIMELINE_COLUMNS, db_err, departure_from_row, json_column, node_from_row, outbox_from_row,
    peer_from_row, referral_from_row, timeline_from_row,
};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

/// A unique-constraint violation, as a conflict on `field`.
fn unique_conflict(e: sqlx::Error, field: &str, message: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::conflict(field, message),
        _ => db_err(e),
    }
}

pub(crate) async fn insert_referral(conn: &mut PgConnection, r: &Referral) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO referrals ({REFERRAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
    ))
    .bind(r.id.0)
    .bind(r.kind.as_str())
    .bind(r.state.as_str())
    .bind(r.site_id.0)
    .bind(r.to_site_id.map(|s| s.0))
    .bind(&r.to_peer)
    .bind(&r.to_peer_site_code)
    .bind(&r.from_peer)
    .bind(&r.from_label)
    .bind(r.assessment_id.map(|a| a.0))
    .bind(r.migrant_id.map(|m| m.0))
    .bind(&r.reason)
    .bind(r.urgency.as_str())
    .bind(r.due_date)
    .bind(&r.note)
    .bind(json_column(&r.person))
    .bind(json_column(&r.observations))
    .bind(json_column(&r.conditions))
    .bind(r.outcome.map(|o| o.as_str()))
    .bind(r.outcome_date)
    .bind(&r.outcome_note)
    .bind(&r.created_by)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| unique_conflict(e, "id", "this referral is already stored"))?;
    Ok(())
}

pub(crate) async fn insert_timeline(
    conn: &mut PgConnection,
    id: ReferralId,
    entries: &[TimelineEntry],
) -> StoreResult<()> {
    let next: i64 =
        sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM referral_events WHERE referral_id = $1")
            .bind(id.0)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?
            .try_get(0)
            .map_err(db_err)?;
    for (i, e) in entries.iter().enumerate() {
        sqlx::query(&format!(
            "INSERT INTO referral_events (referral_id, seq, {TIMELINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(id.0)
        .bind(next + i as i64)
        .bind(e.at)
        .bind(e.event.as_str())
        .bind(e.state.as_str())
        .bind(&e.actor)
        .bind(&e.detail)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

async fn insert_outbox(conn: &mut PgConnection, m: &OutboxMessage) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO outbox (id, peer, referral_id, event, body, signature, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(m.id.0)
    .bind(&m.peer)
    .bind(m.referral_id.0)
    .bind(&m.event)
    .bind(&m.body)
    .bind(&m.signature)
    .bind(m.created_at)
    .bind(m.attempts)
    .bind(m.next_attempt_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::MissingReference {
                field: "to_peer",
                entity: "peer",
            }
        }
        _ => unique_conflict(e, "message_id", "this message is already queued"),
    })?;
    Ok(())
}

/// Applies a change as a compare-and-set on the state; `strict` makes a
/// moved state a conflict, otherwise the change is skipped. Returns whether
/// it applied.
async fn apply_change(
    conn: &mut PgConnection,
    change: &ReferralChange,
    now: DateTime<Utc>,
    strict: bool,
) -> StoreResult<bool> {
    let mut qb = QueryBuilder::<Postgres>::new("UPDATE referrals SET state = ");
    qb.push_bind(change.to().as_str())
        .push(", updated_at = ")
        .push_bind(now);
    if let Some((outcome, date, note)) = &change.outcome {
        qb.push(", outcome = ")
            .push_bind(outcome.as_str())
            .push(", outcome_date = ")
            .push_bind(*date)
            .push(", outcome_note = ")
            .push_bind(note.clone());
    }
    qb.push(" WHERE id = ")
        .push_bind(change.id.0)
        .push(" AND state = ")
        .push_bind(change.from.as_str());
    let updated = qb
        .build()
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
    if updated == 0 {
        if !strict {
            return Ok(false);
        }
        let state: Option<String> = sqlx::query("SELECT state FROM referrals WHERE id = $1")
            .bind(change.id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(db_err)?;
        return Err(match state {
            None => StoreError::NotFound { entity: "referral" },
            Some(state) => StoreError::conflict(
                "state",
                format!(
                    "the referral is now {state}, not {}; reload it and try again",
                    change.from
                ),
            ),
        });
    }
    insert_timeline(conn, change.id, &change.entries).await?;
    Ok(true)
}

async fn referral_by_id(conn: &mut PgConnection, id: ReferralId) -> StoreResult<Referral> {
    let row = sqlx::query(&format!(
        "SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound { entity: "referral" })?;
    referral_from_row(&row)
}

/// `AND (a IN (sites) OR b IN (sites) …)`; an empty list matches nothing.
fn push_any_site(qb: &mut QueryBuilder<'_, Postgres>, columns: &[&str], sites: &[SiteId]) {
    qb.push(" AND (");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push(format!("{column} IN ("));
        if sites.is_empty() {
            qb.push("NULL");
        }
        let mut sep = qb.separated(", ");
        for s in sites {
            sep.push_bind(s.0);
        }
        qb.push(")");
    }
    qb.push(")");
}

/// The filter of a referral view (see `ReferralView`).
fn push_referral_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &ReferralFilter) {
    let sites = filter.sites.as_deref();
    match filter.view {
        ReferralView::Inbox => {
            // A draft is the referrer's alone.
            qb.push(" AND to_site_id IS NOT NULL AND state <> 'draft'");
            if let Some(sites) = sites {
                push_any_site(qb, &["to_site_id"], sites);
            }
        }
        ReferralView::Outbox => {
            qb.push(" AND from_peer IS NULL");
            if let Some(sites) = sites {
                push_any_site(qb, &["site_id"], sites);
            }
        }
        ReferralView::Overdue | ReferralView::All => {
            if let Some(sites) = sites {
                push_any_site(qb, &["site_id", "to_site_id"], sites);
            }
        }
    }
    if filter.view == ReferralView::Overdue {
        push_overdue(qb, filter.today);
    }
    if let Some(a) = filter.assessment_id {
        qb.push(" AND assessment_id = ").push_bind(a.0);
    }
    if !filter.hidden_reasons.is_empty() {
        qb.push(" AND reason NOT IN (");
        let mut sep = qb.separated(", ");
        for r in &filter.hidden_reasons {
            sep.push_bind(r.clone());
        }
        qb.push(")");
    }
}

/// Awaiting an outcome and due before `today` (`referral::is_overdue`).
fn push_overdue(qb: &mut QueryBuilder<'_, Postgres>, today: NaiveDate) {
    qb.push(" AND state IN (");
    let mut sep = qb.separated(", ");
    for s in ReferralState::ALL.iter().filter(|s| s.awaits_outcome()) {
        sep.push_bind(s.as_str());
    }
    qb.push(") AND due_date < ").push_bind(today);
}

#[async_trait]
impl FederationStore for PgStore {
    async fn create_referral(
        &self,
        referral: &Referral,
        history: &[TimelineEntry],
        outbox: Option<&OutboxMessage>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        insert_referral(&mut tx, referral).await?;
        insert_timeline(&mut tx, referral.id, history).await?;
        if let Some(m) = outbox {
            insert_outbox(&mut tx, m).await?;
        }
        insert_audit(
            &mut tx,
            &audit.with_entity_id(referral.id),
            referral.created_at,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_referral(&self, id: ReferralId) -> StoreResult<Referral> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        referral_by_id(&mut conn, id).await
    }

    async fn referral_timeline(&self, id: ReferralId) -> StoreResult<Vec<TimelineEntry>> {
        sqlx::query(&format!(
            "SELECT {TIMELINE_COLUMNS} FROM referral_events WHERE referral_id = $1 ORDER BY seq"
        ))
        .bind(id.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(timeline_from_row)
        .collect()
    }

    async fn list_referrals(
        &self,
        filter: &ReferralFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Referral>> {
        let order = if filter.view == ReferralView::Overdue {
            "due_date, id"
        } else {
            "id DESC"
        };
        paged(
            &self.pool,
            REFERRAL_COLUMNS,
            "referrals",
            order,
            |qb| push_referral_filter(qb, filter),
            page,
            referral_from_row,
        )
        .await
    }

    async fn count_overdue(&self, sites: Option<&[SiteId]>, today: NaiveDate) -> StoreResult<i64> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM referrals WHERE 1 = 1");
        push_referral_filter(
            &mut qb,
            &ReferralFilter {
                view: ReferralView::Overdue,
                sites: sites.map(<[SiteId]>::to_vec),
                assessment_id: None,
                today,
                hidden_reasons: Vec::new(),
            },
        );
        qb.build()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?
            .try_get(0)
            .map_err(db_err)
    }

    async fn change_referral(
        &self,
        change: &ReferralChange,
        outbox: Option<&OutboxMessage>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Referral> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        apply_change(&mut tx, change, now, true).await?;
        if let Some(m) = outbox {
            insert_outbox(&mut tx, m).await?;
        }
        insert_audit(&mut tx, &audit.with_entity_id(change.id), now).await?;
        let referral = referral_by_id(&mut tx, change.id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(referral)
    }

    async fn record_departure(
        &self,
        departure: &Departure,
        notification: Option<(&Referral, &[TimelineEntry], &OutboxMessage)>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if let Some((referral, history, message)) = notification {
            insert_referral(&mut tx, referral).await?;
            insert_timeline(&mut tx, referral.id, history).await?;
            insert_outbox(&mut tx, message).await?;
        }
        sqlx::query(&format!(
            "INSERT INTO departures ({DEPARTURE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(departure.assessment_id.0)
        .bind(departure.departed_on)
        .bind(&departure.recorded_by)
        .bind(departure.recorded_at)
        .bind(departure.notification_id.map(|n| n.0))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            unique_conflict(
                e,
                "assessment_id",
                "a departure is already recorded for this assessment",
            )
        })?;
        insert_audit(
            &mut tx,
            &audit.with_entity_id(departure.assessment_id),
            departure.recorded_at,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn departure_of(&self, assessment: AssessmentId) -> StoreResult<Option<Departure>> {
        sqlx::query(&format!(
            "SELECT {DEPARTURE_COLUMNS} FROM departures WHERE assessment_id = $1"
        ))
        .bind(assessment.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(departure_from_row)
        .transpose()
    }

    async fn node_identity(&self) -> StoreResult<Option<NodeIdentity>> {
        sqlx::query(&format!("SELECT {NODE_COLUMNS} FROM node_identity"))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(node_from_row)
            .transpose()
    }

    async fn set_node_identity(&self, node: &NodeIdentity, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO node_identity (singleton, {NODE_COLUMNS}) VALUES (1, $1, $2, $3, $4, $5, $6)"
        ))
        .bind(&node.name)
        .bind(&node.url)
        .bind(&node.public_key)
        .bind(&node.private_key_sealed)
        .bind(node.inbox_site_id.0)
        .bind(node.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::MissingReference {
                    field: "inbox_site",
                    entity: "site",
                }
            }
            _ => unique_conflict(e, "node", "this deployment already has a node identity"),
        })?;
        insert_audit(&mut tx, &audit.with_entity_id(&node.name), node.created_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn add_peer(&self, peer: &Peer, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO peers ({PEER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(&peer.name)
        .bind(&peer.url)
        .bind(&peer.public_key)
        .bind(&peer.country)
        .bind(peer.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            unique_conflict(
                e,
                "name",
                "a peer with this name or this public key already exists",
            )
        })?;
        insert_audit(&mut tx, &audit.with_entity_id(&peer.name), peer.created_at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_peers(&self) -> StoreResult<Vec<Peer>> {
        sqlx::query(&format!("SELECT {PEER_COLUMNS} FROM peers ORDER BY name"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(peer_from_row)
            .collect()
    }

    async fn due_messages(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.referral_id = o.referral_id \
             AND p.delivered_at IS NULL AND p.seq < o.seq) ORDER BY seq LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(outbox_from_row)
        .collect()
    }

    async fn message_delivered(
        &self,
        id: MessageId,
        result: &str,
        ack: &[u8],
        change: Option<&ReferralChange>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let updated = sqlx::query(
            "UPDATE outbox SET delivered_at = $1, result = $2, ack = $3, attempts = attempts + 1 WHERE id = $4 AND delivered_at IS NULL",
        )
        .bind(now)
        .bind(result)
        .bind(ack)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if updated == 0 {
            // Acknowledged already (two workers raced): nothing to do.
            return Ok(());
        }
        if let Some(change) = change
            && apply_change(&mut tx, change, now, false).await?
        {
            insert_audit(&mut tx, &audit.with_entity_id(change.id), now).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn message_failed(
        &self,
        id: MessageId,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3 AND delivered_at IS NULL",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_outbox(
        &self,
        undelivered_only: bool,
        page: PageRequest,
    ) -> StoreResult<Page<OutboxMessage>> {
        paged(
            &self.pool,
            OUTBOX_COLUMNS,
            "outbox",
            "seq DESC",
            |qb| {
                if undelivered_only {
                    qb.push(" AND delivered_at IS NULL");
                }
            },
            page,
            outbox_from_row,
        )
        .await
    }

    async fn inbox_has(&self, id: MessageId) -> StoreResult<bool> {
        Ok(sqlx::query("SELECT 1 FROM inbox WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .is_some())
    }

    async fn receive_message(
        &self,
        message: &InboxMessage,
        effect: &IncomingEffect,
        reply: Option<&OutboxMessage>,
        audit: &AuditEvent,
    ) -> StoreResult<Delivery> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (id, peer, referral_id, event, body, signature, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(message.id.0)
        .bind(&message.peer)
        .bind(message.referral_id.0)
        .bind(&message.event)
        .bind(&message.body)
        .bind(&message.signature)
        .bind(message.received_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if inserted == 0 {
            return Ok(Delivery::Duplicate);
        }
        match effect {
            IncomingEffect::Create { referral, history } => {
                insert_referral(&mut tx, referral).await?;
                insert_timeline(&mut tx, referral.id, history).await?;
            }
            IncomingEffect::Change(change) => {
                apply_change(&mut tx, change, message.received_at, true).await?;
            }
        }
        if let Some(m) = reply {
            insert_outbox(&mut tx, m).await?;
        }
        insert_audit(
            &mut tx,
            &audit.with_entity_id(message.referral_id),
            message.received_at,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Delivery::Applied)
    }
}
