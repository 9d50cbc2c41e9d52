//! The facts a protocol reads: the case of `protocols.md` §7 (assessment
//! date, birth date, sex, context and observations), parsed and checked
//! against the vocabulary, and its compact form indexed by code for the
//! engine.

use crate::error::FieldError;
use crate::migrant::{PartialDate, Sex};
use crate::observation::ObservationValue;
use crate::vocabulary::{ValueType, Vocabulary};
use chrono::NaiveDate;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};

/// What kind of value a code holds, as far as conditions are concerned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CodeKind {
    /// A closed list of values; booleans are the list `false`, `true`.
    Coded(Vec<String>),
    /// An integer or decimal.
    Number,
    /// Text or a date: only presence can be tested.
    Other,
}

/// Every code of a vocabulary, numbered, so that the engine reads facts by
/// index rather than by name.
#[derive(Debug, Clone)]
pub(crate) struct CodeTable {
    names: Vec<String>,
    kinds: Vec<CodeKind>,
    index: HashMap<String, u16>,
}

impl CodeTable {
    pub(crate) fn new(vocabulary: &Vocabulary) -> Self {
        let mut names = Vec::new();
        let mut kinds = Vec::new();
        let mut index = HashMap::new();
        for def in vocabulary.iter() {
            let Ok(i) = u16::try_from(names.len()) else {
                break;
            };
            index.insert(def.code.clone(), i);
            names.push(def.code.clone());
            kinds.push(match &def.value_type {
                ValueType::Boolean => CodeKind::Coded(vec!["false".into(), "true".into()]),
                ValueType::Coded { values } => CodeKind::Coded(values.clone()),
                ValueType::Integer { .. } | ValueType::Decimal { .. } => CodeKind::Number,
                ValueType::Text { .. } | ValueType::Date => CodeKind::Other,
            });
        }
        Self {
            names,
            kinds,
            index,
        }
    }

    pub(crate) fn index(&self, code: &str) -> Option<u16> {
        self.index.get(code).copied()
    }

    pub(crate) fn name(&self, code: u16) -> &str {
        self.names.get(usize::from(code)).map_or("", String::as_str)
    }

    pub(crate) fn kind(&self, code: u16) -> &CodeKind {
        self.kinds
            .get(usize::from(code))
            .unwrap_or(&CodeKind::Other)
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The compact form of a value of `code`; `None` when the value does
    /// not fit the code (a case is checked before it gets here).
    fn fact(&self, code: u16, value: &ObservationValue) -> Option<Fact> {
        match (self.kind(code), value) {
            (CodeKind::Coded(values), ObservationValue::Boolean(b)) => values
                .iter()
                .position(|v| v == if *b { "true" } else { "false" })
                .map(|i| Fact::Coded(u16::try_from(i).unwrap_or(u16::MAX))),
            (CodeKind::Coded(values), ObservationValue::Coded(s)) => values
                .iter()
                .position(|v| v == s)
                .map(|i| Fact::Coded(u16::try_from(i).unwrap_or(u16::MAX))),
            (CodeKind::Number, ObservationValue::Integer(i)) => Some(Fact::Num(*i as f64)),
            (CodeKind::Number, ObservationValue::Decimal(d)) => Some(Fact::Num(*d)),
            (CodeKind::Other, _) => Some(Fact::Other),
            _ => None,
        }
    }
}

/// One recorded fact, compact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fact {
    /// Index of the value in the code's list (false = 0, true = 1).
    Coded(u16),
    /// A number.
    Num(f64),
    /// Text or a date.
    Other,
}

/// A case in the compact form the engine reads, built by
/// [`ProtocolSet::facts`](super::ProtocolSet::facts). Building it once and
/// deciding several protocols over it avoids repeating the code look-ups.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    values: Vec<Option<Fact>>,
    pub(crate) age: u32,
    pub(crate) sex: Sex,
    pub(crate) assessment_date: NaiveDate,
}

impl Facts {
    pub(crate) fn new(codes: &CodeTable, case: &Case) -> Self {
        let mut values = vec![None; codes.len()];
        for (code, value) in &case.observations {
            if let Some(i) = codes.index(code) {
                values[usize::from(i)] = codes.fact(i, value);
            }
        }
        Self {
            values,
            age: case.age(),
            sex: case.sex,
            assessment_date: case.assessment_date,
        }
    }

    pub(crate) fn get(&self, code: u16) -> Option<Fact> {
        self.values.get(usize::from(code)).copied().flatten()
    }

    /// Age in completed years at the assessment date.
    pub fn age(&self) -> u32 {
        self.age
    }
}

/// A case to classify (`protocols.md` §7): who, when, and every recorded
/// observation by code. Context facts (`context.tb_incidence_per_100k`) are
/// observations like any other.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The day of the assessment; ages and certificate validity count from it.
    pub assessment_date: NaiveDate,
    /// The birth date, possibly known only to the year or month.
    pub birth_date: PartialDate,
    /// Sex as in the travel document.
    pub sex: Sex,
    /// Current observations by code (one value per code).
    pub observations: BTreeMap<String, ObservationValue>,
}

const CASE_FIELDS: [&str; 5] = [
    "assessment_date",
    "birth_date",
    "sex",
    "context",
    "observations",
];

impl Case {
    /// A case from already checked values (as the server holds them:
    /// current observations from storage). A code given twice keeps its
    /// last value.
    pub fn new(
        assessment_date: NaiveDate,
        birth_date: PartialDate,
        sex: Sex,
        observations: impl IntoIterator<Item = (String, ObservationValue)>,
    ) -> Self {
        Self {
            assessment_date,
            birth_date,
            sex,
            observations: observations.into_iter().collect(),
        }
    }

    /// Age in completed years at the assessment date. A partial birth date
    /// counts from the last day it can stand for, so an age threshold never
    /// applies before it is certain to.
    pub fn age(&self) -> u32 {
        self.birth_date.age_on(self.assessment_date).unwrap_or(0)
    }

    /// Parses the case JSON of `protocols.md` §7, checking every
    /// observation code and value against the vocabulary. The error names
    /// the field (`observations.cxr`, `context.tb_incidence_per_100k`).
    pub fn parse_json(vocabulary: &Vocabulary, text: &str) -> Result<Self, FieldError> {
        let json: Json = serde_json::from_str(text)
            .map_err(|e| FieldError::new("", format!("the case is not valid JSON: {e}")))?;
        Self::from_json(vocabulary, &json)
    }

    /// Like [`Case::parse_json`], from a JSON value. A `null` observation
    /// value means "not recorded".
    pub fn from_json(vocabulary: &Vocabulary, json: &Json) -> Result<Self, FieldError> {
        let Json::Object(map) = json else {
            return Err(FieldError::new("", "the case must be a JSON object"));
        };
        if let Some(key) = map.keys().find(|k| !CASE_FIELDS.contains(&k.as_str())) {
            return Err(FieldError::new(
                key.as_str(),
                format!("unknown field; expected: {}", CASE_FIELDS.join(", ")),
            ));
        }
        let text_field = |name: &str| -> Result<&str, FieldError> {
            match map.get(name) {
                Some(Json::String(s)) => Ok(s.as_str()),
                Some(_) => Err(FieldError::new(name, "must be a string")),
                None => Err(FieldError::new(name, "is required")),
            }
        };
        let raw_date = text_field("assessment_date")?;
        let assessment_date = NaiveDate::parse_from_str(raw_date, "%Y-%m-%d").map_err(|_| {
            FieldError::new(
                "assessment_date",
                format!("'{raw_date}' is not a date of the form YYYY-MM-DD"),
            )
        })?;
        let birth_date =
            PartialDate::parse("birth_date", text_field("birth_date")?, assessment_date)?;
        let sex = Sex::parse("sex", text_field("sex")?)?;

        let mut observations = BTreeMap::new();
        for (section, prefix) in [("context", "context."), ("observations", "")] {
            let entries = match map.get(section) {
                None | Some(Json::Null) => continue,
                Some(Json::Object(entries)) => entries,
                Some(_) => return Err(FieldError::new(section, "must be an object")),
            };
            for (key, raw) in entries {
                let field = format!("{section}.{key}");
                let code = format!("{prefix}{key}");
                let def = vocabulary.require(&field, &code).map_err(|e| {
                    FieldError::new(e.field, format!("'{code}' is not a code of the vocabulary"))
                })?;
                if raw.is_null() {
                    continue;
                }
                let value = ObservationValue::parse(&field, def, raw)?;
                if observations.insert(code.clone(), value).is_some() {
                    return Err(FieldError::new(
                        field,
                        format!("'{code}' is given both in context and in observations"),
                    ));
                }
            }
        }
        Ok(Self {
            assessment_date,
            birth_date,
            sex,
            observations,
        })
    }
}
