//! Federation: how this deployment exchanges referrals with its peers.
//!
//! - **Identity.** Each deployment has a node key (Ed25519, `mhis node
//!   init`); its private half is sealed with the key encryption key. Peers
//!   are configured by URL and public key (`mhis peer add`).
//! - **Messages** are FHIR R4 Bundles of type `message`
//!   (`mhis_fhir::referral`), sent as the exact JSON bytes with a detached
//!   Ed25519 signature over them in `Mhis-Signature` and the sender's public
//!   key in `Mhis-Key` (both unpadded base64url).
//! - **Sending** goes through the transactional outbox: a referral change
//!   and its message commit together. The [`worker`] delivers due messages
//!   with exponential backoff until the peer acknowledges them.
//! - **Receiving** ([`inbox`]) checks the signature against the peers, the
//!   Bundle, the sender's right to the referral and the state machine, then
//!   applies the message and records its id in one transaction. A replay is
//!   acknowledged as `duplicate` and changes nothing. Every answer of the
//!   inbox, acknowledgement or refusal, is signed by this node, so the
//!   sender can tell a peer's refusal from a proxy's error page.

pub mod inbox;
pub mod outgoing;
pub mod worker;

use crate::error::ApiError;
use crate::state::AppState;
use mhis_cert::node::NodeKey;
use mhis_domain::referral::NodeRef;
use mhis_store::{NodeIdentity, Peer};
use std::sync::Arc;
use tokio::sync::{Notify, RwLock};

/// The header carrying the signature over the body.
pub const SIGNATURE_HEADER: &str = "mhis-signature";
/// The header carrying the signer's public key.
pub const KEY_HEADER: &str = "mhis-key";
/// The path of a node's inbox, under its base URL.
pub const INBOX_PATH: &str = "/federation/v1/inbox";

/// The associated data sealing the node's private key.
pub fn seal_label(name: &str) -> String {
    format!("node:{name}")
}

/// The node identity with its opened key.
pub struct Node {
    /// The stored identity.
    pub identity: NodeIdentity,
    /// The signing key.
    pub key: NodeKey,
}

impl Node {
    /// How messages name this node.
    pub fn node_ref(&self) -> NodeRef {
        NodeRef {
            name: self.identity.name.clone(),
            url: self.identity.url.clone(),
        }
    }
}

/// Federation state shared by handlers and the worker.
#[derive(Default)]
pub struct Federation {
    node: RwLock<Option<Arc<Node>>>,
    /// Woken when a message is queued, so delivery starts at once.
    pub wake: Notify,
}

impl Federation {
    /// The node, loaded from the store on first use; 409 when the
    /// deployment has no node identity yet.
    pub async fn node(&self, state: &AppState) -> Result<Arc<Node>, ApiError> {
        if let Some(node) = self.node.read().await.as_ref() {
            return Ok(node.clone());
        }
        let identity = state.store.node_identity().await?.ok_or_else(|| {
            ApiError::from(mhis_store::StoreError::conflict(
                "node",
                "this deployment has no node identity; run 'mhis node init'",
            ))
        })?;
        let kek = state.key_encryption.as_ref().ok_or_else(|| {
            ApiError::internal("no key encryption key configured to open the node key")
        })?;
        let pkcs8 = kek
            .open(&seal_label(&identity.name), &identity.private_key_sealed)
            .map_err(ApiError::internal)?;
        let key = NodeKey::from_pkcs8(&pkcs8).map_err(ApiError::internal)?;
        let node = Arc::new(Node { identity, key });
        *self.node.write().await = Some(node.clone());
        Ok(node)
    }
}

/// Creates this deployment's node identity: a fresh key, sealed.
pub async fn init_node(
    state: &AppState,
    name: &str,
    url: &str,
    inbox_site: mhis_domain::ids::SiteId,
    actor: &str,
) -> Result<NodeIdentity, ApiError> {
    let name = parse_name("name", name)?;
    let url = parse_url("url", url)?;
    let kek = state
        .key_encryption
        .as_ref()
        .ok_or_else(|| ApiError::invalid("key_encryption_key_file", "is not configured"))?;
    let key = NodeKey::generate().map_err(ApiError::internal)?;
    let identity = NodeIdentity {
        private_key_sealed: kek.seal(&seal_label(&name), key.pkcs8()),
        public_key: key.public_key().to_vec(),
        name,
        url,
        inbox_site_id: inbox_site,
        created_at: state.now(),
    };
    let audit =
        mhis_domain::audit::AuditEvent::new(actor.to_owned(), "node.init", "node", None, None);
    state.store.set_node_identity(&identity, &audit).await?;
    Ok(identity)
}

/// Adds a peer after checking its fields.
pub async fn add_peer(
    state: &AppState,
    name: &str,
    url: &str,
    key: &str,
    country: Option<&str>,
    actor: &str,
) -> Result<Peer, ApiError> {
    let peer = Peer {
        name: parse_name("name", name)?,
        url: parse_url("url", url)?,
        public_key: mhis_cert::node::decode_public_key(key)
            .map_err(|e| ApiError::invalid("key", e.to_string()))?,
        country: country
            .map(|c| mhis_domain::country::CountryCode::parse("country", c))
            .transpose()?
            .map(|c| c.as_str().to_owned()),
        created_at: state.now(),
    };
    let audit =
        mhis_domain::audit::AuditEvent::new(actor.to_owned(), "peer.add", "peer", None, None);
    state.store.add_peer(&peer, &audit).await?;
    Ok(peer)
}

/// A node or peer name: 1–64 lower-case letters, digits, `-` or `.`.
fn parse_name(field: &str, raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ApiError::invalid(
            field,
            format!("'{raw}' is not a name: 1–64 lower-case letters, digits, '-' or '.'"),
        ))
    }
}

/// An `http` or `https` base URL, without a trailing slash.
fn parse_url(field: &str, raw: &str) -> Result<String, ApiError> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| ApiError::invalid(field, format!("'{raw}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ApiError::invalid(
            field,
            format!("'{raw}' must be an http or https URL with a host"),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
