//! The reference evaluation of an indicator over fact rows, with filters,
//! one optional breakdown, and small-cell suppression.
//!
//! **Suppression.** A cell whose numerator or denominator counts between 1
//! and `suppress_below - 1` people shows no numbers at all (counts, value),
//! only `suppressed: true`; a median or percentile over fewer than
//! `suppress_below` people is suppressed likewise. Zero is shown: it
//! identifies nobody. Complementary suppression (hiding a second cell so
//! that a total cannot reveal the first) is not done; totals are computed
//! from the rows, never from suppressed cells.

use super::catalogue::{Catalogue, Indicator, Unit};
use super::dims::{AgeGroup, Dimension};
use super::facts::FactRow;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which rows count; every given criterion must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Sites (codes).
    pub sites: Option<Vec<String>>,
    /// Nationality.
    pub nationality: Option<String>,
    /// Destination.
    pub destination: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Age group.
    pub age_group: Option<AgeGroup>,
    /// From this date, inclusive.
    pub from: Option<NaiveDate>,
    /// To this date, inclusive.
    pub to: Option<NaiveDate>,
    /// The evaluation day (for `overdue`).
    pub today: Option<NaiveDate>,
}

impl Filter {
    /// Whether a row matches.
    pub fn matches(&self, row: &FactRow) -> bool {
        self.sites.as_ref().is_none_or(|s| s.contains(&row.site))
            && self
                .nationality
                .as_ref()
                .is_none_or(|n| *n == row.nationality)
            && self
                .destination
                .as_ref()
                .is_none_or(|d| *d == row.destination)
            && self.sex.as_ref().is_none_or(|s| *s == row.sex)
            && self.age_group.is_none_or(|a| a == row.age_group)
            && self.from.is_none_or(|f| row.date >= f)
            && self.to.is_none_or(|t| row.date <= t)
    }
}

/// One value of an indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The breakdown value (`TJ-DYU-01`, `2026Q1`, `25-49`), if broken
    /// down.
    pub key: Option<String>,
    /// The split value (an outcome, a TB class), if split.
    pub split: Option<String>,
    /// Rows in the numerator; `None` when suppressed.
    pub numerator: Option<u64>,
    /// Rows in the denominator (ratios); `None` when suppressed or not a
    /// ratio.
    pub denominator: Option<u64>,
    /// The value in the indicator's unit; `None` when suppressed or
    /// undefined (a ratio over zero, a median of nobody).
    pub value: Option<f64>,
    /// Withheld for privacy.
    pub suppressed: bool,
}

/// The value of `dimension` for a row.
pub fn key_of(dimension: Dimension, row: &FactRow) -> String {
    match dimension {
        Dimension::Site => row.site.clone(),
        Dimension::Nationality => row.nationality.clone(),
        Dimension::Destination => row.destination.clone(),
        Dimension::Sex => row.sex.clone(),
        Dimension::AgeGroup => row.age_group.as_str().to_owned(),
        Dimension::Period(kind) => kind.period_of(row.date),
    }
}

pub(crate) fn has_all(row: &FactRow, flags: &[String], today: Option<NaiveDate>) -> bool {
    flags.iter().all(|f| {
        if f == "overdue" {
            row.due_date
                .zip(today)
                .is_some_and(|(due, today)| due < today)
        } else {
            row.flags.contains(f)
        }
    })
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of a distribution held
/// as value → how many people have it.
pub fn nearest_rank(histogram: &BTreeMap<u32, u64>, p: f64) -> Option<f64> {
    let n: u64 = histogram.values().sum();
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil().max(1.0) as u64;
    nth(histogram, rank.min(n)).map(f64::from)
}

/// The median of a distribution held as value → count: the middle value,
/// or the mean of the two middle values.
pub fn median(histogram: &BTreeMap<u32, u64>) -> Option<f64> {
    let n: u64 = histogram.values().sum();
    match n {
        0 => None,
        _ if n % 2 == 1 => nth(histogram, n / 2 + 1).map(f64::from),
        _ => {
            Some((f64::from(nth(histogram, n / 2)?) + f64::from(nth(histogram, n / 2 + 1)?)) / 2.0)
        }
    }
}

/// The `rank`-th smallest value (1-based).
fn nth(histogram: &BTreeMap<u32, u64>, rank: u64) -> Option<u32> {
    let mut seen = 0;
    for (value, count) in histogram {
        seen += count;
        if seen >= rank {
            return Some(*value);
        }
    }
    None
}

/// What a cell counts before it is finished into a [`Cell`].
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Rows in the numerator.
    pub numerator: u64,
    /// Rows in the denominator.
    pub denominator: u64,
    /// The measure's distribution over the numerator's rows.
    pub histogram: BTreeMap<u32, u64>,
}

/// Cells keyed by (breakdown value, split value).
pub type Tallies = BTreeMap<(Option<String>, Option<String>), Tally>;

/// Evaluates `indicator` over `rows`, filtered, broken down by `by` when
/// given, with `catalogue`'s suppression. Cells are ordered by key, then
/// split.
pub fn evaluate(
    catalogue: &Catalogue,
    indicator: &Indicator,
    rows: &[FactRow],
    filter: &Filter,
    by: Option<Dimension>,
) -> Vec<Cell> {
    let mut cells = Tallies::new();
    for row in rows
        .iter()
        .filter(|r| r.kind == indicator.facts && filter.matches(r))
    {
        let key = by.map(|d| key_of(d, row));
        let in_denominator =
            !indicator.denominator.is_empty() && has_all(row, &indicator.denominator, filter.today);
        let in_numerator = has_all(row, &indicator.numerator, filter.today);
        let split = match &indicator.split {
            Some(attr) => match row.attributes.get(attr) {
                Some(v) => Some(v.clone()),
                None => continue,
            },
            None => None,
        };
        // Every key with rows gets a cell, so a zero shows as zero.
        let tally = cells.entry((key, split)).or_default();
        if in_denominator {
            tally.denominator += 1;
        }
        if in_numerator {
            tally.numerator += 1;
            if let Some(m) = indicator.measure.as_ref().and_then(|m| row.measures.get(m)) {
                *tally.histogram.entry(*m).or_default() += 1;
            }
        }
    }
    finish(catalogue, indicator, cells)
}

/// Turns tallies into cells: the value in the indicator's unit, and
/// suppression of small counts (see the module documentation). Every
/// evaluator ends here, so every output is suppressed alike.
pub fn finish(catalogue: &Catalogue, indicator: &Indicator, cells: Tallies) -> Vec<Cell> {
    let k = catalogue.suppress_below;
    let small = |n: u64| n > 0 && n < k;
    cells
        .into_iter()
        .map(|((key, split), tally)| {
            let people: u64 = tally.histogram.values().sum();
            let suppressed = match indicator.unit {
                Unit::MedianDays | Unit::P90Days => small(people),
                _ => small(tally.numerator) || small(tally.denominator),
            };
            let ratio = |scale: f64| {
                (tally.denominator > 0)
                    .then(|| tally.numerator as f64 / tally.denominator as f64 * scale)
            };
            let value = match indicator.unit {
                Unit::Count => Some(tally.numerator as f64),
                Unit::Percent => ratio(100.0),
                Unit::Per100000 => ratio(100_000.0),
                Unit::MedianDays => median(&tally.histogram),
                Unit::P90Days => nearest_rank(&tally.histogram, 90.0),
            };
            let is_ratio = matches!(indicator.unit, Unit::Percent | Unit::Per100000);
            Cell {
                key,
                split,
                numerator: (!suppressed).then_some(tally.numerator),
                denominator: (!suppressed && is_ratio).then_some(tally.denominator),
                value: if suppressed { None } else { value },
                suppressed,
            }
        })
        .collect()
}
