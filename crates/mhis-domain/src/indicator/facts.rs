//! Fact rows: what indicators count. One row per assessment and one per
//! referral, holding the disaggregations, flags, attributes and measures
//! of that record as it stands now (a correction or an amendment rebuilds
//! the row).

use super::catalogue::Catalogue;
use super::dims::AgeGroup;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The kind of record a fact row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// An assessment.
    Assessment,
    /// A referral or arrival notification.
    Referral,
}

/// One record as indicators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactRow {
    /// What it stands for.
    pub kind: FactKind,
    /// Site code.
    pub site: String,
    /// Nationality.
    pub nationality: String,
    /// Destination country.
    pub destination: String,
    /// Sex (`female`, `male`, `other`).
    pub sex: String,
    /// Age group on the record's date.
    pub age_group: AgeGroup,
    /// The record's date: the assessment date, or the day a referral was
    /// written.
    pub date: NaiveDate,
    /// The flags that hold.
    pub flags: BTreeSet<String>,
    /// Attributes (`outcome`, `tb_class`).
    pub attributes: BTreeMap<String, String>,
    /// Measures in days (`turnaround_days`, `days_to_outcome`).
    pub measures: BTreeMap<String, u32>,
    /// For a referral awaiting an outcome: when it is due.
    pub due_date: Option<NaiveDate>,
}

/// Who a record is about, for its disaggregations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// Site code.
    pub site: String,
    /// Nationality.
    pub nationality: String,
    /// Destination.
    pub destination: String,
    /// Sex.
    pub sex: String,
    /// Age in whole years on the record's date (the youngest the birth
    /// date allows, for partial dates).
    pub age: u32,
}

/// What an assessment contributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentInput<'a> {
    /// Who and where.
    pub who: Who,
    /// The assessment date.
    pub date: NaiveDate,
    /// Finalised by a physician.
    pub finalised: bool,
    /// The final outcome when finalised, else the engine's.
    pub outcome: Option<&'a str>,
    /// The TB class the protocol decided, if any.
    pub tb_class: Option<&'a str>,
    /// Current observations: code and value as text.
    pub observations: &'a [(String, String)],
    /// Days from opening the assessment to its first certificate.
    pub turnaround_days: Option<u32>,
}

/// The fact row of an assessment under `catalogue`'s flags.
pub fn assessment_row(catalogue: &Catalogue, input: &AssessmentInput<'_>) -> FactRow {
    let observations = input
        .observations
        .iter()
        .map(|(c, v)| (c.as_str(), v.as_str()));
    let mut flags: BTreeSet<String> = catalogue
        .flags
        .iter()
        .filter(|f| f.holds(observations.clone()))
        .map(|f| f.id.clone())
        .collect();
    flags.insert("assessed".into());
    if input.finalised {
        flags.insert("finalised".into());
    }
    let mut measures = BTreeMap::new();
    if let Some(days) = input.turnaround_days {
        flags.insert("certificate_issued".into());
        measures.insert("turnaround_days".into(), days);
    }
    let mut attributes = BTreeMap::new();
    if let Some(o) = input.outcome {
        attributes.insert("outcome".into(), o.to_owned());
    }
    if let Some(c) = input.tb_class {
        attributes.insert("tb_class".into(), c.to_owned());
    }
    FactRow {
        kind: FactKind::Assessment,
        site: input.who.site.clone(),
        nationality: input.who.nationality.clone(),
        destination: input.who.destination.clone(),
        sex: input.who.sex.clone(),
        age_group: AgeGroup::of(input.who.age),
        date: input.date,
        flags,
        attributes,
        measures,
        due_date: None,
    }
}

/// What a referral contributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralInput {
    /// Who and where (the referring site).
    pub who: Who,
    /// The day it was written.
    pub date: NaiveDate,
    /// Sent (not a draft, not cancelled).
    pub issued: bool,
    /// Awaiting an outcome (sent, received or accepted).
    pub awaiting_outcome: bool,
    /// When it is due.
    pub due_date: NaiveDate,
    /// The reason code.
    pub reason: String,
    /// Days from writing it to the first reported outcome.
    pub days_to_outcome: Option<u32>,
}

/// The fact row of a referral.
pub fn referral_row(input: &ReferralInput) -> FactRow {
    let mut flags = BTreeSet::new();
    if input.issued {
        flags.insert("referral_issued".to_owned());
    }
    if input.awaiting_outcome {
        flags.insert("awaiting_outcome".to_owned());
    }
    let mut measures = BTreeMap::new();
    if let Some(days) = input.days_to_outcome {
        flags.insert("outcome_reported".to_owned());
        measures.insert("days_to_outcome".to_owned(), days);
    }
    FactRow {
        kind: FactKind::Referral,
        site: input.who.site.clone(),
        nationality: input.who.nationality.clone(),
        destination: input.who.destination.clone(),
        sex: input.who.sex.clone(),
        age_group: AgeGroup::of(input.who.age),
        date: input.date,
        flags,
        attributes: BTreeMap::from([("reason".to_owned(), input.reason.clone())]),
        measures,
        due_date: input.awaiting_outcome.then_some(input.due_date),
    }
}
