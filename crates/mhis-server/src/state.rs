//! What every handler shares: the store, the vocabulary, the protocol set
//! and the clock.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use mhis_domain::instrument::InstrumentSet;
use mhis_domain::protocol::ProtocolSet;
use mhis_domain::referral::ReasonCatalogue;
use mhis_domain::vocabulary::Vocabulary;
use mhis_store::Store;
use std::sync::Arc;

/// A source of the current time; tests pin it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The observation vocabulary.
    pub vocabulary: Arc<Vocabulary>,
    /// The destination protocols this deployment applies.
    pub protocols: Arc<ProtocolSet>,
    /// The clock.
    pub clock: Clock,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Per-address login attempt counter.
    pub login_limiter: Arc<crate::auth::LoginLimiter>,
    /// Mark cookies `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
    /// The key that seals site signing keys, when configured.
    pub key_encryption: Option<Arc<crate::certificates::KeyEncryptionKey>>,
    /// The referral reasons.
    pub reasons: Arc<ReasonCatalogue>,
    /// The node identity and the delivery worker's wake-up.
    pub federation: Arc<crate::federation::Federation>,
    /// The indicator catalogue and the aggregate refresher's wake-up.
    pub indicators: Arc<crate::indicators::Indicators>,
    /// The screening instruments, with the licensed wording a deployment
    /// supplied (MHPSS).
    pub instruments: Arc<InstrumentSet>,
}

impl AppState {
    /// State over a store, with the built-in vocabulary and protocols and
    /// the system clock.
    pub fn new(store: Arc<dyn Store>, vocabulary: Arc<Vocabulary>) -> Self {
        Self {
            store,
            vocabulary,
            protocols: Arc::new(ProtocolSet::built_in()),
            clock: Arc::new(Utc::now),
            max_body_bytes: 1024 * 1024,
            login_limiter: Arc::default(),
            secure_cookies: false,
            key_encryption: None,
            reasons: Arc::new(ReasonCatalogue::built_in()),
            federation: Arc::default(),
            indicators: Arc::default(),
            instruments: Arc::new(InstrumentSet::built_in()),
        }
    }

    /// The current time, to the microsecond: the precision both backends
    /// store, so a value read back equals the value written.
    pub fn now(&self) -> DateTime<Utc> {
        let now = (self.clock)();
        now.trunc_subsecs(6)
    }

    /// Today's date (UTC).
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}
