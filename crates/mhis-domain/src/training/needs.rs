//! The training needs questionnaire (`training/needs.toml`), its answers,
//! and the summary a coordinator designs modules from: the mean need of
//! each topic, overall and by organisation type, and which topics are
//! priorities.

use super::{Localised, TrainingDataError};
use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A topic of the questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Identifier (`tb`).
    pub id: String,
    /// Title.
    pub title: Localised,
}

/// The need rating scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Lowest rating (no need).
    pub min: u8,
    /// Highest rating (greatest need).
    pub max: u8,
    /// Ratings at or above this are a high need.
    pub high: u8,
}

/// An option of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// Identifier, stored with the answer.
    pub id: String,
    /// Label.
    pub label: Localised,
}

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// A rating of one topic on the need scale.
    Need,
    /// A whole number within bounds.
    Number,
    /// One of the options.
    Choice,
    /// Free text.
    Text,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedsQuestion {
    /// Identifier: the form field and the key of the stored answer.
    pub id: String,
    /// Kind.
    pub kind: QuestionKind,
    /// The question.
    pub text: Localised,
    /// The topic rated (need questions).
    #[serde(default)]
    pub topic: Option<String>,
    /// Bounds (number questions).
    #[serde(default)]
    pub min: Option<u32>,
    /// Bounds (number questions).
    #[serde(default)]
    pub max: Option<u32>,
    /// Options (choice questions).
    #[serde(default)]
    pub options: Vec<ChoiceOption>,
    /// Whether an answer is required (default: yes).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// The questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    /// Version, stored with every answer.
    pub version: String,
    /// Organisation types respondents choose from.
    pub organisation_types: Vec<String>,
    /// The need scale.
    pub scale: Scale,
    /// Topics.
    pub topics: Vec<Topic>,
    /// Questions, in the order asked.
    pub questions: Vec<NeedsQuestion>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    /// A rating or a number.
    Number(u32),
    /// A choice id or free text.
    Text(String),
}

/// One organisation's answered questionnaire, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsAnswers {
    /// The partner organisation's name.
    pub organisation: String,
    /// Its type (one of [`Questionnaire::organisation_types`]).
    pub organisation_type: String,
    /// Who answered (name and position).
    pub respondent: String,
    /// Answers by question id; unanswered optional questions are absent.
    pub answers: BTreeMap<String, Answer>,
}

/// Checks a required short text: trimmed, 1 to `max` characters.
pub(crate) fn short_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

impl Questionnaire {
    /// Parses `needs.toml`, refusing duplicate ids, need questions without
    /// a known topic, choice questions without options and a scale whose
    /// high mark lies outside it.
    pub fn parse(text: &str) -> Result<Self, TrainingDataError> {
        let bad = |m: String| TrainingDataError::new("needs.toml", m);
        let q: Questionnaire = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let s = q.scale;
        if !(s.min < s.max && (s.min..=s.max).contains(&s.high)) {
            return Err(bad("scale: need min < max and min <= high <= max".into()));
        }
        let mut ids = std::collections::BTreeSet::new();
        for question in &q.questions {
            if !ids.insert(question.id.as_str()) {
                return Err(bad(format!("question {} appears twice", question.id)));
            }
            match question.kind {
                QuestionKind::Need => match &question.topic {
                    Some(t) if q.topic(t).is_some() => {}
                    _ => {
                        return Err(bad(format!(
                            "question {} must name a topic of the questionnaire",
                            question.id
                        )));
                    }
                },
                QuestionKind::Choice if question.options.is_empty() => {
                    return Err(bad(format!("question {} has no options", question.id)));
                }
                QuestionKind::Number if question.min > question.max => {
                    return Err(bad(format!("question {}: min above max", question.id)));
                }
                _ => {}
            }
        }
        Ok(q)
    }

    /// A topic by id.
    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    /// Parses a submitted form: `organisation`, `organisation_type`,
    /// `respondent`, then one field per question id. Returns every error,
    /// each naming its field.
    pub fn parse_answers(
        &self,
        form: &[(String, String)],
    ) -> Result<NeedsAnswers, Vec<FieldError>> {
        let value = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let mut errors = Vec::new();
        let mut keep = |r: Result<String, FieldError>| match r {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let organisation = keep(short_text("organisation", value("organisation"), 200));
        let organisation_type =
            keep(self.parse_organisation_type("organisation_type", value("organisation_type")));
        let respondent = keep(short_text("respondent", value("respondent"), 200));
        let mut answers = BTreeMap::new();
        for q in &self.questions {
            let raw = value(&q.id).trim();
            if raw.is_empty() {
                if q.required {
                    errors.push(FieldError::new(&q.id, "is required"));
                }
                continue;
            }
            let parsed = match q.kind {
                QuestionKind::Need => match raw.parse::<u8>() {
                    Ok(n) if (self.scale.min..=self.scale.max).contains(&n) => {
                        Ok(Answer::Number(n.into()))
                    }
                    _ => Err(format!(
                        "must be a rating from {} to {}",
                        self.scale.min, self.scale.max
                    )),
                },
                QuestionKind::Number => {
                    let (lo, hi) = (q.min.unwrap_or(0), q.max.unwrap_or(u32::MAX));
                    match raw.parse::<u32>() {
                        Ok(n) if (lo..=hi).contains(&n) => Ok(Answer::Number(n)),
                        _ => Err(format!("must be a whole number from {lo} to {hi}")),
                    }
                }
                QuestionKind::Choice => {
                    if q.options.iter().any(|o| o.id == raw) {
                        Ok(Answer::Text(raw.to_owned()))
                    } else {
                        Err(format!(
                            "must be one of: {}",
                            q.options
                                .iter()
                                .map(|o| o.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
                QuestionKind::Text => {
                    if raw.chars().count() > 2000 {
                        Err("must be at most 2000 characters".into())
                    } else {
                        Ok(Answer::Text(raw.to_owned()))
                    }
                }
            };
            match parsed {
                Ok(a) => {
                    answers.insert(q.id.clone(), a);
                }
                Err(m) => errors.push(FieldError::new(&q.id, m)),
            }
        }
        if errors.is_empty() {
            Ok(NeedsAnswers {
                organisation,
                organisation_type,
                respondent,
                answers,
            })
        } else {
            Err(errors)
        }
    }

    /// Parses an organisation type.
    pub fn parse_organisation_type(&self, field: &str, raw: &str) -> Result<String, FieldError> {
        let raw = raw.trim();
        if self.organisation_types.iter().any(|t| t == raw) {
            Ok(raw.to_owned())
        } else {
            Err(FieldError::new(
                field,
                format!("must be one of: {}", self.organisation_types.join(", ")),
            ))
        }
    }

    /// Summarises answers (organisation type and answers of each
    /// response) into the need of each topic.
    pub fn summarise<'a>(
        &self,
        responses: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, Answer>)>,
    ) -> NeedsSummary {
        // topic -> org type -> ratings
        let mut ratings: BTreeMap<&str, BTreeMap<String, Vec<u32>>> = BTreeMap::new();
        let mut count = 0;
        let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
        for (org_type, answers) in responses {
            count += 1;
            *by_type.entry(org_type.to_owned()).or_default() += 1;
            for q in self
                .questions
                .iter()
                .filter(|q| q.kind == QuestionKind::Need)
            {
                let (Some(topic), Some(Answer::Number(n))) = (&q.topic, answers.get(&q.id)) else {
                    continue;
                };
                ratings
                    .entry(topic.as_str())
                    .or_default()
                    .entry(org_type.to_owned())
                    .or_default()
                    .push(*n);
            }
        }
        let high = u32::from(self.scale.high);
        let mut topics: Vec<TopicNeed> = self
            .topics
            .iter()
            .map(|t| {
                let by = ratings.remove(t.id.as_str()).unwrap_or_default();
                let all: Vec<u32> = by.values().flatten().copied().collect();
                let mean = |v: &[u32]| {
                    (!v.is_empty()).then(|| v.iter().sum::<u32>() as f64 / v.len() as f64)
                };
                let mean_need = mean(&all);
                TopicNeed {
                    topic: t.id.clone(),
                    ratings: all.len(),
                    mean_need,
                    high_need_share: (!all.is_empty()).then(|| {
                        all.iter().filter(|r| **r >= high).count() as f64 / all.len() as f64
                    }),
                    priority: mean_need.is_some_and(|m| m >= f64::from(self.scale.high)),
                    by_organisation_type: by
                        .iter()
                        .filter_map(|(k, v)| mean(v).map(|m| (k.clone(), m)))
                        .collect(),
                }
            })
            .collect();
        // Greatest need first; ties keep questionnaire order.
        topics.sort_by(|a, b| {
            b.mean_need
                .unwrap_or(0.0)
                .total_cmp(&a.mean_need.unwrap_or(0.0))
        });
        NeedsSummary {
            responses: count,
            responses_by_organisation_type: by_type,
            topics,
        }
    }
}

/// The need of one topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicNeed {
    /// Topic id.
    pub topic: String,
    /// How many ratings it got.
    pub ratings: usize,
    /// Mean rating, when rated.
    pub mean_need: Option<f64>,
    /// Share of ratings at or above the high mark.
    pub high_need_share: Option<f64>,
    /// Whether the mean reaches the high mark.
    pub priority: bool,
    /// Mean rating by organisation type.
    pub by_organisation_type: BTreeMap<String, f64>,
}

/// The summary of a set of answered questionnaires.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeedsSummary {
    /// How many questionnaires.
    pub responses: usize,
    /// How many per organisation type.
    pub responses_by_organisation_type: BTreeMap<String, usize>,
    /// Topics, greatest mean need first.
    pub topics: Vec<TopicNeed>,
}

impl NeedsSummary {
    /// Priority topics.
    pub fn priority_topics(&self) -> Vec<String> {
        self.topics
            .iter()
            .filter(|t| t.priority)
            .map(|t| t.topic.clone())
            .collect()
    }

    /// Needs covered: of the priority topics, how many are taught by a
    /// module of `scheduled` (the modules of scheduled sessions), given
    /// each module's topics. Returns `(covered, priority)`.
    pub fn needs_covered(&self, scheduled: &[&super::Module]) -> (usize, usize) {
        let priority = self.priority_topics();
        let covered = priority
            .iter()
            .filter(|t| scheduled.iter().any(|m| m.topics.contains(t)))
            .count();
        (covered, priority.len())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Training;
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn full(org_type: &str, tb: &str, mhpss: &str) -> Vec<(String, String)> {
        form(&[
            ("organisation", "Ministry"),
            ("organisation_type", org_type),
            ("respondent", "A. Karimova, head of training"),
            ("need_migration_health", "2"),
            ("need_tb", tb),
            ("need_hiv_hepatitis", "3"),
            ("need_covid19", "1"),
            ("need_mhpss", mhpss),
            ("need_point_of_entry", "2"),
            ("staff_to_train", "25"),
            ("preferred_format", "in_person"),
        ])
    }

    #[test]
    fn answers_parse_and_every_bad_field_is_named() {
        let q = Training::built_in().questionnaire;
        let ok = q.parse_answers(&full("ngo", "5", "4")).unwrap();
        assert_eq!(ok.answers["need_tb"], Answer::Number(5));
        assert!(!ok.answers.contains_key("comments"));
        let mut bad = full("army", "6", "4");
        bad.retain(|(k, _)| k != "preferred_format");
        let errors = q.parse_answers(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["organisation_type", "need_tb", "preferred_format"]);
    }

    #[test]
    fn the_summary_ranks_topics_by_mean_need_per_organisation_type() {
        let q = Training::built_in().questionnaire;
        let a = q
            .parse_answers(&full("ministry_of_health", "5", "3"))
            .unwrap();
        let b = q.parse_answers(&full("ngo", "4", "5")).unwrap();
        let c = q.parse_answers(&full("ngo", "3", "5")).unwrap();
        let s = q.summarise([
            (a.organisation_type.as_str(), &a.answers),
            (b.organisation_type.as_str(), &b.answers),
            (c.organisation_type.as_str(), &c.answers),
        ]);
        assert_eq!(s.responses, 3);
        assert_eq!(s.responses_by_organisation_type["ngo"], 2);
        // mhpss (3+5+5)/3 = 4.33 first, tb (5+4+3)/3 = 4.0 second.
        assert_eq!(s.topics[0].topic, "mhpss");
        assert!((s.topics[0].mean_need.unwrap() - 13.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.topics[1].topic, "tb");
        assert_eq!(s.topics[1].by_organisation_type["ngo"], 3.5);
        assert_eq!(s.topics[1].high_need_share, Some(2.0 / 3.0));
        assert_eq!(s.priority_topics(), ["mhpss", "tb"]);
        let t = Training::built_in();
        let tb = t.module("tb").unwrap();
        assert_eq!(s.needs_covered(&[tb]), (1, 2));
        assert_eq!(s.needs_covered(&[]), (0, 2));
    }
}
