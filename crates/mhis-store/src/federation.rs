//! Storage of referrals, departures and federation: the node's identity,
//! its peers, the transactional outbox and the idempotent inbox.
//!
//! **Invariants** (each backend keeps them; the story tests check them):
//! - a referral change and the message that tells the other side about it
//!   are written in one transaction ([`FederationStore::change_referral`]
//!   with its `outbox` argument), so a crash never leaves one without the
//!   other;
//! - a state change is a compare-and-set on the state it was computed from:
//!   two concurrent changes cannot both apply;
//! - an incoming message is recorded in the inbox in the transaction that
//!   applies it, keyed by its message id: a replay finds the id and changes
//!   nothing ([`Delivery::Duplicate`]);
//! - the outbox hands out only the oldest undelivered message of each
//!   referral, so a peer sees a referral's events in the order they
//!   happened.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::{AssessmentId, MessageId, ReferralId, SiteId};
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::referral::{Referral, ReferralOutcome, ReferralState, TimelineEntry};

/// This deployment's identity among its peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// A short name peers know it by (`tj-dushanbe-panel`).
    pub name: String,
    /// The base URL peers send messages to.
    pub url: String,
    /// Ed25519 public key, 32 bytes.
    pub public_key: Vec<u8>,
    /// The PKCS#8 private key, sealed with the key encryption key.
    pub private_key_sealed: Vec<u8>,
    /// Where referrals from peers land when they name no known site.
    pub inbox_site_id: SiteId,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A peer deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Peer {
    /// The local name for it (`uz-moh`).
    pub name: String,
    /// Its base URL.
    pub url: String,
    /// Its Ed25519 node public key, 32 bytes.
    #[serde(skip)]
    pub public_key: Vec<u8>,
    /// The country whose health authority it is, for arrival
    /// notifications (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Added.
    pub created_at: DateTime<Utc>,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The message id (the FHIR Bundle id).
    pub id: MessageId,
    /// The peer it goes to.
    pub peer: String,
    /// The referral it is about.
    pub referral_id: ReferralId,
    /// The FHIR message event code (`referral-request`, `referral-update`).
    pub event: String,
    /// The exact bytes sent: a FHIR Bundle of type `message`, as JSON.
    pub body: Vec<u8>,
    /// The node's Ed25519 signature over `body`.
    pub signature: Vec<u8>,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Not to be tried again before.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the peer acknowledged it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The peer's answer: `applied`, `duplicate` or `rejected`.
    pub result: Option<String>,
}

impl OutboxMessage {
    /// A new message, due now.
    pub fn new(
        id: MessageId,
        peer: &str,
        referral_id: ReferralId,
        event: &str,
        body: Vec<u8>,
        signature: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            peer: peer.to_owned(),
            referral_id,
            event: event.to_owned(),
            body,
            signature,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            delivered_at: None,
            result: None,
        }
    }
}

/// A message received from a peer, as kept in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    /// The message id.
    pub id: MessageId,
    /// The peer that sent it.
    pub peer: String,
    /// The referral it is about.
    pub referral_id: ReferralId,
    /// The FHIR message event code.
    pub event: String,
    /// The exact bytes received.
    pub body: Vec<u8>,
    /// The sender's signature over `body`.
    pub signature: Vec<u8>,
    /// Received.
    pub received_at: DateTime<Utc>,
}

/// What receiving a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Applied now.
    Applied,
    /// Seen before: nothing changed.
    Duplicate,
}

impl Delivery {
    /// The wire name, as acknowledgements carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
        }
    }
}

/// One state change of a referral, computed by the domain's state machine
/// from `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralChange {
    /// The referral.
    pub id: ReferralId,
    /// The state the change was computed from; the store refuses it when
    /// the stored state differs.
    pub from: ReferralState,
    /// The timeline entries it adds, in order; the last one's state is the
    /// new state.
    pub entries: Vec<TimelineEntry>,
    /// A reported outcome: what, when, and the receiver's note.
    pub outcome: Option<(ReferralOutcome, NaiveDate, Option<String>)>,
}

impl ReferralChange {
    /// The state after the change.
    pub fn to(&self) -> ReferralState {
        self.entries.last().map_or(self.from, |e| e.state)
    }
}

/// What an incoming message does.
#[derive(Debug, Clone, PartialEq)]
pub enum IncomingEffect {
    /// A new referral from the peer.
    Create {
        /// The local copy.
        referral: Box<Referral>,
        /// Its first timeline entries.
        history: Vec<TimelineEntry>,
    },
    /// A change to a referral both sides hold.
    Change(ReferralChange),
}

/// Which referrals a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralView {
    /// Addressed to the sites (received from peers or from local sites).
    Inbox,
    /// Written at the sites.
    Outbox,
    /// Held or received at the sites, due before `today`, no outcome yet.
    Overdue,
    /// Every referral of the sites.
    All,
}

/// Filters for listing referrals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralFilter {
    /// The view.
    pub view: ReferralView,
    /// The user's sites (`None`: every site).
    pub sites: Option<Vec<SiteId>>,
    /// Of one assessment.
    pub assessment_id: Option<AssessmentId>,
    /// Today, for the overdue view.
    pub today: NaiveDate,
    /// Reasons whose referrals are left out: the restricted (MHPSS)
    /// reasons, for a user who may not see MHPSS records.
    pub hidden_reasons: Vec<String>,
}

/// A migrant's recorded departure after an assessment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Departure {
    /// The assessment.
    pub assessment_id: AssessmentId,
    /// The day of departure.
    pub departed_on: NaiveDate,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// The arrival notification it triggered, if any.
    pub notification_id: Option<ReferralId>,
}

/// The storage of referrals and federation.
#[async_trait]
pub trait FederationStore: Send + Sync {
    /// Stores a new referral with its first timeline entries, and the
    /// message announcing it when it goes to a peer, in one transaction.
    async fn create_referral(
        &self,
        referral: &Referral,
        history: &[TimelineEntry],
        outbox: Option<&OutboxMessage>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// One referral.
    async fn get_referral(&self, id: ReferralId) -> StoreResult<Referral>;
    /// A referral's timeline, oldest first.
    async fn referral_timeline(&self, id: ReferralId) -> StoreResult<Vec<TimelineEntry>>;
    /// Referrals of a view, newest first.
    async fn list_referrals(
        &self,
        filter: &ReferralFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Referral>>;
    /// How many referrals of the sites are overdue on `today`.
    async fn count_overdue(&self, sites: Option<&[SiteId]>, today: NaiveDate) -> StoreResult<i64>;
    /// Applies a state change (a conflict on `state` when the stored state
    /// is no longer `change.from`) and queues the message telling the other
    /// side, in one transaction.
    async fn change_referral(
        &self,
        change: &ReferralChange,
        outbox: Option<&OutboxMessage>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Referral>;

    /// Records a departure (a conflict when one is recorded already), with
    /// the arrival notification it triggers, in one transaction.
    async fn record_departure(
        &self,
        departure: &Departure,
        notification: Option<(&Referral, &[TimelineEntry], &OutboxMessage)>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// The departure recorded after an assessment.
    async fn departure_of(&self, assessment: AssessmentId) -> StoreResult<Option<Departure>>;

    /// This deployment's node identity, once set.
    async fn node_identity(&self) -> StoreResult<Option<NodeIdentity>>;
    /// Sets the node identity (a conflict when one exists).
    async fn set_node_identity(&self, node: &NodeIdentity, audit: &AuditEvent) -> StoreResult<()>;
    /// Adds a peer; its name and key must be unused.
    async fn add_peer(&self, peer: &Peer, audit: &AuditEvent) -> StoreResult<()>;
    /// Every peer, by name.
    async fn list_peers(&self) -> StoreResult<Vec<Peer>>;

    /// Undelivered messages due at `now`, oldest first, at most one per
    /// referral (the oldest), at most `limit`.
    async fn due_messages(&self, now: DateTime<Utc>, limit: i64)
    -> StoreResult<Vec<OutboxMessage>>;
    /// Records a peer's acknowledgement (`result`: `applied`, `duplicate`
    /// or `rejected`, with the signed acknowledgement), and applies
    /// `change` when the referral is still in `change.from`.
    async fn message_delivered(
        &self,
        id: MessageId,
        result: &str,
        ack: &[u8],
        change: Option<&ReferralChange>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Records a failed attempt and when to try again.
    async fn message_failed(
        &self,
        id: MessageId,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Outbox messages, newest first; only undelivered ones when asked.
    async fn list_outbox(
        &self,
        undelivered_only: bool,
        page: PageRequest,
    ) -> StoreResult<Page<OutboxMessage>>;
    /// Whether a message id is already in the inbox.
    async fn inbox_has(&self, id: MessageId) -> StoreResult<bool>;
    /// Records an incoming message and applies its effect, with the reply
    /// it calls for, in one transaction; a message id seen before changes
    /// nothing.
    async fn receive_message(
        &self,
        message: &InboxMessage,
        effect: &IncomingEffect,
        reply: Option<&OutboxMessage>,
        audit: &AuditEvent,
    ) -> StoreResult<Delivery>;
}
