//! Writing a federation message: the referral as a signed FHIR message
//! Bundle, ready for the outbox.

use super::Node;
use crate::error::ApiError;
use crate::state::AppState;
use mhis_domain::ids::MessageId;
use mhis_domain::referral::{NodeRef, Referral, ReferralContent, ReferralEvent, ReferralMessage};
use mhis_store::{OutboxMessage, Peer};

/// The peer named `name`, or 422 on `field`.
pub async fn peer_named(state: &AppState, field: &str, name: &str) -> Result<Peer, ApiError> {
    state
        .store
        .list_peers()
        .await?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ApiError::invalid(field, format!("no peer is named '{name}'")))
}

/// The outbox message telling `peer` that `event` happened to `referral`
/// (already in its new state).
pub fn message(
    state: &AppState,
    node: &Node,
    peer: &Peer,
    referral: &Referral,
    event: ReferralEvent,
) -> OutboxMessage {
    let now = state.now();
    let message = ReferralMessage {
        id: MessageId::new(),
        event,
        referral: ReferralContent::of(referral),
        source: node.node_ref(),
        destination: NodeRef {
            name: peer.name.clone(),
            url: peer.url.clone(),
        },
        sent_at: now,
    };
    let bundle = mhis_fhir::referral::to_bundle(&message, &state.vocabulary);
    let body = serde_json::to_vec(&bundle).expect("a Bundle serialises");
    let signature = node.key.sign(&body);
    OutboxMessage::new(
        message.id,
        &peer.name,
        referral.id,
        &format!("referral-{}", event.as_str()),
        body,
        signature,
        now,
    )
}
