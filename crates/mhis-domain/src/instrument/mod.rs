//! Mental-health screening instruments as data, and the one engine that
//! scores them all.
//!
//! An instrument (`instruments/*.toml` at the root of the repository) is
//! data: its items and response scales, the scores that sum them, severity
//! bands, cut-offs (thresholds) that suggest referrals, the rule that makes
//! a result positive, and flags that call for action at once. Every band,
//! cut-off and flag carries the published source it comes from. The
//! built-in files are the PHQ-9 (`phq9`), GAD-7 (`gad7`), RHS-15
//! (`rhs15`) and the Washington Group Short Set on Functioning (`wgss`).
//! The engine ([`Instrument::score`]) has no code path of its own for any
//! of them.
//!
//! mhis ships short descriptive item labels of its own, never the validated
//! wording. A deployment that holds the rights to the wording or a
//! translation supplies it as a [`Wording`] file
//! (`instruments/wording/<instrument>.<language>.toml`), and
//! [`InstrumentSet::form`] shows it in place of our labels.
//!
//! This module does no I/O: [`parse`] reads one file's text,
//! [`InstrumentSet::from_files`] loads `(file name, text)` pairs the caller
//! has read, [`InstrumentSet::built_in`] embeds the repository's files, and
//! [`InstrumentSet::add_wording`] takes a wording file's text.
//!
//! # Scoring
//!
//! - An answer is an option code or a whole number (an option's value, or a
//!   point on a numeric scale). An answer to an unknown item, or one its
//!   scale does not have, is refused with the field `answers.<item id>`.
//! - **A missing answer is never scored as zero.** While any item is
//!   unanswered the form is incomplete: `missing` lists the items, and there
//!   are no scores and no band.
//! - Conditions (`at_least`, inclusive) are read with three values: met,
//!   not met, unknown. A condition on a score is unknown until the form is
//!   complete; one on an item is unknown while that item is unanswered;
//!   "any of these items" is met as soon as one answered item meets it.
//! - **Flags fire on an incomplete form.** A flag is raised as soon as its
//!   condition is met, whatever else is missing: a PHQ-9 answer above zero to
//!   item 9 raises the immediate `safety` flag on its own.
//! - The result is positive as soon as one of its thresholds is met (an
//!   RHS-15 distress thermometer at 5 decides it before the other items are
//!   in), negative when none is met and none is unknown, otherwise `None`.
//! - Thresholds and flags *suggest* referrals; a counsellor confirms them.
//!
//! # File format
//!
//! An instrument file has `id`, `version`, `title`, `source`, an optional
//! `wording_rights` (who licenses the validated wording), and:
//! - `[[scale]]`s: `id`, and either `options` (an array of `{ code, label,
//!   value }`, codes and values unique) or `min` and `max`;
//! - `[[item]]`s: `id` (the answer key), `label` (our short label) and
//!   `scale`;
//! - `[[score]]`s: `id`, `label`, `items` (summed), `source`;
//! - `[bands]`: `score`, `source` and `[[bands.band]]`s (`id`, `label`,
//!   `from`): inclusive lower bounds, ascending, the first at the score's
//!   minimum;
//! - `[referrals]`: referral id = label;
//! - `[[threshold]]`s: `id`, `label`, `when`, `refer` (referral ids),
//!   `source`;
//! - `[result]`: `positive_when_any` (threshold ids, combined with OR),
//!   `positive` and `negative` (labels), `source`;
//! - `[[flag]]`s: `id`, `message`, `immediate`, `when`, `refer`, `source`.
//!
//! A `when` is one of `{ score = "total", at_least = 10 }`,
//! `{ item = "phq9_9", at_least = 1 }` or `{ any_item = [...], at_least =
//! 3 }`; its cut-off must separate answers (above the lowest possible value,
//! at most the highest). A file with a fault is refused with its name, the
//! dotted path of the field (`item[3].scale`) and the reason.
//!
//! A wording file has `instrument`, `language`, `source` (whose wording,
//! under what licence), optional `title` and `instructions`, `[items]`
//! (item id = text) and `[options.<scale id>]` (option code = text).
//!
//! # Readings that deserve clinical review
//!
//! - The RHS-15 cut-offs (items 1–14 at 12 or more, thermometer at 5 or
//!   more) are cited to the developer's packet; the public pages searched
//!   while writing `rhs15.toml` confirmed the instrument, its authors and
//!   the RHS-13 cut-off (11), not these two figures verbatim. Check them
//!   against the manual a deployment receives.
//! - The PHQ-9 `safety` flag on any answer above zero to item 9, and the
//!   referrals at a total of 10 (PHQ-9, GAD-7), are this project's rules
//!   built on the cited cut-offs; the files say so.
//! - The Washington Group cut-off identifies disability for statistics; the
//!   file suggests no referral from it.

mod engine;
mod file;
mod read;
mod wording;

pub use engine::{Answer, Answers, Flag, Scored, ScoredBand, ThresholdMet};
pub use file::{
    Band, Bands, Condition, FlagRule, Instrument, Item, ResultRule, Scale, ScaleKind, ScaleOption,
    Score, Threshold, parse,
};
pub use wording::{Form, FormItem, FormOption, Wording};

use std::collections::BTreeMap;

/// The instrument files shipped with mhis: `(file name relative to
/// instruments/, text)`.
pub const BUILT_IN_FILES: &[(&str, &str)] = &[
    (
        "gad7.toml",
        include_str!("../../../../instruments/gad7.toml"),
    ),
    (
        "phq9.toml",
        include_str!("../../../../instruments/phq9.toml"),
    ),
    (
        "rhs15.toml",
        include_str!("../../../../instruments/rhs15.toml"),
    ),
    (
        "wgss.toml",
        include_str!("../../../../instruments/wgss.toml"),
    ),
];

/// Why an instrument or wording file was refused: the file, the dotted
/// path of the field (empty for a TOML syntax error, whose reason gives the
/// line), and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{reason}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct LoadError {
    /// The file name, as given by the caller.
    pub file: String,
    /// The dotted path of the offending field (`item[3].scale`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// Every loaded instrument, by id, with the wordings a deployment supplied.
#[derive(Debug, Clone, Default)]
pub struct InstrumentSet {
    instruments: BTreeMap<String, Instrument>,
    wordings: BTreeMap<(String, String), Wording>,
}

impl InstrumentSet {
    /// The instruments shipped with mhis.
    pub fn built_in() -> Self {
        // The embedded files are checked by a unit test, so this cannot
        // fail in a build that passed its tests.
        Self::from_files(Self::built_in_files()).expect("the built-in instruments are valid")
    }

    /// The shipped files as owned `(file name, text)` pairs, for callers
    /// that add their own files to them.
    pub fn built_in_files() -> Vec<(String, String)> {
        BUILT_IN_FILES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect()
    }

    /// Loads instrument files given as `(file name, text)` pairs (the
    /// `*.toml` of a directory, read by the caller). Two files with one id
    /// are refused.
    pub fn from_files(files: Vec<(String, String)>) -> Result<Self, LoadError> {
        let mut set = Self::default();
        for (name, text) in &files {
            let instrument = parse(name, text)?;
            if set.instruments.contains_key(&instrument.id) {
                return Err(LoadError {
                    file: name.clone(),
                    field: "id".into(),
                    reason: format!("instrument '{}' is already loaded", instrument.id),
                });
            }
            set.instruments.insert(instrument.id.clone(), instrument);
        }
        Ok(set)
    }

    /// Adds a deployment's wording file (`wording/phq9.en.toml`): checked
    /// against its instrument, then used by [`InstrumentSet::form`] for its
    /// language. A second file for the same instrument and language
    /// replaces the first.
    pub fn add_wording(&mut self, file_name: &str, text: &str) -> Result<(), LoadError> {
        let wording = Wording::parse(file_name, text)?;
        let instrument = self
            .instruments
            .get(&wording.instrument)
            .ok_or_else(|| LoadError {
                file: file_name.to_owned(),
                field: "instrument".into(),
                reason: format!(
                    "'{}' is not a loaded instrument; known: {}",
                    wording.instrument,
                    self.ids().collect::<Vec<_>>().join(", ")
                ),
            })?;
        instrument.check_wording(file_name, &wording)?;
        self.wordings.insert(
            (wording.instrument.clone(), wording.language.clone()),
            wording,
        );
        Ok(())
    }

    /// Every instrument, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.values()
    }

    /// Every instrument id, ordered.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.instruments.keys().map(String::as_str)
    }

    /// The instrument `id`.
    pub fn get(&self, id: &str) -> Option<&Instrument> {
        self.instruments.get(id)
    }

    /// The wording of instrument `id` in `language`, if supplied.
    pub fn wording(&self, id: &str, language: &str) -> Option<&Wording> {
        self.wordings.get(&(id.to_owned(), language.to_owned()))
    }

    /// The languages a wording was supplied in for instrument `id`.
    pub fn languages(&self, id: &str) -> Vec<&str> {
        self.wordings
            .keys()
            .filter(|(i, _)| i == id)
            .map(|(_, l)| l.as_str())
            .collect()
    }

    /// The form of instrument `id`: in `language` when a wording for it was
    /// supplied, otherwise with our own labels. `None` for an unknown id.
    pub fn form(&self, id: &str, language: Option<&str>) -> Option<Form> {
        let instrument = self.get(id)?;
        let wording = language.and_then(|l| self.wording(id, l));
        Some(instrument.form(wording))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_instruments_load() {
        let set = InstrumentSet::built_in();
        assert_eq!(
            set.ids().collect::<Vec<_>>(),
            ["gad7", "phq9", "rhs15", "wgss"]
        );
        for (name, _) in BUILT_IN_FILES {
            let id = name.trim_end_matches(".toml");
            assert!(set.get(id).is_some(), "{name} holds instrument '{id}'");
        }
    }
}
