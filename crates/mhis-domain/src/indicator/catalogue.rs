//! The indicator catalogue file (`indicators/catalogue.toml`).
//!
//! Two parts, both data:
//! - `[[flag]]`: a named fact about an assessment derived from its
//!   observations: `any` (one of the listed codes has one of the listed
//!   values) or `all` (each has); a code ending in `*` is a prefix
//!   (`sputum.smear.*`); an empty `values` means "recorded at all".
//! - `[[indicator]]`: a numerator and a denominator, each a list of flags
//!   that must all hold on a fact row of one kind (`assessment` or
//!   `referral`), a unit, an optional split by an attribute (`outcome`,
//!   `tb_class`), and for medians and percentiles the measure they read.
//!
//! Built-in flags, set by the code that builds fact rows: `assessed`,
//! `finalised`, `certificate_issued` (assessments); `referral_issued`,
//! `outcome_reported`, `awaiting_outcome`, and `overdue` (awaiting an
//! outcome with the due date before the evaluation day) for referrals.

use super::facts::FactKind;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// Flags the fact builders set themselves.
pub const BUILT_IN_FLAGS: [&str; 7] = [
    "assessed",
    "finalised",
    "certificate_issued",
    "referral_issued",
    "outcome_reported",
    "awaiting_outcome",
    "overdue",
];

/// One condition on an observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeCondition {
    /// A vocabulary code, or a prefix ending in `*`.
    pub code: String,
    /// Values that satisfy it; empty: any recorded value.
    #[serde(default)]
    pub values: Vec<String>,
}

impl CodeCondition {
    /// Whether an observation (`code`, `value`) satisfies it.
    pub fn holds(&self, code: &str, value: &str) -> bool {
        let code_matches = match self.code.strip_suffix('*') {
            Some(prefix) => code.starts_with(prefix),
            None => code == self.code,
        };
        code_matches && (self.values.is_empty() || self.values.iter().any(|v| v == value))
    }
}

/// A flag derived from observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    /// Its name (`cxr_suggestive`).
    pub id: String,
    /// Holds when any condition holds.
    #[serde(default)]
    pub any: Vec<CodeCondition>,
    /// Holds when every condition holds.
    #[serde(default)]
    pub all: Vec<CodeCondition>,
    /// Where the definition comes from.
    pub source: String,
}

impl Flag {
    /// Whether the flag holds over an assessment's current observations
    /// (`code`, value as text).
    pub fn holds<'a>(
        &self,
        observations: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> bool {
        let one = |c: &CodeCondition| observations.clone().any(|(code, v)| c.holds(code, v));
        (self.any.is_empty() || self.any.iter().any(one)) && self.all.iter().all(one)
    }
}

/// How an indicator's value is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// The numerator count.
    Count,
    /// numerator / denominator × 100.
    Percent,
    /// numerator / denominator × 100,000.
    #[serde(rename = "per_100000")]
    Per100000,
    /// The median of a measure over the numerator's rows, in days.
    MedianDays,
    /// The 90th percentile of a measure (nearest rank), in days.
    P90Days,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Identifier (`tb_bact_confirmed_per_100k`).
    pub id: String,
    /// Name for people.
    pub name: String,
    /// What it measures, in words.
    pub definition: String,
    /// The fact rows it counts.
    pub facts: FactKind,
    /// How it is expressed.
    pub unit: Unit,
    /// Flags every numerator row has.
    pub numerator: Vec<String>,
    /// Flags every denominator row has (ratios only).
    #[serde(default)]
    pub denominator: Vec<String>,
    /// One value per value of this attribute (`outcome`, `tb_class`).
    pub split: Option<String>,
    /// The measure a median or percentile reads (`turnaround_days`).
    pub measure: Option<String>,
    /// Where the definition comes from.
    pub source: String,
}

/// The catalogue: flags and indicators, and the small-cell threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Version label.
    pub version: String,
    /// Counts from 1 to `suppress_below - 1` are suppressed in every output.
    pub suppress_below: u64,
    /// Flags derived from observations.
    #[serde(rename = "flag", default)]
    pub flags: Vec<Flag>,
    /// Indicators.
    #[serde(rename = "indicator", default)]
    pub indicators: Vec<Indicator>,
}

/// The catalogue shipped with mhis.
pub const BUILT_IN: &str = include_str!("../../../../indicators/catalogue.toml");

impl Catalogue {
    /// The catalogue shipped with mhis.
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("the built-in indicator catalogue parses")
    }

    /// Parses and checks a catalogue: unique ids, every flag an indicator
    /// names defined, ratios with a denominator, medians with a measure.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let c: Catalogue =
            toml::from_str(text).map_err(|e| FieldError::new("catalogue", e.to_string()))?;
        if c.suppress_below == 0 {
            return Err(FieldError::new("suppress_below", "must be at least 1"));
        }
        for (i, f) in c.flags.iter().enumerate() {
            let field = format!("flag[{i}]");
            if c.flags[..i].iter().any(|o| o.id == f.id) || BUILT_IN_FLAGS.contains(&f.id.as_str())
            {
                return Err(FieldError::new(
                    format!("{field}.id"),
                    format!("'{}' is defined twice", f.id),
                ));
            }
            if f.any.is_empty() && f.all.is_empty() {
                return Err(FieldError::new(field, "needs 'any' or 'all' conditions"));
            }
        }
        let known =
            |name: &str| BUILT_IN_FLAGS.contains(&name) || c.flags.iter().any(|f| f.id == name);
        for (i, ind) in c.indicators.iter().enumerate() {
            let field = format!("indicator[{i}]");
            if c.indicators[..i].iter().any(|o| o.id == ind.id) {
                return Err(FieldError::new(
                    format!("{field}.id"),
                    format!("'{}' is defined twice", ind.id),
                ));
            }
            for (part, names) in [
                ("numerator", &ind.numerator),
                ("denominator", &ind.denominator),
            ] {
                if let Some(bad) = names.iter().find(|n| !known(n)) {
                    return Err(FieldError::new(
                        format!("{field}.{part}"),
                        format!("no flag is named '{bad}'"),
                    ));
                }
            }
            let ratio = matches!(ind.unit, Unit::Percent | Unit::Per100000);
            if ratio && ind.denominator.is_empty() {
                return Err(FieldError::new(
                    format!("{field}.denominator"),
                    "a ratio needs a denominator",
                ));
            }
            if ind.split.is_some() && ind.unit != Unit::Count {
                return Err(FieldError::new(
                    format!("{field}.split"),
                    "only counts are split",
                ));
            }
            let distribution = matches!(ind.unit, Unit::MedianDays | Unit::P90Days);
            if distribution != ind.measure.is_some() {
                return Err(FieldError::new(
                    format!("{field}.measure"),
                    "medians and percentiles need a measure; other units take none",
                ));
            }
        }
        Ok(c)
    }

    /// The indicator with this id.
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}
