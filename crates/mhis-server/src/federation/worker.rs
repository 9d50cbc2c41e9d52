//! The delivery worker: sends due outbox messages to their peers and
//! records the acknowledgements, retrying with exponential backoff until a
//! peer acknowledges.
//!
//! - One round takes the due messages (at most one per referral, the
//!   oldest, so a referral's events arrive in order) and sends them
//!   concurrently.
//! - A signed `applied`/`duplicate` acknowledgement marks a message
//!   delivered; for a new referral it also moves the local copy from `sent`
//!   to `received`.
//! - A signed refusal (4xx from the peer itself) marks it delivered as
//!   `rejected`: resending would be refused again. It stays listed with its
//!   reason.
//! - Anything else (connection refused, timeout, 5xx, an unsigned answer)
//!   is retried after `min(2^attempts, 60)` seconds, ±20% jitter; once a
//!   peer fails at the transport level, its other messages wait for the next
//!   round instead of each timing out.

use super::inbox::{Acknowledgement, header_bytes};
use super::{INBOX_PATH, KEY_HEADER, Node, SIGNATURE_HEADER};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use mhis_domain::audit::AuditEvent;
use mhis_domain::referral::{ReferralEvent, ReferralState, TimelineEntry};
use mhis_store::{OutboxMessage, Peer, ReferralChange};
use rand::Rng;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Messages sent at once.
const CONCURRENCY: usize = 16;
/// Messages taken per round.
const BATCH: i64 = 256;
/// The longest wait between two attempts, in seconds.
const MAX_BACKOFF_SECS: f64 = 60.0;

/// How long to wait before attempt `attempts + 1`.
pub fn backoff(attempts: i64) -> Duration {
    let base = 2f64
        .powi(attempts.clamp(0, 16) as i32)
        .min(MAX_BACKOFF_SECS);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::from_secs_f64(base * jitter)
}

/// What one attempt came to.
enum Attempt {
    Acknowledged(String, Vec<u8>),
    Rejected(String, Vec<u8>),
    Failed(String, bool),
}

/// Runs the worker until the process ends.
pub async fn run(state: AppState) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("an HTTP client");
    loop {
        let sent = match deliver_due(&state, &client).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "federation round failed");
                0
            }
        };
        if sent == 0 {
            // Nothing due: wait for a new message, or poll for retries.
            let _ =
                tokio::time::timeout(Duration::from_millis(500), state.federation.wake.notified())
                    .await;
        }
    }
}

/// One round: delivers every due message once. Returns how many were
/// attempted.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> Result<usize, String> {
    let due = state
        .store
        .due_messages(state.now(), BATCH)
        .await
        .map_err(|e| e.to_string())?;
    if due.is_empty() {
        return Ok(0);
    }
    let node = state
        .federation
        .node(state)
        .await
        .map_err(|e| e.message.clone())?;
    let peers = state.store.list_peers().await.map_err(|e| e.to_string())?;
    let down: Arc<Mutex<HashSet<String>>> = Arc::default();
    let count = due.len();
    futures::stream::iter(due)
        .for_each_concurrent(CONCURRENCY, |message| {
            let peers = &peers;
            let node = node.clone();
            let down = down.clone();
            async move {
                let attempt = match peers.iter().find(|p| p.name == message.peer) {
                    None => Attempt::Failed(format!("no peer named {}", message.peer), false),
                    Some(_) if down.lock().expect("lock").contains(&message.peer) => {
                        Attempt::Failed("peer unreachable in this round".into(), false)
                    }
                    Some(peer) => send(client, &node, peer, &message).await,
                };
                if let Attempt::Failed(_, true) = &attempt {
                    down.lock().expect("lock").insert(message.peer.clone());
                }
                if let Err(e) = record(state, &message, attempt).await {
                    tracing::warn!(error = %e, message = %message.id, "delivery not recorded");
                }
            }
        })
        .await;
    Ok(count)
}

async fn send(
    client: &reqwest::Client,
    node: &Node,
    peer: &Peer,
    message: &OutboxMessage,
) -> Attempt {
    let response = client
        .post(format!("{}{INBOX_PATH}", peer.url))
        .header(reqwest::header::CONTENT_TYPE, "application/fhir+json")
        .header(SIGNATURE_HEADER, URL_SAFE_NO_PAD.encode(&message.signature))
        .header(KEY_HEADER, URL_SAFE_NO_PAD.encode(node.key.public_key()))
        .body(message.body.clone())
        .send()
        .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(format!("transport: {e}"), true),
    };
    let status = response.status();
    let signature = header_bytes(response.headers(), SIGNATURE_HEADER);
    let body = match response.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) => return Attempt::Failed(format!("transport: {e}"), true),
    };
    let signed = signature.is_some_and(|s| {
        mhis_cert::node::verify_node_signature(&peer.public_key, &body, &s).is_ok()
    });
    if !signed {
        return Attempt::Failed(
            format!("HTTP {status} without a valid signature of the peer"),
            status.is_server_error(),
        );
    }
    if status.is_success() {
        match serde_json::from_slice::<Acknowledgement>(&body) {
            Ok(ack) if ack.message_id == message.id => Attempt::Acknowledged(ack.status, body),
            Ok(_) => Attempt::Failed("acknowledgement of another message".into(), false),
            Err(e) => Attempt::Failed(format!("unreadable acknowledgement: {e}"), false),
        }
    } else if status.is_client_error() && status != reqwest::StatusCode::REQUEST_TIMEOUT {
        let reason = String::from_utf8_lossy(&body).into_owned();
        Attempt::Rejected(format!("HTTP {status}: {reason}"), body)
    } else {
        Attempt::Failed(format!("HTTP {status}"), status.is_server_error())
    }
}

async fn record(
    state: &AppState,
    message: &OutboxMessage,
    attempt: Attempt,
) -> Result<(), mhis_store::StoreError> {
    let now = state.now();
    let audit = AuditEvent::new(
        format!("peer:{}", message.peer),
        "referral.delivered",
        "referral",
        None,
        None,
    );
    match attempt {
        Attempt::Acknowledged(status, ack) => {
            let receipt = received_change(message, now);
            state
                .store
                .message_delivered(message.id, &status, &ack, receipt.as_ref(), now, &audit)
                .await
        }
        Attempt::Rejected(reason, body) => {
            tracing::warn!(message = %message.id, %reason, "peer refused a message");
            state.store.message_failed(message.id, &reason, now).await?;
            state
                .store
                .message_delivered(message.id, "rejected", &body, None, now, &audit)
                .await
        }
        Attempt::Failed(reason, _) => {
            let next =
                now + chrono::Duration::from_std(backoff(message.attempts)).unwrap_or_default();
            state
                .store
                .message_failed(message.id, &reason, to_micros(next))
                .await
        }
    }
}

/// To the microsecond, the precision both backends store.
fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// For an acknowledged new referral: `sent` → `received` (skipped by the
/// store when the referral has moved on, e.g. the peer's acceptance arrived
/// first).
fn received_change(message: &OutboxMessage, now: DateTime<Utc>) -> Option<ReferralChange> {
    (message.event == format!("referral-{}", ReferralEvent::Send.as_str())).then(|| {
        ReferralChange {
            id: message.referral_id,
            from: ReferralState::Sent,
            entries: vec![TimelineEntry {
                at: now,
                event: ReferralEvent::Receive,
                state: ReferralState::Received,
                actor: format!("peer:{}", message.peer),
                detail: None,
            }],
            outcome: None,
        }
    })
}
