//! Knowledge-test question banks (`training/banks/*.toml`) and scoring.
//!
//! A bank holds multiple-choice questions with one correct option each; the
//! same bank is taken before and after a session. A score is the number of
//! correct answers, entered directly from a marked paper test or computed
//! from the answers with [`QuestionBank::score`].

use super::{Localised, TrainingDataError};
use crate::FieldError;
use serde::Deserialize;

/// One multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Identifier within the bank.
    pub id: String,
    /// The question.
    pub text: Localised,
    /// The options, in order.
    pub options: Vec<Localised>,
    /// Index of the correct option, from 0.
    pub answer: usize,
}

/// A module's question bank.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionBank {
    /// The module it tests.
    pub module: String,
    /// Version of the bank; scores are comparable within one version.
    pub version: String,
    /// The questions.
    pub questions: Vec<Question>,
}

impl QuestionBank {
    /// Parses a bank file, refusing empty banks, duplicate ids, questions
    /// with fewer than two options and answers outside the options.
    pub fn parse(file: &str, text: &str) -> Result<Self, TrainingDataError> {
        let bank: QuestionBank =
            toml::from_str(text).map_err(|e| TrainingDataError::new(file, e.to_string()))?;
        if bank.questions.is_empty() {
            return Err(TrainingDataError::new(file, "a bank needs questions"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for q in &bank.questions {
            if !ids.insert(q.id.as_str()) {
                return Err(TrainingDataError::new(
                    file,
                    format!("question {} appears twice", q.id),
                ));
            }
            if q.options.len() < 2 {
                return Err(TrainingDataError::new(
                    file,
                    format!("question {} needs at least two options", q.id),
                ));
            }
            if q.answer >= q.options.len() {
                return Err(TrainingDataError::new(
                    file,
                    format!(
                        "question {}: answer {} is not one of its {} options",
                        q.id,
                        q.answer,
                        q.options.len()
                    ),
                ));
            }
        }
        Ok(bank)
    }

    /// The highest possible score.
    pub fn max_score(&self) -> u32 {
        self.questions.len() as u32
    }

    /// The score of a set of answers, one per question in bank order
    /// (`None`: unanswered, counted wrong).
    pub fn score(&self, answers: &[Option<usize>]) -> Result<u32, FieldError> {
        if answers.len() != self.questions.len() {
            return Err(FieldError::new(
                "answers",
                format!(
                    "expected {} answers, got {}",
                    self.questions.len(),
                    answers.len()
                ),
            ));
        }
        let mut score = 0;
        for (i, (q, a)) in self.questions.iter().zip(answers).enumerate() {
            match a {
                Some(a) if *a >= q.options.len() => {
                    return Err(FieldError::new(
                        format!("answers[{i}]"),
                        format!("question {} has {} options", q.id, q.options.len()),
                    ));
                }
                Some(a) if *a == q.answer => score += 1,
                _ => {}
            }
        }
        Ok(score)
    }

    /// Parses a score entered for this bank: a whole number from 0 to
    /// [`Self::max_score`]; empty means not taken (`None`).
    pub fn parse_score(&self, field: &str, raw: &str) -> Result<Option<u32>, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        match raw.parse::<u32>() {
            Ok(n) if n <= self.max_score() => Ok(Some(n)),
            _ => Err(FieldError::new(
                field,
                format!(
                    "must be a whole number from 0 to {} (the questions of the test)",
                    self.max_score()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BANK: &str = r#"
module = "m"
version = "1"
[[questions]]
id = "q1"
text = { en = "One?" }
options = [{ en = "a" }, { en = "b" }]
answer = 1
[[questions]]
id = "q2"
text = { en = "Two?" }
options = [{ en = "a" }, { en = "b" }, { en = "c" }]
answer = 0
"#;

    #[test]
    fn scores_correct_answers_only() {
        let b = QuestionBank::parse("m.toml", BANK).unwrap();
        assert_eq!(b.max_score(), 2);
        assert_eq!(b.score(&[Some(1), Some(0)]).unwrap(), 2);
        assert_eq!(b.score(&[Some(0), None]).unwrap(), 0);
        assert_eq!(b.score(&[Some(1), Some(2)]).unwrap(), 1);
        assert_eq!(b.score(&[Some(1)]).unwrap_err().field, "answers");
        assert_eq!(
            b.score(&[Some(1), Some(3)]).unwrap_err().field,
            "answers[1]"
        );
    }

    #[test]
    fn entered_scores_stay_within_the_bank() {
        let b = QuestionBank::parse("m.toml", BANK).unwrap();
        assert_eq!(b.parse_score("pre", " 2 ").unwrap(), Some(2));
        assert_eq!(b.parse_score("pre", "").unwrap(), None);
        assert_eq!(b.parse_score("pre", "3").unwrap_err().field, "pre");
        assert!(b.parse_score("pre", "-1").is_err());
        assert!(b.parse_score("pre", "1.5").is_err());
    }

    #[test]
    fn an_answer_outside_the_options_is_refused() {
        let bad = BANK.replace("answer = 0", "answer = 3");
        let e = QuestionBank::parse("m.toml", &bad).unwrap_err();
        assert!(e.message.contains("q2: answer 3"), "{e}");
    }
}
