//! Observations: one fact recorded on an assessment, as a code of the
//! vocabulary with a value checked against that code.
//!
//! History is never overwritten: a correction is a new observation that
//! *supersedes* the old one, which stays stored and readable.

use crate::error::FieldError;
use crate::ids::{AssessmentId, ObservationId};
use crate::text;
use crate::vocabulary::{CodeDefinition, ValueType, Vocabulary};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Longest list of observations one request may record.
pub const MAX_BATCH: usize = 200;

/// A typed value, already checked against its code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ObservationValue {
    /// `true` / `false`.
    Boolean(bool),
    /// A value of the code's closed list.
    Coded(String),
    /// A whole number.
    Integer(i64),
    /// A decimal number.
    Decimal(f64),
    /// Free text.
    Text(String),
    /// A calendar date.
    Date(NaiveDate),
}

impl ObservationValue {
    /// Checks a JSON value against the definition of its code.
    pub fn parse(field: &str, def: &CodeDefinition, raw: &Json) -> Result<Self, FieldError> {
        let err = |m: String| FieldError::new(field, m);
        match (&def.value_type, raw) {
            (ValueType::Boolean, Json::Bool(b)) => Ok(Self::Boolean(*b)),
            (ValueType::Boolean, _) => Err(err(format!("'{}' takes true or false", def.code))),
            (ValueType::Coded { values }, Json::String(s)) if values.contains(s) => {
                Ok(Self::Coded(s.clone()))
            }
            (ValueType::Coded { values }, _) => Err(err(format!(
                "{} is not a value of '{}'; expected one of: {}",
                raw,
                def.code,
                values.join(", ")
            ))),
            (ValueType::Integer { min, max }, Json::Number(n)) if n.as_i64().is_some() => {
                let v = n.as_i64().unwrap_or_default();
                if v < *min || v > *max {
                    return Err(err(format!(
                        "{v} is outside the range of '{}' ({min} to {max})",
                        def.code
                    )));
                }
                Ok(Self::Integer(v))
            }
            (ValueType::Integer { .. }, _) => {
                Err(err(format!("'{}' takes a whole number", def.code)))
            }
            (ValueType::Decimal { min, max }, Json::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                if !(v >= *min && v <= *max) {
                    return Err(err(format!(
                        "{v} is outside the range of '{}' ({min} to {max})",
                        def.code
                    )));
                }
                Ok(Self::Decimal(v))
            }
            (ValueType::Decimal { .. }, _) => Err(err(format!("'{}' takes a number", def.code))),
            (ValueType::Text { max_length }, Json::String(s)) => {
                text::required(field, s, *max_length).map(Self::Text)
            }
            (ValueType::Text { .. }, _) => Err(err(format!("'{}' takes text", def.code))),
            (ValueType::Date, Json::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Self::Date)
                .map_err(|_| err(format!("'{s}' is not a date of the form YYYY-MM-DD"))),
            (ValueType::Date, _) => Err(err(format!("'{}' takes a date", def.code))),
        }
    }

    /// The value as JSON, the form it is stored and sent in.
    pub fn to_json(&self) -> Json {
        match self {
            Self::Boolean(b) => Json::Bool(*b),
            Self::Coded(s) | Self::Text(s) => Json::String(s.clone()),
            Self::Integer(i) => Json::from(*i),
            Self::Decimal(d) => Json::from(*d),
            Self::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        }
    }

    /// Reads back a stored value. Stored values were checked when written,
    /// so this only needs the code's type to tell text from coded values.
    pub fn from_stored(def: Option<&CodeDefinition>, json: &Json) -> Self {
        match (def.map(|d| &d.value_type), json) {
            (_, Json::Bool(b)) => Self::Boolean(*b),
            (Some(ValueType::Decimal { .. }), Json::Number(n)) => {
                Self::Decimal(n.as_f64().unwrap_or_default())
            }
            (_, Json::Number(n)) if n.is_i64() => Self::Integer(n.as_i64().unwrap_or_default()),
            (_, Json::Number(n)) => Self::Decimal(n.as_f64().unwrap_or_default()),
            (Some(ValueType::Text { .. }), Json::String(s)) => Self::Text(s.clone()),
            (Some(ValueType::Date), Json::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Self::Date)
                .unwrap_or_else(|_| Self::Text(s.clone())),
            (_, Json::String(s)) => Self::Coded(s.clone()),
            (_, other) => Self::Text(other.to_string()),
        }
    }
}

/// One observation of a request, as received.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ObservationInput {
    /// The vocabulary code.
    pub code: String,
    /// The value, typed per the code.
    pub value: Json,
    /// Unit, when the client states one; it must be the code's unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// When the observation was made (defaults to when it is recorded).
    #[serde(default)]
    pub observed_at: Option<DateTime<Utc>>,
}

/// A parsed observation ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObservation {
    /// The vocabulary code.
    pub code: String,
    /// The checked value.
    pub value: ObservationValue,
    /// The code's unit.
    pub unit: Option<String>,
    /// When it was observed.
    pub observed_at: DateTime<Utc>,
}

impl NewObservation {
    /// Parses one observation against the vocabulary. `now` is the time of
    /// recording: an observation cannot be made in the future.
    pub fn parse(
        vocabulary: &Vocabulary,
        input: &ObservationInput,
        now: DateTime<Utc>,
    ) -> Result<Self, FieldError> {
        let def = vocabulary.require("code", &input.code)?;
        let value = ObservationValue::parse("value", def, &input.value)?;
        if let Some(unit) = &input.unit
            && def.unit.as_deref() != Some(unit.as_str())
        {
            return Err(FieldError::new(
                "unit",
                match &def.unit {
                    Some(u) => format!("'{}' is recorded in '{u}', not '{unit}'", def.code),
                    None => format!("'{}' takes no unit", def.code),
                },
            ));
        }
        let observed_at = input.observed_at.unwrap_or(now);
        if observed_at > now + chrono::Duration::minutes(5) {
            return Err(FieldError::new("observed_at", "must not be in the future"));
        }
        Ok(Self {
            code: def.code.clone(),
            value,
            unit: def.unit.clone(),
            observed_at,
        })
    }

    /// Parses a batch, all or nothing: the first bad item fails the batch,
    /// and its error names the item's index (`observations[3].value`).
    pub fn parse_batch(
        vocabulary: &Vocabulary,
        inputs: &[ObservationInput],
        now: DateTime<Utc>,
    ) -> Result<Vec<Self>, FieldError> {
        if inputs.is_empty() {
            return Err(FieldError::new(
                "observations",
                "must hold at least one observation",
            ));
        }
        if inputs.len() > MAX_BATCH {
            return Err(FieldError::new(
                "observations",
                format!(
                    "holds {} observations; at most {MAX_BATCH} are allowed",
                    inputs.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let obs = Self::parse(vocabulary, input, now)
                    .map_err(|e| e.under(&format!("observations[{i}]")))?;
                if !seen.insert(obs.code.clone()) {
                    return Err(FieldError::new(
                        format!("observations[{i}].code"),
                        format!("'{}' appears twice in one request", obs.code),
                    ));
                }
                Ok(obs)
            })
            .collect()
    }
}

/// A stored observation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Identifier of this version of the fact.
    pub id: ObservationId,
    /// The assessment it belongs to.
    pub assessment_id: AssessmentId,
    /// Vocabulary code.
    pub code: String,
    /// The value.
    pub value: ObservationValue,
    /// Unit.
    pub unit: Option<String>,
    /// When it was observed.
    pub observed_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The observation this one corrects, if any.
    pub supersedes: Option<ObservationId>,
    /// The observation that corrected this one, if any. A superseded
    /// observation is history: it no longer counts as a fact.
    pub superseded_by: Option<ObservationId>,
    /// Why it was corrected (on the correcting observation).
    pub correction_reason: Option<String>,
}

impl Observation {
    /// Whether this is the current version of its fact.
    pub fn is_current(&self) -> bool {
        self.superseded_by.is_none()
    }
}

/// A correction of one observation, as received.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CorrectionInput {
    /// The corrected value.
    pub value: Json,
    /// Why the value is corrected (required: corrections are audited).
    pub reason: String,
    /// When the corrected value was observed.
    #[serde(default)]
    pub observed_at: Option<DateTime<Utc>>,
}

/// A parsed correction.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// The new value, for the same code.
    pub replacement: NewObservation,
    /// Why.
    pub reason: String,
}

impl Correction {
    /// Parses a correction of an observation of `code`.
    pub fn parse(
        vocabulary: &Vocabulary,
        code: &str,
        input: &CorrectionInput,
        now: DateTime<Utc>,
    ) -> Result<Self, FieldError> {
        let reason = text::required("reason", &input.reason, 500)?;
        let replacement = NewObservation::parse(
            vocabulary,
            &ObservationInput {
                code: code.to_owned(),
                value: input.value.clone(),
                unit: None,
                observed_at: input.observed_at,
            },
            now,
        )?;
        Ok(Self {
            replacement,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(code: &str, value: Json) -> Result<NewObservation, FieldError> {
        NewObservation::parse(
            &Vocabulary::built_in(),
            &ObservationInput {
                code: code.into(),
                value,
                unit: None,
                observed_at: None,
            },
            Utc::now(),
        )
    }

    #[test]
    fn checks_values_against_their_code() {
        assert_eq!(
            parse("cxr", json!("normal")).unwrap().value,
            ObservationValue::Coded("normal".into())
        );
        assert_eq!(
            parse("tb.symptoms", json!(false)).unwrap().value,
            ObservationValue::Boolean(false)
        );
        assert_eq!(
            parse("tst.mm", json!(12)).unwrap().value,
            ObservationValue::Integer(12)
        );
        assert_eq!(
            parse("tst.mm", json!(12)).unwrap().unit.as_deref(),
            Some("mm")
        );

        let e = parse("cxr", json!("cloudy")).unwrap_err();
        assert_eq!(e.field, "value");
        assert!(e.message.contains("suggestive_tb"), "{}", e.message);
        assert!(
            parse("tst.mm", json!(-1))
                .unwrap_err()
                .message
                .contains("outside the range")
        );
        assert!(parse("tst.mm", json!(4.5)).is_err());
        assert!(parse("tb.symptoms", json!("yes")).is_err());
        assert_eq!(parse("nonsense", json!(true)).unwrap_err().field, "code");
    }

    #[test]
    fn a_batch_is_all_or_nothing_and_names_the_item() {
        let v = Vocabulary::built_in();
        let items: Vec<ObservationInput> = serde_json::from_value(json!([
            {"code": "cxr", "value": "normal"},
            {"code": "igra", "value": "maybe"}
        ]))
        .unwrap();
        let e = NewObservation::parse_batch(&v, &items, Utc::now()).unwrap_err();
        assert_eq!(e.field, "observations[1].value");
        let dup: Vec<ObservationInput> = serde_json::from_value(json!([
            {"code": "cxr", "value": "normal"},
            {"code": "cxr", "value": "inconclusive"}
        ]))
        .unwrap();
        assert_eq!(
            NewObservation::parse_batch(&v, &dup, Utc::now())
                .unwrap_err()
                .field,
            "observations[1].code"
        );
        assert!(NewObservation::parse_batch(&v, &[], Utc::now()).is_err());
    }

    #[test]
    fn unit_must_match() {
        let v = Vocabulary::built_in();
        let input = ObservationInput {
            code: "body_temperature".into(),
            value: json!(36.6),
            unit: Some("[degF]".into()),
            observed_at: None,
        };
        assert_eq!(
            NewObservation::parse(&v, &input, Utc::now())
                .unwrap_err()
                .field,
            "unit"
        );
    }

    #[test]
    fn stored_values_read_back_as_written() {
        let v = Vocabulary::built_in();
        for (code, value) in [
            ("cxr", json!("normal")),
            ("tst.mm", json!(7)),
            ("body_temperature", json!(37.0)),
            ("examination.notes", json!("normal")),
        ] {
            let parsed = parse(code, value).unwrap().value;
            assert_eq!(
                ObservationValue::from_stored(v.get(code), &parsed.to_json()),
                parsed
            );
        }
    }
}
