//! The live aggregate ("cube") behind the indicators: what a fact row adds
//! to it, how a query is planned over it, and how its sums become cells.
//!
//! **Terms.** A fact row contributes a count of one to each *term* it
//! satisfies, for every indicator of the catalogue:
//! - `@assessment` / `@referral`: every row (the keys that have rows, so a
//!   zero shows as zero);
//! - `c:<flags>`: the row has every flag of a numerator or denominator
//!   (flags sorted, joined with `&`);
//! - `s:<attr>` with the attribute's value: a split indicator's cells, and
//!   `s:<attr>|c:<flags>` for its numerator;
//! - `h:<measure>|c:<flags>` with the measure in days: a distribution, so
//!   medians and percentiles are exact;
//! - `d:<flags>` with the due date: rows awaiting an outcome, for
//!   `overdue`, which depends on the evaluation day.
//!
//! **Grains.** Each term is counted per day (`D`), ISO week (`W`) and month
//! (`M`), by site, nationality, destination, sex and age group. A query
//! reads whole months (or weeks) from `M` (or `W`) and the partial periods
//! at the edges of its date range from `D`; quarters and years are sums of
//! months.
//!
//! **Changes.** When a record changes, its old row's terms are taken away
//! and its new row's added ([`deltas`]); only the keys whose count changes
//! are written. Storage does this in one transaction with the stored row.
//!
//! [`evaluate_cube`] ends in the same [`finish`] as the reference
//! [`evaluate`](super::evaluate::evaluate), so both suppress alike; the
//! property tests check they agree.

use super::catalogue::{Catalogue, Indicator};
use super::dims::{Dimension, PeriodKind};
use super::evaluate::{Cell, Filter, Tallies, finish, has_all};
use super::facts::{FactKind, FactRow};
use chrono::{Datelike, Days, Months, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};

/// The period length a cube row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    /// One day.
    Day,
    /// One ISO week, Monday to Sunday.
    Week,
    /// One calendar month.
    Month,
}

impl Grain {
    /// Every grain.
    pub const ALL: [Grain; 3] = [Self::Day, Self::Week, Self::Month];

    /// The stored code.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Day => "D",
            Self::Week => "W",
            Self::Month => "M",
        }
    }

    /// Parses a stored code.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    /// The first day of the period of this grain holding `date`.
    pub fn start_of(&self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date,
            Self::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Self::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The first day of the next period after the one starting `start`.
    fn next(&self, start: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => start + Days::new(1),
            Self::Week => start + Days::new(7),
            Self::Month => start + Months::new(1),
        }
    }
}

/// One counted cell of the cube.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CubeKey {
    /// The term (see the module documentation).
    pub term: String,
    /// The term's value: a split value, a measure, a due date, or empty.
    pub val: String,
    /// The grain.
    pub grain: Grain,
    /// The first day of the period.
    pub period_start: NaiveDate,
    /// Site code.
    pub site: String,
    /// Nationality.
    pub nationality: String,
    /// Destination.
    pub destination: String,
    /// Sex.
    pub sex: String,
    /// Age group label.
    pub age_group: String,
}

fn conj(flags: &[String]) -> String {
    let mut sorted: Vec<&str> = flags.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.join("&")
}

/// The base term of a kind of row.
pub fn base_term(kind: FactKind) -> &'static str {
    match kind {
        FactKind::Assessment => "@assessment",
        FactKind::Referral => "@referral",
    }
}

/// How a numerator or denominator is read from the cube.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Count the rows of term `c:…`.
    Flags(String),
    /// Count the rows of term `d:…` whose due date is before the day.
    Overdue(String),
}

fn part(flags: &[String]) -> Part {
    if flags.iter().any(|f| f == "overdue") {
        let rest: Vec<String> = flags.iter().filter(|f| *f != "overdue").cloned().collect();
        Part::Overdue(format!("d:{}", conj(&rest)))
    } else {
        Part::Flags(format!("c:{}", conj(flags)))
    }
}

/// The terms (with values) a row counts under, for `catalogue`.
pub fn terms_of(catalogue: &Catalogue, row: &FactRow) -> BTreeSet<(String, String)> {
    let mut terms = BTreeSet::new();
    terms.insert((base_term(row.kind).to_owned(), String::new()));
    for ind in catalogue.indicators.iter().filter(|i| i.facts == row.kind) {
        for flags in [&ind.numerator, &ind.denominator] {
            if flags.is_empty() {
                continue;
            }
            match part(flags) {
                Part::Flags(term) => {
                    if has_all(row, flags, None) {
                        terms.insert((term, String::new()));
                    }
                }
                Part::Overdue(term) => {
                    let rest: Vec<String> =
                        flags.iter().filter(|f| *f != "overdue").cloned().collect();
                    if let Some(due) = row.due_date.filter(|_| has_all(row, &rest, None)) {
                        terms.insert((term, due.to_string()));
                    }
                }
            }
        }
        let Part::Flags(numerator) = part(&ind.numerator) else {
            continue;
        };
        let in_numerator = has_all(row, &ind.numerator, None);
        if let Some(attr) = &ind.split
            && let Some(v) = row.attributes.get(attr)
        {
            terms.insert((format!("s:{attr}"), v.clone()));
            if in_numerator {
                terms.insert((format!("s:{attr}|{numerator}"), v.clone()));
            }
        }
        if let Some(m) = &ind.measure
            && in_numerator
            && let Some(days) = row.measures.get(m)
        {
            terms.insert((format!("h:{m}|{numerator}"), days.to_string()));
        }
    }
    terms
}

/// The cube keys a row counts under (each term at each grain).
pub fn keys_of(catalogue: &Catalogue, row: &FactRow) -> Vec<CubeKey> {
    let terms = terms_of(catalogue, row);
    let mut keys = Vec::with_capacity(terms.len() * Grain::ALL.len());
    for (term, val) in terms {
        for grain in Grain::ALL {
            keys.push(CubeKey {
                term: term.clone(),
                val: val.clone(),
                grain,
                period_start: grain.start_of(row.date),
                site: row.site.clone(),
                nationality: row.nationality.clone(),
                destination: row.destination.clone(),
                sex: row.sex.clone(),
                age_group: row.age_group.as_str().to_owned(),
            });
        }
    }
    keys
}

/// What replacing `old` by `new` (either absent) changes in the cube: each
/// key whose count moves, and by how much.
pub fn deltas(
    catalogue: &Catalogue,
    old: Option<&FactRow>,
    new: Option<&FactRow>,
) -> Vec<(CubeKey, i64)> {
    let mut moves: BTreeMap<CubeKey, i64> = BTreeMap::new();
    for key in old.map(|r| keys_of(catalogue, r)).unwrap_or_default() {
        *moves.entry(key).or_default() -= 1;
    }
    for key in new.map(|r| keys_of(catalogue, r)).unwrap_or_default() {
        *moves.entry(key).or_default() += 1;
    }
    moves.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// A date range read at one grain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The grain.
    pub grain: Grain,
    /// First period start, inclusive.
    pub from: NaiveDate,
    /// Last period start, inclusive.
    pub to: NaiveDate,
}

/// What storage is asked for: sums of `n` over the cube rows of these
/// terms and segments that match the filters, grouped by term, value,
/// and the breakdown (its column, or the grain and period start for a
/// period breakdown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CubeQuery {
    /// Terms to read.
    pub terms: Vec<String>,
    /// Date ranges, each at one grain; they never overlap.
    pub segments: Vec<Segment>,
    /// Sites.
    pub sites: Option<Vec<String>>,
    /// Nationality.
    pub nationality: Option<String>,
    /// Destination.
    pub destination: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Age group label.
    pub age_group: Option<String>,
    /// The breakdown.
    pub by: Option<Dimension>,
}

/// What a sum is grouped by: term, value, period (for a period
/// breakdown), breakdown value (for another).
pub type SumKey = (String, String, Option<(Grain, NaiveDate)>, Option<String>);

/// One sum storage answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CubeSum {
    /// The term.
    pub term: String,
    /// The term's value.
    pub val: String,
    /// For a period breakdown: the grain and period start.
    pub period: Option<(Grain, NaiveDate)>,
    /// For another breakdown: the dimension's value.
    pub key: Option<String>,
    /// How many rows.
    pub n: i64,
}

/// The earliest and latest dates a query without a date range reads.
const ALL_FROM: (i32, u32, u32) = (1900, 1, 1);
const ALL_TO: (i32, u32, u32) = (2999, 12, 31);

/// The segments covering `from..=to` for a breakdown by `by`: whole months
/// (or ISO weeks, for a week breakdown) from their grain, partial ones and
/// day breakdowns from days.
pub fn segments(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    by: Option<Dimension>,
) -> Vec<Segment> {
    let ymd = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let from = from.unwrap_or_else(|| ymd(ALL_FROM));
    let to = to.unwrap_or_else(|| ymd(ALL_TO));
    if from > to {
        return Vec::new();
    }
    let coarse = match by {
        Some(Dimension::Period(PeriodKind::Day)) => Grain::Day,
        Some(Dimension::Period(PeriodKind::Week)) => Grain::Week,
        _ => Grain::Month,
    };
    if coarse == Grain::Day {
        return vec![Segment {
            grain: Grain::Day,
            from,
            to,
        }];
    }
    // The first whole period on or after `from`, and the day after the last
    // whole period on or before `to`.
    let first = if coarse.start_of(from) == from {
        from
    } else {
        coarse.next(coarse.start_of(from))
    };
    let end = coarse.start_of(to + Days::new(1));
    let mut out = Vec::new();
    if first >= end {
        out.push(Segment {
            grain: Grain::Day,
            from,
            to,
        });
        return out;
    }
    if from < first {
        out.push(Segment {
            grain: Grain::Day,
            from,
            to: first - Days::new(1),
        });
    }
    let last_start = coarse.start_of(end - Days::new(1));
    out.push(Segment {
        grain: coarse,
        from: first,
        to: last_start,
    });
    if end <= to {
        out.push(Segment {
            grain: Grain::Day,
            from: end,
            to,
        });
    }
    out
}

/// The cube query that evaluates `indicator` under `filter`, broken down
/// by `by`.
pub fn plan(indicator: &Indicator, filter: &Filter, by: Option<Dimension>) -> CubeQuery {
    let mut terms = vec![base_term(indicator.facts).to_owned()];
    let numerator = part(&indicator.numerator);
    for p in [
        Some(numerator.clone()),
        (!indicator.denominator.is_empty()).then(|| part(&indicator.denominator)),
    ]
    .into_iter()
    .flatten()
    {
        terms.push(match p {
            Part::Flags(t) | Part::Overdue(t) => t,
        });
    }
    if let Part::Flags(n) = &numerator {
        if let Some(attr) = &indicator.split {
            terms.push(format!("s:{attr}"));
            terms.push(format!("s:{attr}|{n}"));
        }
        if let Some(m) = &indicator.measure {
            terms.push(format!("h:{m}|{n}"));
        }
    }
    terms.dedup();
    CubeQuery {
        terms,
        segments: segments(filter.from, filter.to, by),
        sites: filter.sites.clone(),
        nationality: filter.nationality.clone(),
        destination: filter.destination.clone(),
        sex: filter.sex.clone(),
        age_group: filter.age_group.map(|a| a.as_str().to_owned()),
        by,
    }
}

/// Evaluates `indicator` from the sums storage answered for
/// [`plan`]`(indicator, filter, by)`.
pub fn evaluate_cube(
    catalogue: &Catalogue,
    indicator: &Indicator,
    sums: &[CubeSum],
    filter: &Filter,
    by: Option<Dimension>,
) -> Vec<Cell> {
    let key_of = |s: &CubeSum| -> Option<String> {
        match by {
            Some(Dimension::Period(kind)) => s.period.map(|(_, start)| kind.period_of(start)),
            Some(_) => s.key.clone(),
            None => None,
        }
    };
    let base = base_term(indicator.facts);
    let numerator = part(&indicator.numerator);
    let denominator = (!indicator.denominator.is_empty()).then(|| part(&indicator.denominator));
    let counts = |p: &Part, s: &CubeSum| -> bool {
        match p {
            Part::Flags(t) => s.term == *t,
            Part::Overdue(t) => {
                s.term == *t
                    && filter.today.is_some_and(|today| {
                        NaiveDate::parse_from_str(&s.val, "%Y-%m-%d").is_ok_and(|due| due < today)
                    })
            }
        }
    };
    let mut cells = Tallies::new();
    match (&indicator.split, &numerator) {
        (Some(attr), Part::Flags(n)) => {
            let cell_term = format!("s:{attr}");
            let num_term = format!("s:{attr}|{n}");
            for s in sums.iter().filter(|s| s.n > 0) {
                if s.term == cell_term {
                    cells.entry((key_of(s), Some(s.val.clone()))).or_default();
                }
            }
            for s in sums.iter().filter(|s| s.term == num_term) {
                if let Some(t) = cells.get_mut(&(key_of(s), Some(s.val.clone()))) {
                    t.numerator += s.n as u64;
                }
            }
        }
        _ => {
            for s in sums.iter().filter(|s| s.term == base && s.n > 0) {
                cells.entry((key_of(s), None)).or_default();
            }
            let histogram = match (&indicator.measure, &numerator) {
                (Some(m), Part::Flags(n)) => Some(format!("h:{m}|{n}")),
                _ => None,
            };
            for s in sums {
                let Some(t) = cells.get_mut(&(key_of(s), None)) else {
                    continue;
                };
                if counts(&numerator, s) {
                    t.numerator += s.n as u64;
                }
                if denominator.as_ref().is_some_and(|d| counts(d, s)) {
                    t.denominator += s.n as u64;
                }
                if histogram.as_deref() == Some(s.term.as_str())
                    && let Ok(days) = s.val.parse::<u32>()
                {
                    *t.histogram.entry(days).or_default() += s.n as u64;
                }
            }
        }
    }
    finish(catalogue, indicator, cells)
}

/// An in-memory cube: the reference for storage's SQL, and the bulk
/// builder of the benchmark.
#[derive(Debug, Clone, Default)]
pub struct MemoryCube {
    /// Each key and its count.
    pub cells: BTreeMap<CubeKey, i64>,
}

impl MemoryCube {
    /// Applies deltas.
    pub fn apply(&mut self, deltas: impl IntoIterator<Item = (CubeKey, i64)>) {
        for (key, n) in deltas {
            let entry = self.cells.entry(key.clone()).or_default();
            *entry += n;
            if *entry == 0 {
                self.cells.remove(&key);
            }
        }
    }

    /// Answers a query as storage does.
    pub fn query(&self, q: &CubeQuery) -> Vec<CubeSum> {
        let mut sums: BTreeMap<SumKey, i64> = BTreeMap::new();
        for (k, n) in &self.cells {
            let in_segment = q
                .segments
                .iter()
                .any(|s| s.grain == k.grain && s.from <= k.period_start && k.period_start <= s.to);
            if !q.terms.contains(&k.term)
                || !in_segment
                || q.sites.as_ref().is_some_and(|s| !s.contains(&k.site))
                || q.nationality.as_ref().is_some_and(|v| *v != k.nationality)
                || q.destination.as_ref().is_some_and(|v| *v != k.destination)
                || q.sex.as_ref().is_some_and(|v| *v != k.sex)
                || q.age_group.as_ref().is_some_and(|v| *v != k.age_group)
            {
                continue;
            }
            let (period, key) = match q.by {
                Some(Dimension::Period(_)) => (Some((k.grain, k.period_start)), None),
                Some(d) => (None, Some(column_value(d, k).to_owned())),
                None => (None, None),
            };
            *sums
                .entry((k.term.clone(), k.val.clone(), period, key))
                .or_default() += n;
        }
        sums.into_iter()
            .map(|((term, val, period, key), n)| CubeSum {
                term,
                val,
                period,
                key,
                n,
            })
            .collect()
    }
}

/// The value of a non-period dimension in a cube key.
pub fn column_value(dimension: Dimension, key: &CubeKey) -> &str {
    match dimension {
        Dimension::Site => &key.site,
        Dimension::Nationality => &key.nationality,
        Dimension::Destination => &key.destination,
        Dimension::Sex => &key.sex,
        Dimension::AgeGroup => &key.age_group,
        Dimension::Period(_) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn segments_read_whole_months_and_the_days_at_the_edges() {
        let s = segments(Some(d("2026-01-15")), Some(d("2026-04-10")), None);
        assert_eq!(
            s,
            vec![
                Segment {
                    grain: Grain::Day,
                    from: d("2026-01-15"),
                    to: d("2026-01-31")
                },
                Segment {
                    grain: Grain::Month,
                    from: d("2026-02-01"),
                    to: d("2026-03-01")
                },
                Segment {
                    grain: Grain::Day,
                    from: d("2026-04-01"),
                    to: d("2026-04-10")
                },
            ]
        );
        // A quarter is three whole months.
        let q = segments(Some(d("2026-01-01")), Some(d("2026-03-31")), None);
        assert_eq!(
            q,
            vec![Segment {
                grain: Grain::Month,
                from: d("2026-01-01"),
                to: d("2026-03-01")
            }]
        );
        // Inside one month: days only.
        let m = segments(Some(d("2026-01-03")), Some(d("2026-01-20")), None);
        assert_eq!(
            m,
            vec![Segment {
                grain: Grain::Day,
                from: d("2026-01-03"),
                to: d("2026-01-20")
            }]
        );
        // Weeks for a week breakdown: 2026-01-01 is a Thursday.
        let w = segments(
            Some(d("2026-01-01")),
            Some(d("2026-01-31")),
            Some(Dimension::Period(PeriodKind::Week)),
        );
        assert_eq!(
            w,
            vec![
                Segment {
                    grain: Grain::Day,
                    from: d("2026-01-01"),
                    to: d("2026-01-04")
                },
                Segment {
                    grain: Grain::Week,
                    from: d("2026-01-05"),
                    to: d("2026-01-19")
                },
                Segment {
                    grain: Grain::Day,
                    from: d("2026-01-26"),
                    to: d("2026-01-31")
                },
            ]
        );
    }
}
