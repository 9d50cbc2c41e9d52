//! Destination-country protocols as data, and the engine that reads them.
//!
//! A protocol (`protocols/*.toml` at the root of the repository) is the set
//! of rules a destination country applies to a migration health assessment
//! (`protocols.md`): which history questions and tests are due, what the
//! results mean (classes, outcome, referrals), and how long a certificate is
//! valid. Algorithms several protocols share (the WHO three-test HIV
//! strategy, syphilis screening, TB bacteriology) live once, in
//! `protocols/shared/*.toml`, and protocols include them by id. Every rule
//! carries an id and the published source it summarises; both appear in the
//! reasons of each decision.
//!
//! This module does no I/O: [`parse`] reads one file's text, and
//! [`ProtocolSet::from_files`] links `(file name, text)` pairs the caller
//! has read; [`ProtocolSet::built_in`] embeds the repository's files.
//!
//! Layout:
//! - `expr` — the condition language of `when = "…"` strings;
//! - `file` — the TOML shape of a file, and [`parse`];
//! - `load` — linking files, checking every name, compiling conditions;
//! - `engine` — [`Protocol::decide`] and the [`Decision`] it returns;
//! - `facts` — the [`Case`] of the `classify` contract and its compact
//!   [`Facts`];
//! - [`bench`](mod@bench) — the workload of `mhis bench engine`.
//!
//! # Readings where protocols.md is open
//!
//! These choices are the engine's and the files', and deserve a clinical
//! review:
//! - A finding that refuses clearance (US class A, UK active TB, every
//!   Russian `not_cleared` finding) is decided as soon as it is known, while
//!   other results are still due; a follow-up finding is not.
//! - Comparing a fact that was not recorded is false, even with `!=`:
//!   UK "`tb.previous` ≠ none" needs `tb.previous` recorded.
//! - A partial birth date counts from the last day it can stand for, so an
//!   age threshold never applies before it is certain to. That is cautious
//!   for rules that start at an age, not for rules that stop at one: a child
//!   born "2015" counts as under 11 for the UK chest X-ray rule.
//! - An invalid molecular test (Russian `xpert = invalid`) keeps `xpert` due.
//! - An indeterminate IGRA counts as done; `tb.dot_completed` alone gives US
//!   class B0, as §3 reads; only females aged 11 or more are asked
//!   `pregnant` (UK).
//! - A certificate validity is given only when nothing is due: US has none
//!   in its sources (`null`), Russia 3 months, the UK 6 (3 after a contact),
//!   and only for `cleared`.
//! - The hepatitis referral rule cites protocols.md §6, which names no
//!   published source.
//!
//! # File format
//!
//! A **protocol** file (`kind = "protocol"`) has `id`, `version`,
//! `destination` (ISO 3166-1 alpha-2), `title`, `include` (ids of shared
//! sub-algorithms) and:
//! - `[[history]]` and `[[due]]` entries: `id`, `codes` (or `action`, a due
//!   item that is not an observation, such as `hiv.retest`), optional `when`,
//!   `satisfied_by` (codes any one of which fulfils the entry),
//!   `pending_values` (recorded values that keep a code due, such as a
//!   `pending` culture) and `source`; `[[due]] algorithm = "<id>"` places an
//!   included sub-algorithm's own due entries;
//! - `[[classification]]` groups (`key`, and `[[classification.rule]]`s
//!   with `id`, `when`, `class`, `outcome`, `referrals`, `while_pending`,
//!   `source`), first match wins; a rule without `when` is the fallback;
//! - `[[rule]]`s that each fire when they match (`id`, `when`, optional
//!   `outcome`, `referrals`, `while_pending`, `source`);
//! - `[certificate]` (`id`, optional `months`, `outcomes` that earn a
//!   certificate, `source`, and `[[certificate.rule]]`s that set other
//!   `months` under a condition).
//!
//! A **sub-algorithm** file (`kind = "algorithm"`) has `id`, `name` (how
//! conditions read its result), `version`, `title`, `results`, `otherwise`
//! (the result when no rule matches), `[[rule]]`s (`id`, `when`, `result`,
//! `source`; first match wins) and `[[due]]` entries.
//!
//! Conditions are strings in a small language (`tb.contact = true and
//! tst.mm >= 5`, `cxr in [suggestive_tb, inconclusive]`, `absent(cxr)`,
//! `hiv = positive`, `required(us.due.sputum)`); its grammar is in `expr`.
//!
//! **Invariant**: a decision is a pure function of the facts; a protocol
//! that loaded cannot fail to decide.

pub mod bench;
mod engine;
mod expr;
mod facts;
mod file;
mod load;

pub use engine::{Classes, Decision, Protocol, Reason};
pub use facts::{Case, Facts};
pub use file::{ProtocolFile, parse};

use crate::error::FieldError;
use crate::vocabulary::Vocabulary;
use facts::CodeTable;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The protocol files shipped with mhis: `(file name relative to
/// protocols/, text)`.
pub const BUILT_IN_FILES: &[(&str, &str)] = &[
    (
        "shared/hiv-who-3test.toml",
        include_str!("../../../../protocols/shared/hiv-who-3test.toml"),
    ),
    (
        "shared/syphilis.toml",
        include_str!("../../../../protocols/shared/syphilis.toml"),
    ),
    (
        "shared/tb-bacteriology.toml",
        include_str!("../../../../protocols/shared/tb-bacteriology.toml"),
    ),
    (
        "us-cdc-ti-tb.toml",
        include_str!("../../../../protocols/us-cdc-ti-tb.toml"),
    ),
    (
        "uk-pre-entry-tb.toml",
        include_str!("../../../../protocols/uk-pre-entry-tb.toml"),
    ),
    (
        "ru-labour.toml",
        include_str!("../../../../protocols/ru-labour.toml"),
    ),
];

/// The outcome of an assessment.
///
/// The three final outcomes are ordered by severity, `cleared` <
/// `cleared_with_follow_up` < `not_cleared`; `pending` (results still due)
/// is not a final outcome and has no severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Fit to travel without conditions.
    Cleared,
    /// Fit to travel, with a follow-up or evaluation on arrival.
    ClearedWithFollowUp,
    /// Not fit to travel until treated.
    NotCleared,
    /// Results still due; nothing decided yet.
    Pending,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 4] = [
        Self::Cleared,
        Self::ClearedWithFollowUp,
        Self::NotCleared,
        Self::Pending,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Cleared => "cleared",
            Self::ClearedWithFollowUp => "cleared_with_follow_up",
            Self::NotCleared => "not_cleared",
            Self::Pending => "pending",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == raw)
    }

    /// Severity of a final outcome (0, 1, 2); `None` for `pending`.
    pub fn severity(&self) -> Option<u8> {
        match self {
            Self::Cleared => Some(0),
            Self::ClearedWithFollowUp => Some(1),
            Self::NotCleared => Some(2),
            Self::Pending => None,
        }
    }

    /// The more severe of two outcomes (`pending` counts as least severe).
    pub fn most_severe(self, other: Self) -> Self {
        let rank = |o: Self| o.severity().map_or(0, |s| s + 1);
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// Whether a physician may finalise an assessment with `final_outcome`
/// when the engine decided `engine`: the final outcome may be more severe
/// than the engine's, never less (`protocols.md` §6). `pending` is never a
/// final outcome; while the engine is `pending`, only `not_cleared` (the
/// most severe, which no result could make less severe) may be finalised.
pub fn severity_allows(engine: Outcome, final_outcome: Outcome) -> bool {
    match (engine.severity(), final_outcome.severity()) {
        (_, None) => false,
        (None, Some(f)) => f == 2,
        (Some(e), Some(f)) => f >= e,
    }
}

/// Why protocol files were refused: the file, the 1-based line, and the
/// reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {reason}")]
pub struct LoadError {
    /// The file name, as given by the caller.
    pub file: String,
    /// The 1-based line the fault is on.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Why a case could not be classified. The CLI exits with status 2 on
/// either; the API answers 404 for an unknown protocol and 422 for a bad
/// case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    /// No loaded protocol has this id.
    #[error("unknown protocol '{id}'; known: {known}")]
    UnknownProtocol {
        /// The id asked for.
        id: String,
        /// The ids known, comma-separated.
        known: String,
    },
    /// The case is malformed, or names an unknown code or a value outside
    /// its code's list; the error names the field.
    #[error("{0}")]
    Case(#[from] FieldError),
}

/// Every loaded protocol, by id, compiled against one vocabulary.
#[derive(Debug, Clone)]
pub struct ProtocolSet {
    vocabulary: Vocabulary,
    codes: Arc<CodeTable>,
    protocols: Vec<Protocol>,
}

impl ProtocolSet {
    /// The protocols shipped with mhis, over the built-in vocabulary.
    pub fn built_in() -> Self {
        // The embedded files are checked by a unit test, so this cannot
        // fail in a build that passed its tests.
        Self::from_files(Self::built_in_files()).expect("the built-in protocols are valid")
    }

    /// The shipped files as owned `(file name, text)` pairs, for callers
    /// that add their own files to them.
    pub fn built_in_files() -> Vec<(String, String)> {
        BUILT_IN_FILES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect()
    }

    /// Loads protocol and sub-algorithm files, given as `(file name, text)`
    /// pairs, over the built-in vocabulary.
    pub fn from_files(files: Vec<(String, String)>) -> Result<Self, LoadError> {
        Self::from_files_with(Vocabulary::built_in(), files)
    }

    /// Loads files over a given vocabulary.
    pub fn from_files_with(
        vocabulary: Vocabulary,
        files: Vec<(String, String)>,
    ) -> Result<Self, LoadError> {
        let parsed = files
            .iter()
            .map(|(name, text)| parse(name, text))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_parsed(vocabulary, parsed)
    }

    /// Links files already read by [`parse`].
    pub fn from_parsed(
        vocabulary: Vocabulary,
        files: Vec<ProtocolFile>,
    ) -> Result<Self, LoadError> {
        let codes = Arc::new(CodeTable::new(&vocabulary));
        let protocols = load::link(&codes, &files)?;
        Ok(Self {
            vocabulary,
            codes,
            protocols,
        })
    }

    /// The vocabulary cases are checked against.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// Every protocol, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Protocol> {
        self.protocols.iter()
    }

    /// Every protocol id, ordered.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.protocols.iter().map(|p| p.id.as_str())
    }

    /// The protocol `id`, or an error naming it and the known ids.
    pub fn get(&self, id: &str) -> Result<&Protocol, ClassifyError> {
        self.protocols
            .binary_search_by(|p| p.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.protocols.get(i))
            .ok_or_else(|| ClassifyError::UnknownProtocol {
                id: id.to_owned(),
                known: self.ids().collect::<Vec<_>>().join(", "),
            })
    }

    /// The compact facts of a case, for [`Protocol::decide`].
    pub fn facts(&self, case: &Case) -> Facts {
        Facts::new(&self.codes, case)
    }

    /// Decides a case under the protocol `id`.
    pub fn classify(&self, id: &str, case: &Case) -> Result<Decision<'_>, ClassifyError> {
        Ok(self.get(id)?.decide(&self.facts(case)))
    }

    /// The `classify` contract (`protocols.md` §7): parses the case JSON,
    /// checks it against the vocabulary, and decides it under protocol
    /// `id`. Serialise the decision with `serde_json` for the exact output.
    pub fn classify_json(&self, id: &str, case_json: &str) -> Result<Decision<'_>, ClassifyError> {
        let protocol = self.get(id)?;
        let case = Case::parse_json(&self.vocabulary, case_json)?;
        Ok(protocol.decide(&self.facts(&case)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_protocols_load() {
        let set = ProtocolSet::built_in();
        assert_eq!(
            set.ids().collect::<Vec<_>>(),
            ["ru-labour", "uk-pre-entry-tb", "us-cdc-ti-tb"]
        );
        for p in set.iter() {
            assert!(!p.version().is_empty());
        }
        assert_eq!(
            set.get("uk-pre-entry-tb").unwrap().destination().as_str(),
            "GB"
        );
    }

    #[test]
    fn severity_only_rises() {
        use Outcome::*;
        assert!(severity_allows(Cleared, Cleared));
        assert!(severity_allows(Cleared, NotCleared));
        assert!(severity_allows(ClearedWithFollowUp, NotCleared));
        assert!(!severity_allows(NotCleared, ClearedWithFollowUp));
        assert!(!severity_allows(ClearedWithFollowUp, Cleared));
        assert!(!severity_allows(Cleared, Pending));
        assert!(severity_allows(Pending, NotCleared));
        assert!(!severity_allows(Pending, Cleared));
        assert_eq!(Cleared.most_severe(NotCleared), NotCleared);
        assert_eq!(Pending.most_severe(Cleared), Cleared);
    }
}
