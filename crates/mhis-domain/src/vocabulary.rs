//! The observation vocabulary: which codes exist, what values each accepts,
//! and how each maps to LOINC or SNOMED CT.
//!
//! The vocabulary is data (`vocabulary/observations.toml` at the root of the
//! repository, embedded at build time and replaceable at run time). It
//! starts from every fact of the clinical vocabulary in `protocols.md` §1.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The vocabulary shipped with mhis.
pub const BUILT_IN: &str = include_str!("../../../vocabulary/observations.toml");

/// Where in the assessment a code is recorded; forms group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Medical history, asked of the person.
    History,
    /// Physical and mental examination.
    Examination,
    /// Chest radiography.
    Radiology,
    /// Laboratory tests.
    Laboratory,
    /// Facts about the setting rather than the person (for example TB
    /// incidence in the country of residence).
    Context,
}

/// The type of value a code takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ValueType {
    /// `true` or `false`.
    Boolean,
    /// One of a closed list of values.
    Coded {
        /// The allowed values.
        values: Vec<String>,
    },
    /// A whole number within bounds.
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A decimal number within bounds.
    Decimal {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// Free text of bounded length.
    Text {
        /// Longest allowed text, in characters.
        max_length: usize,
    },
    /// A calendar date.
    Date,
}

/// A code in an external terminology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coding {
    /// Terminology URI (`http://loinc.org`, `http://snomed.info/sct`).
    pub system: String,
    /// The code in that terminology.
    pub code: String,
    /// Its display name.
    pub display: String,
}

/// One code of the vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeDefinition {
    /// The mhis code (`tb.symptoms`, `cxr`).
    pub code: String,
    /// A short label in English (translations live in the UI locales).
    pub label: String,
    /// The form section.
    pub section: Section,
    /// Accepted values.
    #[serde(flatten)]
    pub value_type: ValueType,
    /// Unit of measure (UCUM), for numbers.
    #[serde(default)]
    pub unit: Option<String>,
    /// The equivalent LOINC or SNOMED CT concept, where one exists.
    #[serde(default)]
    pub coding: Option<Coding>,
    /// Codings of coded values, keyed by value, where they exist.
    #[serde(default)]
    pub value_codings: BTreeMap<String, Coding>,
}

#[derive(Deserialize)]
struct VocabularyFile {
    version: String,
    #[serde(rename = "code")]
    codes: Vec<CodeDefinition>,
}

/// The loaded vocabulary.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    version: String,
    codes: BTreeMap<String, CodeDefinition>,
    /// Codes in file order: the order forms ask them in.
    order: Vec<String>,
}

/// Why a vocabulary file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vocabulary: {0}")]
pub struct VocabularyError(pub String);

impl Vocabulary {
    /// The vocabulary shipped with mhis.
    pub fn built_in() -> Self {
        // The embedded file is checked by a unit test, so this cannot fail
        // in a build that passed its tests.
        Self::parse(BUILT_IN).expect("the built-in vocabulary is valid")
    }

    /// Parses a vocabulary file, refusing duplicate codes, empty value lists
    /// and inverted bounds.
    pub fn parse(text: &str) -> Result<Self, VocabularyError> {
        let file: VocabularyFile =
            toml::from_str(text).map_err(|e| VocabularyError(e.to_string()))?;
        let mut codes = BTreeMap::new();
        let mut order = Vec::with_capacity(file.codes.len());
        for def in file.codes {
            let bad = |m: &str| VocabularyError(format!("code '{}': {m}", def.code));
            match &def.value_type {
                ValueType::Coded { values } if values.is_empty() => {
                    return Err(bad("a coded value needs at least one value"));
                }
                ValueType::Integer { min, max } if min > max => return Err(bad("min > max")),
                ValueType::Decimal { min, max } if min > max => return Err(bad("min > max")),
                _ => {}
            }
            if let ValueType::Coded { values } = &def.value_type
                && let Some(v) = def.value_codings.keys().find(|v| !values.contains(v))
            {
                return Err(bad(&format!("value_codings names unknown value '{v}'")));
            }
            if codes.insert(def.code.clone(), def.clone()).is_some() {
                return Err(bad("defined twice"));
            }
            order.push(def.code.clone());
        }
        Ok(Self {
            version: file.version,
            codes,
            order,
        })
    }

    /// The vocabulary's version label.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The definition of `code`, if it exists.
    pub fn get(&self, code: &str) -> Option<&CodeDefinition> {
        self.codes.get(code)
    }

    /// The definition of `code`, or an error naming `field`.
    pub fn require(&self, field: &str, code: &str) -> Result<&CodeDefinition, FieldError> {
        self.get(code).ok_or_else(|| {
            FieldError::new(field, format!("'{code}' is not a code of the vocabulary"))
        })
    }

    /// Every definition, in the order of the file (the order forms ask
    /// them in: symptoms before history, smear 1 before smear 2).
    pub fn iter(&self) -> impl Iterator<Item = &CodeDefinition> {
        self.order.iter().filter_map(|code| self.codes.get(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_vocabulary_parses_and_covers_protocols_md() {
        let v = Vocabulary::built_in();
        // Every fact of protocols.md §1.
        for code in [
            "tb.symptoms",
            "tb.contact",
            "tb.previous",
            "hiv.known_positive",
            "pregnant",
            "cxr",
            "igra",
            "tst.mm",
            "sputum.smear.1",
            "sputum.smear.2",
            "sputum.smear.3",
            "sputum.culture.1",
            "sputum.culture.2",
            "sputum.culture.3",
            "xpert",
            "tb.extrapulmonary",
            "tb.clinical_diagnosis",
            "tb.dot_completed",
            "hiv.a1",
            "hiv.a2",
            "hiv.a3",
            "syphilis.screen",
            "syphilis.confirm",
            "syphilis.treated",
            "leprosy.exam",
            "leprosy.confirmed",
            "narcology.drug_test",
            "hbsag",
            "anti_hcv",
            "context.tb_incidence_per_100k",
        ] {
            assert!(v.get(code).is_some(), "missing {code}");
        }
        let ValueType::Coded { values } = &v.get("sputum.culture.2").unwrap().value_type else {
            panic!("culture is coded");
        };
        assert_eq!(
            values,
            &["mtb_positive", "negative", "ntm", "contaminated", "pending"]
        );
    }

    #[test]
    fn refuses_bad_files() {
        let dup = r#"version = "t"
[[code]]
code = "a"
label = "A"
section = "history"
type = "boolean"
[[code]]
code = "a"
label = "A"
section = "history"
type = "boolean"
"#;
        assert!(
            Vocabulary::parse(dup)
                .unwrap_err()
                .0
                .contains("defined twice")
        );
        let empty = "version = \"t\"\n[[code]]\ncode = \"a\"\nlabel = \"A\"\nsection = \"history\"\ntype = \"coded\"\nvalues = []\n";
        assert!(Vocabulary::parse(empty).is_err());
    }
}
