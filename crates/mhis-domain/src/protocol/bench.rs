//! The workload of `mhis bench engine`: a fixed mix of cases decided under
//! every built-in protocol. The caller times it (the domain reads no
//! clock).

use super::{Case, Facts, ProtocolSet};
use crate::migrant::{PartialDate, Sex};
use crate::observation::ObservationValue as V;
use chrono::NaiveDate;
use std::hint::black_box;

fn cases() -> Vec<Case> {
    let date = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap_or_default();
    let born = |y: i32| PartialDate::Full(NaiveDate::from_ymd_opt(y, 6, 1).unwrap_or_default());
    let coded = |s: &str| V::Coded(s.to_owned());
    let obs = |list: Vec<(&str, V)>| {
        list.into_iter()
            .map(|(c, v)| (c.to_owned(), v))
            .collect::<Vec<_>>()
    };
    vec![
        // An adult, everything normal.
        Case::new(
            date,
            born(1990),
            Sex::Male,
            obs(vec![
                ("tb.symptoms", V::Boolean(false)),
                ("tb.contact", V::Boolean(false)),
                ("tb.previous", coded("none")),
                ("hiv.known_positive", V::Boolean(false)),
                ("cxr", coded("normal")),
                ("hiv.a1", coded("non_reactive")),
                ("syphilis.screen", coded("non_reactive")),
                ("leprosy.exam", coded("no_signs")),
                ("narcology.drug_test", coded("negative")),
            ]),
        ),
        // Suggestive X-ray, sputum results partly in.
        Case::new(
            date,
            born(1985),
            Sex::Female,
            obs(vec![
                ("tb.symptoms", V::Boolean(true)),
                ("tb.contact", V::Boolean(true)),
                ("tb.previous", coded("none")),
                ("hiv.known_positive", V::Boolean(false)),
                ("pregnant", V::Boolean(false)),
                ("cxr", coded("suggestive_tb")),
                ("sputum.smear.1", coded("negative")),
                ("sputum.smear.2", coded("negative")),
                ("sputum.culture.1", coded("pending")),
                ("hiv.a1", coded("reactive")),
                ("hiv.a2", coded("reactive")),
                ("hiv.a3", coded("non_reactive")),
                ("hbsag", coded("reactive")),
            ]),
        ),
        // A child in a high-incidence country, positive IGRA.
        Case::new(
            date,
            born(2018),
            Sex::Female,
            obs(vec![
                ("tb.symptoms", V::Boolean(false)),
                ("tb.contact", V::Boolean(false)),
                ("tb.previous", coded("none")),
                ("hiv.known_positive", V::Boolean(false)),
                ("context.tb_incidence_per_100k", V::Integer(85)),
                ("igra", coded("positive")),
                ("cxr", coded("normal")),
            ]),
        ),
        // Bacteriologically confirmed TB.
        Case::new(
            date,
            born(1970),
            Sex::Male,
            obs(vec![
                ("tb.symptoms", V::Boolean(true)),
                ("cxr", coded("suggestive_tb")),
                ("xpert", coded("mtb_detected")),
                ("sputum.smear.1", coded("positive")),
                ("syphilis.screen", coded("reactive")),
                ("syphilis.confirm", coded("reactive")),
            ]),
        ),
    ]
}

/// The prepared workload: protocols loaded and facts derived, so that only
/// decisions are timed.
pub struct Workload {
    set: ProtocolSet,
    facts: Vec<Facts>,
}

impl Default for Workload {
    fn default() -> Self {
        Self::new()
    }
}

impl Workload {
    /// Loads the built-in protocols and prepares the cases' facts.
    pub fn new() -> Self {
        let set = ProtocolSet::built_in();
        let facts = cases().iter().map(|c| set.facts(c)).collect();
        Self { set, facts }
    }

    /// Makes `n` decisions, cycling through every protocol and case, and
    /// returns a checksum of their sizes (so the work cannot be optimised
    /// away).
    pub fn run(&self, n: u64) -> usize {
        let protocols: Vec<_> = self.set.iter().collect();
        let mut checksum = 0usize;
        for i in 0..n {
            let i = usize::try_from(i).unwrap_or_default();
            let p = protocols[i % protocols.len()];
            let f = &self.facts[(i / protocols.len()) % self.facts.len()];
            let decision = p.decide(black_box(f));
            checksum = checksum.wrapping_add(decision.due.len() + decision.reasons.len());
        }
        black_box(checksum)
    }
}
