//! The audit trail's hash chain.
//!
//! Every write, and every read of personal data, appends an entry: who,
//! when, what, which record, from where. Each entry stores the SHA-256 hash
//! of the previous entry and a hash over its own fields and that previous
//! hash, so editing, deleting, inserting or reordering stored entries breaks
//! the chain at the first place touched, and [`verify_chain`] names it.
//!
//! The chain detects tampering by anyone who does not also recompute every
//! later hash; an export of the head hash kept elsewhere guards against
//! that too.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a caller records: the event, before it is placed in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Who: a user name, `system`, or a token's owner.
    pub actor: String,
    /// What: a verb such as `migrant.create`, `migrant.read`.
    pub action: String,
    /// The kind of record (`migrant`, `assessment`…).
    pub entity: String,
    /// Which record, when there is one.
    pub entity_id: Option<String>,
    /// From where: the client address.
    pub origin: Option<String>,
}

impl AuditEvent {
    /// An event on one record.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        entity: impl Into<String>,
        entity_id: Option<String>,
        origin: Option<String>,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            entity: entity.into(),
            entity_id,
            origin,
        }
    }
}

/// A stored entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// The hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The hash of an entry: SHA-256, hex, over a JSON array of its fields in a
/// fixed order (JSON escaping makes the encoding unambiguous).
pub fn entry_hash(seq: i64, at: DateTime<Utc>, event: &AuditEvent, prev_hash: &str) -> String {
    let canonical = serde_json::json!([
        seq,
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        event.origin,
        prev_hash,
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The entry that follows `previous` (or starts the chain).
pub fn next_entry(
    previous: Option<(i64, &str)>,
    at: DateTime<Utc>,
    event: AuditEvent,
) -> AuditEntry {
    let (seq, prev_hash) = match previous {
        Some((seq, hash)) => (seq + 1, hash.to_owned()),
        None => (1, GENESIS.to_owned()),
    };
    let hash = entry_hash(seq, at, &event, &prev_hash);
    AuditEntry {
        seq,
        at,
        event,
        prev_hash,
        hash,
    }
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The entry's fields no longer match its hash.
    Modified {
        /// The entry.
        seq: i64,
    },
    /// The entry was not part of the chain: it does not follow its
    /// predecessor, but the entry after it does.
    Inserted {
        /// The entry.
        seq: i64,
    },
    /// One or more entries are missing before `seq`.
    Deleted {
        /// The first entry after the gap.
        seq: i64,
        /// The sequence number that should have come.
        expected_seq: i64,
    },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Modified { seq } => write!(f, "entry {seq} was modified"),
            Self::Inserted { seq } => write!(f, "entry {seq} was inserted"),
            Self::Deleted { seq, expected_seq } => write!(
                f,
                "entries were deleted before entry {seq} (expected entry {expected_seq})"
            ),
        }
    }
}

/// Checks a whole trail, in stored order. Returns the number of entries,
/// or the first break.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<usize, ChainBreak> {
    let mut prev_hash = GENESIS;
    for (i, entry) in entries.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if entry_hash(entry.seq, entry.at, &entry.event, &entry.prev_hash) != entry.hash {
            return Err(ChainBreak::Modified { seq: entry.seq });
        }
        if entry.prev_hash != prev_hash {
            // A stranger whose successor links to our predecessor was
            // inserted; otherwise something between is missing.
            let next_links_back = entries
                .get(i + 1)
                .is_some_and(|next| next.prev_hash == prev_hash);
            if next_links_back || entry.seq < expected_seq {
                return Err(ChainBreak::Inserted { seq: entry.seq });
            }
            return Err(ChainBreak::Deleted {
                seq: entry.seq,
                expected_seq,
            });
        }
        if entry.seq != expected_seq {
            return Err(if entry.seq > expected_seq {
                ChainBreak::Deleted {
                    seq: entry.seq,
                    expected_seq,
                }
            } else {
                ChainBreak::Inserted { seq: entry.seq }
            });
        }
        prev_hash = &entry.hash;
    }
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let event = AuditEvent::new(
                "amina",
                "migrant.read",
                "migrant",
                Some(format!("m{i}")),
                Some("127.0.0.1".into()),
            );
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            let at = DateTime::from_timestamp(1_700_000_000 + i as i64, 0).unwrap();
            let entry = next_entry(prev, at, event);
            out.push(entry);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(5)), Ok(5));
        assert_eq!(verify_chain(&[]), Ok(0));
    }

    #[test]
    fn a_modified_entry_is_named() {
        let mut c = chain(5);
        c[2].event.actor = "mallory".into();
        assert_eq!(verify_chain(&c), Err(ChainBreak::Modified { seq: 3 }));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut c = chain(5);
        c.remove(2);
        assert_eq!(
            verify_chain(&c),
            Err(ChainBreak::Deleted {
                seq: 4,
                expected_seq: 3
            })
        );
        let mut c = chain(5);
        c.remove(0);
        assert!(matches!(
            verify_chain(&c),
            Err(ChainBreak::Deleted { seq: 2, .. })
        ));
    }

    #[test]
    fn an_inserted_entry_is_named() {
        let mut c = chain(5);
        // A forged entry with a valid hash of its own, slipped in after 2.
        let forged = next_entry(
            Some((2, "ffff")),
            c[1].at,
            AuditEvent::new("mallory", "x", "y", None, None),
        );
        c.insert(2, AuditEntry { seq: 3, ..forged });
        let forged = &mut c[2];
        forged.hash = entry_hash(forged.seq, forged.at, &forged.event, &forged.prev_hash);
        assert_eq!(verify_chain(&c), Err(ChainBreak::Inserted { seq: 3 }));
    }

    #[test]
    fn reordered_entries_are_detected() {
        let mut c = chain(5);
        c.swap(1, 3);
        assert!(verify_chain(&c).is_err());
    }
}
