//! Training and capacity building: the modules catalogue, the training
//! needs questionnaire, knowledge-test question banks, participants and
//! their CSV import, and the statistics of knowledge gain.
//!
//! Everything a programme may change is data under `training/` at the
//! repository root (`modules.toml`, `needs.toml`, `banks/*.toml`), read
//! here by small engines: [`Training::built_in`] loads and cross-checks
//! the three kinds of file once. Pure logic only: no I/O, no clock.
//!
//! - [`needs`] — answers to the needs questionnaire and their summary by
//!   topic and organisation type;
//! - [`bank`] — question banks and test scoring;
//! - [`participant`] — a participant's details and the CSV import with
//!   row-level errors;
//! - [`session`] — scheduling a session and certificate eligibility;
//! - [`stats`] — mean knowledge gain with its 95% confidence interval, the
//!   paired t-test and the Wilcoxon signed-rank test.

pub mod bank;
pub mod needs;
pub mod participant;
pub mod session;
pub mod stats;

use crate::FieldError;
use bank::QuestionBank;
use needs::Questionnaire;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Identifiers of training records.
macro_rules! training_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

training_id!(
    /// Identifies one answered needs questionnaire.
    NeedsResponseId
);
training_id!(
    /// Identifies a training session.
    SessionId
);
training_id!(
    /// Identifies a participant of a session.
    ParticipantId
);

/// A text in English, with Russian and French when the data file gives
/// them (English otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localised {
    /// English.
    pub en: String,
    /// Russian.
    #[serde(default)]
    pub ru: Option<String>,
    /// French.
    #[serde(default)]
    pub fr: Option<String>,
}

impl Localised {
    /// The text in `lang` (`en`, `ru`, `fr`), falling back to English.
    pub fn get(&self, lang: &str) -> &str {
        match lang {
            "ru" => self.ru.as_deref().unwrap_or(&self.en),
            "fr" => self.fr.as_deref().unwrap_or(&self.en),
            _ => &self.en,
        }
    }
}

/// One module of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// Stable identifier (`tb`).
    pub id: String,
    /// Title.
    pub title: Localised,
    /// Teaching hours.
    pub hours: u32,
    /// Needs-assessment topics it covers.
    pub topics: Vec<String>,
    /// Its knowledge test (a bank of `banks/`).
    pub bank: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    version: String,
    modules: Vec<Module>,
}

/// A data file that failed to load: which file and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TrainingDataError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl TrainingDataError {
    fn new(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            message: message.into(),
        }
    }
}

/// The training data of a deployment: catalogue, questionnaire and banks,
/// checked against each other.
#[derive(Debug, Clone)]
pub struct Training {
    /// Version of the modules catalogue.
    pub catalogue_version: String,
    /// Modules, in catalogue order.
    pub modules: Vec<Module>,
    /// The needs questionnaire.
    pub questionnaire: Questionnaire,
    /// Question banks by module id.
    pub banks: BTreeMap<String, QuestionBank>,
}

const MODULES: &str = include_str!("../../../../training/modules.toml");
const NEEDS: &str = include_str!("../../../../training/needs.toml");
const BANKS: &[(&str, &str)] = &[
    (
        "banks/migration_health_basics.toml",
        include_str!("../../../../training/banks/migration_health_basics.toml"),
    ),
    (
        "banks/tb.toml",
        include_str!("../../../../training/banks/tb.toml"),
    ),
    (
        "banks/hiv_hepatitis.toml",
        include_str!("../../../../training/banks/hiv_hepatitis.toml"),
    ),
    (
        "banks/covid19.toml",
        include_str!("../../../../training/banks/covid19.toml"),
    ),
    (
        "banks/mhpss.toml",
        include_str!("../../../../training/banks/mhpss.toml"),
    ),
    (
        "banks/poe_sops.toml",
        include_str!("../../../../training/banks/poe_sops.toml"),
    ),
];

impl Training {
    /// The data shipped under `training/`.
    pub fn built_in() -> Self {
        // The embedded files are checked by a unit test, so this cannot
        // fail in a build that passed its tests.
        Self::parse(MODULES, NEEDS, BANKS).expect("the built-in training data is valid")
    }

    /// Parses and cross-checks the catalogue, the questionnaire and the
    /// banks (`(file name, text)` pairs): ids are unique, every module's
    /// topics exist in the questionnaire and its bank exists.
    pub fn parse(
        modules: &str,
        needs: &str,
        banks: &[(&str, &str)],
    ) -> Result<Self, TrainingDataError> {
        let catalogue: CatalogueFile = toml::from_str(modules)
            .map_err(|e| TrainingDataError::new("modules.toml", e.to_string()))?;
        let questionnaire = Questionnaire::parse(needs)?;
        let mut parsed = BTreeMap::new();
        for (file, text) in banks {
            let bank = QuestionBank::parse(file, text)?;
            if parsed.insert(bank.module.clone(), bank).is_some() {
                return Err(TrainingDataError::new(
                    file,
                    "a second bank for this module",
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &catalogue.modules {
            if !seen.insert(m.id.as_str()) {
                return Err(TrainingDataError::new(
                    "modules.toml",
                    format!("module {} is listed twice", m.id),
                ));
            }
            for topic in &m.topics {
                if questionnaire.topic(topic).is_none() {
                    return Err(TrainingDataError::new(
                        "modules.toml",
                        format!("module {} names unknown topic {topic}", m.id),
                    ));
                }
            }
            if !parsed.contains_key(&m.bank) {
                return Err(TrainingDataError::new(
                    "modules.toml",
                    format!(
                        "module {} names a bank that does not exist: {}",
                        m.id, m.bank
                    ),
                ));
            }
        }
        Ok(Self {
            catalogue_version: catalogue.version,
            modules: catalogue.modules,
            questionnaire,
            banks: parsed,
        })
    }

    /// A module by id.
    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.id == id)
    }

    /// The question bank of a module.
    pub fn bank_of(&self, module: &str) -> Option<&QuestionBank> {
        self.module(module).and_then(|m| self.banks.get(&m.bank))
    }

    /// Parses a module id sent in `field`.
    pub fn parse_module(&self, field: &str, raw: &str) -> Result<String, FieldError> {
        self.module(raw.trim())
            .map(|m| m.id.clone())
            .ok_or_else(|| FieldError::new(field, format!("unknown training module: {raw:?}")))
    }

    /// Modules covering any of `topics`.
    pub fn modules_for_topics<'a>(&'a self, topics: &'a [String]) -> Vec<&'a Module> {
        self.modules
            .iter()
            .filter(|m| m.topics.iter().any(|t| topics.contains(t)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_data_loads_and_cross_checks() {
        let t = Training::built_in();
        assert_eq!(t.modules.len(), 6);
        for m in &t.modules {
            let bank = t.bank_of(&m.id).expect("every module has a bank");
            assert!(bank.questions.len() >= 5, "{}", m.id);
        }
        assert_eq!(t.module("tb").unwrap().title.get("ru"), "Туберкулёз");
    }

    #[test]
    fn a_module_with_an_unknown_topic_is_refused_naming_it() {
        let modules = MODULES.replacen("topics = [\"tb\"]", "topics = [\"tbx\"]", 1);
        let e = Training::parse(&modules, NEEDS, BANKS).unwrap_err();
        assert_eq!(e.file, "modules.toml");
        assert!(e.message.contains("unknown topic tbx"), "{e}");
    }

    #[test]
    fn a_missing_bank_is_refused() {
        let e = Training::parse(MODULES, NEEDS, &BANKS[1..]).unwrap_err();
        assert!(e.message.contains("bank that does not exist"), "{e}");
    }
}
