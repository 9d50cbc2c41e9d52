//! Storage of the live monitoring aggregates: the fact row each record
//! counts as, the cube of counts (see `mhis_domain::indicator::cube`), and
//! the marks that say which records changed.
//!
//! **Invariants** (each backend keeps them; the tests check them):
//! - a record is marked in the transaction that changes it (database
//!   triggers on assessments, observations, certificates, referrals and
//!   migrants), so no write path can forget the aggregates;
//! - [`IndicatorStore::put_fact`] replaces a record's fact row and moves
//!   the cube by the difference in one transaction, and clears the mark
//!   only when it is still the generation the row was computed from: a
//!   change that lands meanwhile is refreshed again;
//! - the cube always equals the sum of the stored fact rows' terms.

use crate::StoreResult;
use async_trait::async_trait;
use mhis_domain::indicator::catalogue::Catalogue;
use mhis_domain::indicator::cube::{CubeKey, CubeQuery, CubeSum};
use mhis_domain::indicator::{FactKind, FactRow};

/// A record whose fact row needs rebuilding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirtyFact {
    /// Assessment or referral.
    pub kind: FactKind,
    /// Its id.
    pub id: uuid::Uuid,
    /// The mark's generation when it was read.
    pub generation: i64,
}

/// The stored kind name.
pub fn fact_kind_name(kind: FactKind) -> &'static str {
    match kind {
        FactKind::Assessment => "assessment",
        FactKind::Referral => "referral",
    }
}

/// Parses a stored kind name.
pub fn fact_kind_parse(raw: &str) -> Option<FactKind> {
    match raw {
        "assessment" => Some(FactKind::Assessment),
        "referral" => Some(FactKind::Referral),
        _ => None,
    }
}

/// The live aggregates.
#[async_trait]
pub trait IndicatorStore {
    /// Up to `limit` marked records.
    async fn dirty_facts(&self, limit: i64) -> StoreResult<Vec<DirtyFact>>;

    /// How many records are marked.
    async fn count_dirty_facts(&self) -> StoreResult<i64>;

    /// Replaces the record's fact row by `row` (`None`: it counts as
    /// nothing), moves the cube by the difference, and clears the mark if
    /// it is still at `dirty.generation`; one transaction. Returns whether
    /// the cube changed.
    async fn put_fact(
        &self,
        catalogue: &Catalogue,
        dirty: &DirtyFact,
        row: Option<&FactRow>,
    ) -> StoreResult<bool>;

    /// Sums of the cube for a planned query.
    async fn cube_sums(&self, query: &CubeQuery) -> StoreResult<Vec<CubeSum>>;

    /// Every stored fact row of a kind (exports and checks).
    async fn fact_rows(&self, kind: FactKind) -> StoreResult<Vec<FactRow>>;

    /// The catalogue fingerprint the cube was built for.
    async fn cube_fingerprint(&self) -> StoreResult<Option<String>>;

    /// Empties the cube and the fact rows, marks every record, and records
    /// the new fingerprint: the refresher rebuilds everything. One
    /// transaction.
    async fn reset_cube(&self, fingerprint: &str) -> StoreResult<()>;

    /// Bulk load for benchmarks: stores fact rows (ids given) and adds the
    /// cube cells computed from them, in large transactions, without
    /// touching the marks.
    async fn load_facts(
        &self,
        rows: &[(FactKind, uuid::Uuid, FactRow)],
        cells: &[(CubeKey, i64)],
    ) -> StoreResult<()>;
}
