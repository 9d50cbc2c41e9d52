//! The one scoring engine every instrument shares: [`Instrument::score`].
//!
//! Conditions are read with three values: met, not met, and not yet known
//! (an item unanswered, a score on an incomplete form). A threshold or flag
//! counts only when it is met; the result is positive as soon as one of its
//! thresholds is met, negative only when none is or can still be.

use super::file::{Condition, Instrument, Scale, ScaleKind};
use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One answer: an option code (`"several_days"`) or a whole number (an
/// option's value, or a point on a numeric scale).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Answer {
    /// A whole number.
    Number(i64),
    /// An option code.
    Code(String),
}

/// Answers by item id.
pub type Answers = BTreeMap<String, Answer>;

impl Answer {
    /// Reads answers from a JSON object (`{"phq9_1": 2, "phq9_2":
    /// "several_days", "phq9_3": null}`). `null` means unanswered; anything
    /// but a whole number or a string is refused, naming `answers.<item>`.
    pub fn map_from_json(value: &serde_json::Value) -> Result<Answers, FieldError> {
        let object = value
            .as_object()
            .ok_or_else(|| FieldError::new("answers", "must be an object of item id → answer"))?;
        let mut out = Answers::new();
        for (key, v) in object {
            let answer = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => Answer::Code(s.clone()),
                serde_json::Value::Number(n) => Answer::Number(n.as_i64().ok_or_else(|| {
                    FieldError::new(
                        format!("answers.{key}"),
                        format!("{n} is not a whole number"),
                    )
                })?),
                _ => {
                    return Err(FieldError::new(
                        format!("answers.{key}"),
                        "must be an option code, a whole number or null",
                    ));
                }
            };
            out.insert(key.clone(), answer);
        }
        Ok(out)
    }
}

/// The band a complete form's score falls in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoredBand {
    /// The band id (`moderate`).
    pub id: String,
    /// Its label.
    pub label: String,
}

/// A threshold the answers meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThresholdMet {
    /// The threshold id.
    pub id: String,
    /// What meeting it means.
    pub label: String,
    /// Where the cut-off is published.
    pub source: String,
}

/// A flag raised by the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flag {
    /// The flag id (`safety`).
    pub id: String,
    /// Whether it calls for action before the person leaves.
    pub immediate: bool,
    /// What the counsellor must do.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
}

/// The scoring of one completed (or partly completed) instrument.
///
/// Scores and the band are given only when every item is answered: a
/// missing answer is never counted as zero. Flags, thresholds on single
/// items and a positive result that one answer already decides are given
/// on an incomplete form too. Referrals are suggestions; the counsellor
/// confirms them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scored {
    /// The instrument id.
    pub instrument: String,
    /// The instrument file's version.
    pub version: String,
    /// Whether every item is answered.
    pub complete: bool,
    /// The ids of the unanswered items, in the order they are asked.
    pub missing: Vec<String>,
    /// Every score by id; empty unless complete.
    pub scores: BTreeMap<String, i64>,
    /// The severity band; `None` unless complete (or if the instrument
    /// has no bands).
    pub band: Option<ScoredBand>,
    /// Positive or negative; `None` when the instrument has no result
    /// rule, or while missing answers could still decide it.
    pub positive: Option<bool>,
    /// The thresholds met.
    pub thresholds_met: Vec<ThresholdMet>,
    /// The flags raised, immediate ones first.
    pub flags: Vec<Flag>,
    /// Suggested referral ids (see [`Instrument::referrals`] for labels),
    /// without repeats, those of flags first.
    pub suggested_referrals: Vec<String>,
}

fn scale_error(field: &str, scale: &Scale, shown: &str) -> FieldError {
    let expected = match &scale.kind {
        ScaleKind::Options(options) => format!(
            "expected one of: {}",
            options
                .iter()
                .map(|o| format!("{} ({})", o.code, o.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ScaleKind::Range { min, max } => format!("expected a whole number from {min} to {max}"),
    };
    FieldError::new(
        field,
        format!("{shown} is not an answer on this item; {expected}"),
    )
}

/// The value of an answer on `scale`, or an error naming `field`.
fn value_of(field: &str, scale: &Scale, answer: &Answer) -> Result<i64, FieldError> {
    let found = match (&scale.kind, answer) {
        (ScaleKind::Options(options), Answer::Code(code)) => {
            options.iter().find(|o| &o.code == code).map(|o| o.value)
        }
        (ScaleKind::Options(options), Answer::Number(n)) => {
            options.iter().find(|o| o.value == *n).map(|o| o.value)
        }
        (ScaleKind::Range { min, max }, Answer::Number(n)) => {
            (*min..=*max).contains(n).then_some(*n)
        }
        (ScaleKind::Range { .. }, Answer::Code(_)) => None,
    };
    found.ok_or_else(|| {
        let shown = match answer {
            Answer::Number(n) => n.to_string(),
            Answer::Code(c) => format!("'{c}'"),
        };
        scale_error(field, scale, &shown)
    })
}

impl Instrument {
    /// Scores answers given by item id.
    ///
    /// An answer to an unknown item, or one its scale does not have, is an
    /// error naming the field (`answers.phq9_9`). Unanswered items make the
    /// form incomplete: it then has no scores and no band, but a flag whose
    /// item is answered is still raised (an answer above zero to PHQ-9
    /// item 9 raises `safety` whatever else is missing).
    pub fn score(&self, answers: &Answers) -> Result<Scored, FieldError> {
        for key in answers.keys() {
            if self.item(key).is_none() {
                return Err(FieldError::new(
                    format!("answers.{key}"),
                    format!("'{key}' is not an item of {}", self.id),
                ));
            }
        }
        let mut values: BTreeMap<&str, i64> = BTreeMap::new();
        let mut missing = Vec::new();
        for item in &self.items {
            let Some(answer) = answers.get(&item.id) else {
                missing.push(item.id.clone());
                continue;
            };
            let field = format!("answers.{}", item.id);
            let scale = self
                .scale(&item.scale)
                .ok_or_else(|| FieldError::new(&field, "the item's scale is not defined"))?;
            values.insert(&item.id, value_of(&field, scale, answer)?);
        }
        let complete = missing.is_empty();

        let mut scores = BTreeMap::new();
        if complete {
            for s in &self.scores {
                let total = s.items.iter().filter_map(|i| values.get(i.as_str())).sum();
                scores.insert(s.id.clone(), total);
            }
        }
        let band = self.bands.as_ref().and_then(|b| {
            let score = *scores.get(&b.score)?;
            b.bands
                .iter()
                .rev()
                .find(|band| band.from <= score)
                .map(|band| ScoredBand {
                    id: band.id.clone(),
                    label: band.label.clone(),
                })
        });

        let eval = |c: &Condition| -> Option<bool> {
            match c {
                Condition::Score { score, at_least } => scores.get(score).map(|v| v >= at_least),
                Condition::Item { item, at_least } => {
                    values.get(item.as_str()).map(|v| v >= at_least)
                }
                Condition::AnyItem { items, at_least } => {
                    let mut unknown = false;
                    for item in items {
                        match values.get(item.as_str()) {
                            Some(v) if v >= at_least => return Some(true),
                            Some(_) => {}
                            None => unknown = true,
                        }
                    }
                    (!unknown).then_some(false)
                }
            }
        };

        let mut suggested_referrals: Vec<String> = Vec::new();
        let mut suggest = |refer: &[String]| {
            for r in refer {
                if !suggested_referrals.contains(r) {
                    suggested_referrals.push(r.clone());
                }
            }
        };

        let mut raised: Vec<_> = self
            .flags
            .iter()
            .filter(|f| eval(&f.when) == Some(true))
            .collect();
        raised.sort_by_key(|f| !f.immediate);
        let mut flags = Vec::new();
        for f in raised {
            suggest(&f.refer);
            flags.push(Flag {
                id: f.id.clone(),
                immediate: f.immediate,
                message: f.message.clone(),
                source: f.source.clone(),
            });
        }

        let mut met: BTreeMap<&str, Option<bool>> = BTreeMap::new();
        let mut thresholds_met = Vec::new();
        for t in &self.thresholds {
            let m = eval(&t.when);
            met.insert(&t.id, m);
            if m == Some(true) {
                suggest(&t.refer);
                thresholds_met.push(ThresholdMet {
                    id: t.id.clone(),
                    label: t.label.clone(),
                    source: t.source.clone(),
                });
            }
        }

        let positive = self.result.as_ref().and_then(|r| {
            let states = r
                .positive_when_any
                .iter()
                .map(|id| met.get(id.as_str()).copied().flatten());
            let mut unknown = false;
            for s in states {
                match s {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            (!unknown).then_some(false)
        });

        Ok(Scored {
            instrument: self.id.clone(),
            version: self.version.clone(),
            complete,
            missing,
            scores,
            band,
            positive,
            thresholds_met,
            flags,
            suggested_referrals,
        })
    }
}
