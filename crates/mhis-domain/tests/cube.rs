//! The live aggregate against the reference evaluator: on random
//! assessments and referrals, changed at random (corrections, amendments,
//! outcomes), every indicator read from the cube under a random filter and
//! breakdown equals the brute-force recount over the rows as they now
//! stand.

use chrono::{Days, NaiveDate};
use mhis_domain::indicator::FactRow;
use mhis_domain::indicator::catalogue::Catalogue;
use mhis_domain::indicator::cube::{MemoryCube, deltas, evaluate_cube, plan};
use mhis_domain::indicator::dims::{AgeGroup, Dimension};
use mhis_domain::indicator::evaluate::{Filter, evaluate};
use mhis_domain::indicator::facts::{
    AssessmentInput, ReferralInput, Who, assessment_row, referral_row,
};
use proptest::prelude::*;

const SITES: [&str; 3] = ["TJ-DYU-01", "TJ-KHU-01", "UZ-TAS-01"];
const SEXES: [&str; 2] = ["female", "male"];
const NATIONS: [&str; 2] = ["TJ", "UZ"];
const DESTINATIONS: [&str; 2] = ["RU", "US"];

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 20).unwrap()
}

/// A random record: dimensions, a day within ~5 months, and bits choosing
/// its results or referral state.
#[derive(Debug, Clone)]
struct Raw {
    site: usize,
    sex: usize,
    nation: usize,
    destination: usize,
    age: u32,
    day: u64,
    bits: u16,
    days: u32,
    referral: bool,
}

fn arb_raw() -> impl Strategy<Value = Raw> {
    (
        (0usize..3, 0usize..2, 0usize..2, 0usize..2),
        0u32..70,
        0u64..150,
        any::<u16>(),
        0u32..40,
        proptest::bool::weighted(0.3),
    )
        .prop_map(
            |((site, sex, nation, destination), age, day, bits, days, referral)| Raw {
                site,
                sex,
                nation,
                destination,
                age,
                day,
                bits,
                days,
                referral,
            },
        )
}

fn row(c: &Catalogue, r: &Raw) -> FactRow {
    let who = Who {
        site: SITES[r.site].into(),
        nationality: NATIONS[r.nation].into(),
        destination: DESTINATIONS[r.destination].into(),
        sex: SEXES[r.sex].into(),
        age: r.age,
    };
    let date = start() + Days::new(r.day);
    let bit = |i: u16| r.bits & (1 << i) != 0;
    if r.referral {
        let issued = bit(0);
        let reported = issued && bit(1);
        return referral_row(&ReferralInput {
            who,
            date,
            issued,
            awaiting_outcome: issued && !reported,
            due_date: date + Days::new(u64::from(r.days)),
            reason: "tb_treatment".into(),
            days_to_outcome: reported.then_some(r.days),
        });
    }
    let mut obs: Vec<(String, String)> = Vec::new();
    let mut push = |code: &str, value: &str| obs.push((code.into(), value.into()));
    if bit(0) {
        push("cxr", if bit(1) { "suggestive_tb" } else { "normal" });
    }
    if bit(2) {
        push(
            "xpert",
            if bit(3) {
                "mtb_detected"
            } else {
                "mtb_not_detected"
            },
        );
    }
    if bit(4) {
        push("hiv.a1", "reactive");
        if bit(5) {
            push("hiv.a2", "reactive");
            push("hiv.a3", "reactive");
        }
    }
    if bit(6) {
        push("hbsag", if bit(7) { "reactive" } else { "non_reactive" });
    }
    let outcomes = [
        "cleared",
        "cleared_with_follow_up",
        "not_cleared",
        "pending",
    ];
    let classes = ["class_a", "class_b1", "none"];
    assessment_row(
        c,
        &AssessmentInput {
            who,
            date,
            finalised: bit(8),
            outcome: Some(outcomes[usize::from(r.bits >> 9) % 4]),
            tb_class: bit(11).then(|| classes[usize::from(r.bits >> 12) % 3]),
            observations: &obs,
            turnaround_days: bit(8).then_some(r.days),
        },
    )
}

#[derive(Debug, Clone)]
struct RawFilter {
    sites: Option<Vec<usize>>,
    sex: Option<usize>,
    nation: Option<usize>,
    destination: Option<usize>,
    age: Option<usize>,
    from: Option<u64>,
    span: Option<u64>,
    today: u64,
    by: Option<usize>,
    suppress_below: u64,
}

fn arb_filter() -> impl Strategy<Value = RawFilter> {
    (
        proptest::option::of(proptest::collection::vec(0usize..3, 1..3)),
        proptest::option::of(0usize..2),
        proptest::option::of(0usize..2),
        proptest::option::of(0usize..2),
        proptest::option::of(0usize..4),
        (
            proptest::option::of(0u64..150),
            proptest::option::of(0u64..120),
            0u64..200,
        ),
        proptest::option::of(0usize..10),
        1u64..7,
    )
        .prop_map(
            |(sites, sex, nation, destination, age, (from, span, today), by, suppress_below)| {
                RawFilter {
                    sites,
                    sex,
                    nation,
                    destination,
                    age,
                    from,
                    span,
                    today,
                    by,
                    suppress_below,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every indicator from the cube equals the reference recount, after
    /// random records are replaced (a correction or amendment rebuilds a
    /// row) and some removed.
    #[test]
    fn cube_equals_reference(
        first in proptest::collection::vec(arb_raw(), 0..80),
        changes in proptest::collection::vec((0usize..80, arb_raw()), 0..40),
        filters in proptest::collection::vec(arb_filter(), 1..4),
    ) {
        for f in &filters {
            let c = Catalogue { suppress_below: f.suppress_below, ..Catalogue::built_in() };
            let mut rows: Vec<Option<FactRow>> = first.iter().map(|r| Some(row(&c, r))).collect();
            let mut cube = MemoryCube::default();
            for r in rows.iter().flatten() {
                cube.apply(deltas(&c, None, Some(r)));
            }
            for (i, raw) in &changes {
                if rows.is_empty() {
                    break;
                }
                let i = i % rows.len();
                // Keep the record's kind: a change never turns an
                // assessment into a referral. Every seventh change removes.
                let kind_of = |r: &FactRow| r.kind;
                let old = rows[i].clone();
                let mut raw = raw.clone();
                if let Some(o) = &old {
                    raw.referral = kind_of(o) == mhis_domain::indicator::FactKind::Referral;
                }
                let new = (raw.bits % 7 != 0).then(|| row(&c, &raw));
                cube.apply(deltas(&c, old.as_ref(), new.as_ref()));
                rows[i] = new;
            }
            let current: Vec<FactRow> = rows.into_iter().flatten().collect();
            let filter = Filter {
                sites: f.sites.as_ref().map(|s| s.iter().map(|i| SITES[*i].to_owned()).collect()),
                nationality: f.nation.map(|i| NATIONS[i].to_owned()),
                destination: f.destination.map(|i| DESTINATIONS[i].to_owned()),
                sex: f.sex.map(|i| SEXES[i].to_owned()),
                age_group: f.age.map(|i| AgeGroup::ALL[i]),
                from: f.from.map(|d| start() + Days::new(d)),
                to: f.from.zip(f.span).map(|(d, s)| start() + Days::new(d + s)),
                today: Some(start() + Days::new(f.today)),
            };
            let by = f.by.map(|i| Dimension::ALL[i]);
            for ind in &c.indicators {
                let expected = evaluate(&c, ind, &current, &filter, by);
                let sums = cube.query(&plan(ind, &filter, by));
                let got = evaluate_cube(&c, ind, &sums, &filter, by);
                prop_assert_eq!(&got, &expected, "{} by {:?} under {:?}", ind.id, by, filter);
            }
        }
    }
}
