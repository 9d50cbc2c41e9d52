//! The inbox: `POST /federation/v1/inbox`, where peers deliver messages.
//!
//! Order of checks, each refusing with nothing stored: the sender's key is
//! a configured peer's (401), the signature over the exact body verifies
//! (401), the body is a valid FHIR message Bundle about a referral (422),
//! the message id is new (else a `duplicate` acknowledgement, 200), the
//! sender is a party to the referral (404 otherwise, as for a missing one),
//! and the state machine allows the event (409).

use super::{KEY_HEADER, Node, SIGNATURE_HEADER};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::MessageId;
use mhis_domain::referral::{
    Referral, ReferralEvent, ReferralMessage, ReferralOutcome, ReferralState, TimelineEntry,
};
use mhis_store::{Delivery, InboxMessage, IncomingEffect, Peer, ReferralChange, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What the inbox answers to a delivered message, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The message acknowledged.
    pub message_id: MessageId,
    /// `applied` or `duplicate`.
    pub status: String,
    /// The acknowledging node.
    pub node: String,
}

/// Receives one message from a peer.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let node = match state.federation.node(&state).await {
        Ok(node) => node,
        Err(e) => return e.into_response(),
    };
    let (status, json) = match handle(&state, &node, &headers, &body).await {
        Ok(ack) => (
            StatusCode::OK,
            serde_json::to_vec(&ack).expect("an acknowledgement serialises"),
        ),
        Err(e) => {
            let status = e.status;
            let body = crate::error::ErrorBody {
                error: e.kind.to_owned(),
                field: e.field,
                message: e.message,
            };
            (
                status,
                serde_json::to_vec(&body).expect("an error serialises"),
            )
        }
    };
    signed_response(&node, status, json)
}

/// A response whose body this node signs.
fn signed_response(node: &Node, status: StatusCode, body: Vec<u8>) -> Response {
    let signature = URL_SAFE_NO_PAD.encode(node.key.sign(&body));
    let key = URL_SAFE_NO_PAD.encode(node.key.public_key());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in [(SIGNATURE_HEADER, signature), (KEY_HEADER, key)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

fn unauthorised(message: &str) -> ApiError {
    ApiError::status(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

/// Reads a base64url header.
pub fn header_bytes(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    let text = headers.get(name)?.to_str().ok()?;
    URL_SAFE_NO_PAD.decode(text.trim()).ok()
}

async fn handle(
    state: &AppState,
    node: &Arc<Node>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Acknowledgement, ApiError> {
    let key = header_bytes(headers, KEY_HEADER)
        .ok_or_else(|| unauthorised("the message carries no sender key (Mhis-Key)"))?;
    let signature = header_bytes(headers, SIGNATURE_HEADER)
        .ok_or_else(|| unauthorised("the message is not signed (Mhis-Signature)"))?;
    let peer = state
        .store
        .list_peers()
        .await?
        .into_iter()
        .find(|p| p.public_key == key)
        .ok_or_else(|| unauthorised("the sender's key is not a configured peer's"))?;
    mhis_cert::node::verify_node_signature(&peer.public_key, body, &signature)
        .map_err(|_| unauthorised("the signature does not verify"))?;
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid("body", format!("not JSON: {e}")))?;
    let message = mhis_fhir::referral::from_bundle(&json, &state.vocabulary).map_err(|e| {
        ApiError::invalid(
            e.path().to_owned(),
            format!("not a valid referral message: {e}"),
        )
    })?;
    let ack = |status: Delivery| Acknowledgement {
        message_id: message.id,
        status: status.as_str().to_owned(),
        node: node.identity.name.clone(),
    };
    if state.store.inbox_has(message.id).await? {
        return Ok(ack(Delivery::Duplicate));
    }
    let now = state.now();
    let effect = effect_of(state, node, &peer, &message, now).await?;
    let inbox = InboxMessage {
        id: message.id,
        peer: peer.name.clone(),
        referral_id: message.referral.id,
        event: format!("referral-{}", message.event.as_str()),
        body: body.to_vec(),
        signature,
        received_at: now,
    };
    let audit = AuditEvent::new(
        format!("peer:{}", peer.name),
        format!("referral.remote_{}", message.event.as_str()),
        "referral",
        None,
        None,
    );
    let delivery = state
        .store
        .receive_message(&inbox, &effect, None, &audit)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::from(e),
            other => other.into(),
        })?;
    Ok(ack(delivery))
}

/// What a message does to the local copy, checked against the state
/// machine and the sender's part in the referral.
async fn effect_of(
    state: &AppState,
    node: &Node,
    peer: &Peer,
    message: &ReferralMessage,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<IncomingEffect, ApiError> {
    let actor = format!("peer:{}", peer.name);
    let content = &message.referral;
    if message.event == ReferralEvent::Send {
        if content.state != ReferralState::Sent {
            return Err(ApiError::invalid(
                "MessageHeader.focus",
                "a new referral must arrive in the state 'sent'",
            ));
        }
        let site = match &content.to_site_code {
            Some(code) => state
                .store
                .list_sites()
                .await?
                .into_iter()
                .find(|s| s.code.as_str() == code)
                .map_or(node.identity.inbox_site_id, |s| s.id),
            None => node.identity.inbox_site_id,
        };
        let referral = Referral {
            id: content.id,
            kind: content.kind,
            state: ReferralState::Received,
            site_id: site,
            to_site_id: Some(site),
            to_peer: None,
            to_peer_site_code: None,
            from_peer: Some(peer.name.clone()),
            from_label: content.from_label.clone(),
            assessment_id: None,
            migrant_id: None,
            reason: content.reason.clone(),
            urgency: content.urgency,
            due_date: content.due_date,
            note: content.note.clone(),
            person: content.person.clone(),
            observations: content.observations.clone(),
            conditions: content.conditions.clone(),
            outcome: None,
            outcome_date: None,
            outcome_note: None,
            created_by: actor.clone(),
            created_at: now,
            updated_at: now,
        };
        let history = vec![
            TimelineEntry {
                at: message.sent_at,
                event: ReferralEvent::Send,
                state: ReferralState::Sent,
                actor: actor.clone(),
                detail: Some(format!("from {}", content.from_label)),
            },
            TimelineEntry {
                at: now,
                event: ReferralEvent::Receive,
                state: ReferralState::Received,
                actor,
                detail: None,
            },
        ];
        return Ok(IncomingEffect::Create {
            referral: Box::new(referral),
            history,
        });
    }
    let local = match state.store.get_referral(content.id).await {
        Ok(r) => r,
        Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found("referral")),
        Err(e) => return Err(e.into()),
    };
    // The referrer's events must come from the peer it came from; the
    // receiver's from the peer it was sent to.
    let party = if message.event.sent_by_referrer() {
        local.from_peer.as_deref()
    } else {
        local.to_peer.as_deref()
    };
    if party != Some(peer.name.as_str()) {
        return Err(ApiError::not_found("referral"));
    }
    let steps = local
        .state
        .apply_remote(message.event)
        .map_err(|e| ApiError::from(StoreError::conflict("state", e.to_string())))?;
    let outcome = if message.event == ReferralEvent::ReportOutcome {
        let outcome: ReferralOutcome = content.outcome.ok_or_else(|| {
            ApiError::invalid("Task.output", "an outcome report names the outcome")
        })?;
        let date = content
            .outcome_date
            .ok_or_else(|| ApiError::invalid("Task.output", "an outcome report has a date"))?;
        Some((outcome, date, content.outcome_note.clone()))
    } else {
        None
    };
    let detail = outcome.as_ref().map(|(o, d, _)| format!("{o} on {d}"));
    Ok(IncomingEffect::Change(ReferralChange {
        id: local.id,
        from: local.state,
        entries: steps
            .into_iter()
            .map(|(event, state)| TimelineEntry {
                at: now,
                event,
                state,
                actor: actor.clone(),
                detail: if event == message.event {
                    detail.clone()
                } else {
                    None
                },
            })
            .collect(),
        outcome,
    }))
}
