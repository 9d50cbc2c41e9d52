//! The indicator catalogue, its reference evaluation, suppression, and the
//! DHIS2 payloads, against worked examples and fixtures.

use chrono::NaiveDate;
use mhis_domain::indicator::FactRow;
use mhis_domain::indicator::catalogue::Catalogue;
use mhis_domain::indicator::dhis2::{Mapping, to_adx};
use mhis_domain::indicator::dims::{AgeGroup, Dimension, PeriodKind};
use mhis_domain::indicator::evaluate::{Filter, evaluate};
use mhis_domain::indicator::facts::{
    AssessmentInput, ReferralInput, Who, assessment_row, referral_row,
};
use mhis_domain::vocabulary::{ValueType, Vocabulary};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn who(site: &str, sex: &str, age: u32) -> Who {
    Who {
        site: site.into(),
        nationality: "TJ".into(),
        destination: "RU".into(),
        sex: sex.into(),
        age,
    }
}

fn assessment(
    c: &Catalogue,
    site: &str,
    date: &str,
    obs: &[(&str, &str)],
    outcome: &str,
    turnaround: Option<u32>,
) -> FactRow {
    let observations: Vec<(String, String)> = obs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assessment_row(
        c,
        &AssessmentInput {
            who: who(site, "male", 30),
            date: d(date),
            finalised: turnaround.is_some(),
            outcome: Some(outcome),
            tb_class: None,
            observations: &observations,
            turnaround_days: turnaround,
        },
    )
}

#[test]
fn every_flag_names_vocabulary_codes_and_values() {
    let c = Catalogue::built_in();
    let v = Vocabulary::built_in();
    for flag in &c.flags {
        for cond in flag.any.iter().chain(&flag.all) {
            let defs: Vec<_> = v
                .iter()
                .filter(|def| match cond.code.strip_suffix('*') {
                    Some(p) => def.code.starts_with(p),
                    None => def.code == cond.code,
                })
                .collect();
            assert!(
                !defs.is_empty(),
                "{}: no code matches {}",
                flag.id,
                cond.code
            );
            for def in defs {
                for value in &cond.values {
                    let ValueType::Coded { values } = &def.value_type else {
                        panic!("{}: {} is not coded", flag.id, def.code)
                    };
                    assert!(
                        values.contains(value),
                        "{}: {} has no value {value}",
                        flag.id,
                        def.code
                    );
                }
            }
        }
    }
    assert!(c.indicators.len() >= 15);
}

#[test]
fn worked_example_with_suppression() {
    let mut c = Catalogue::built_in();
    // Twelve assessments at one site: 10 chest X-rays, 6 suggestive; 5
    // with sputum, 2 bacteriologically confirmed (a smear, an Xpert).
    let mut rows = Vec::new();
    for i in 0..12 {
        let mut obs = vec![];
        if i < 10 {
            obs.push(("cxr", if i < 6 { "suggestive_tb" } else { "normal" }));
        }
        if i < 5 {
            obs.push((
                "sputum.smear.1",
                if i == 0 { "positive" } else { "negative" },
            ));
        }
        if i == 1 {
            obs.push(("xpert", "mtb_detected"));
        }
        let turnaround = (i >= 6).then_some(i as u32); // 6, 7, …, 11 days
        rows.push(assessment(
            &c,
            "TJ-DYU-01",
            "2026-02-10",
            &obs,
            "cleared",
            turnaround,
        ));
    }
    let all = Filter::default();
    let value = |c: &Catalogue, id: &str| evaluate(c, c.get(id).unwrap(), &rows, &all, None);

    assert_eq!(value(&c, "migrants_assessed")[0].value, Some(12.0));
    let cxr = &value(&c, "cxr_suggestive_rate")[0];
    assert_eq!((cxr.numerator, cxr.denominator), (Some(6), Some(10)));
    assert_eq!(cxr.value, Some(60.0));
    assert_eq!(value(&c, "sputum_tested")[0].value, Some(5.0));
    // 2 of 12 is below the threshold of 5: withheld entirely.
    let tb = &value(&c, "tb_bact_confirmed_per_100k")[0];
    assert!(tb.suppressed);
    assert_eq!((tb.numerator, tb.denominator, tb.value), (None, None, None));
    // Medians of 6 people: 6..=11 days → 8.5; p90 nearest rank: 11.
    assert_eq!(
        value(&c, "certificate_turnaround_median")[0].value,
        Some(8.5)
    );
    assert_eq!(value(&c, "certificate_turnaround_p90")[0].value, Some(11.0));

    // With a threshold of 1 nothing is withheld: 2 per 12 = 16,666.67 per
    // 100,000.
    c.suppress_below = 1;
    let tb = &value(&c, "tb_bact_confirmed_per_100k")[0];
    assert_eq!(tb.numerator, Some(2));
    assert!((tb.value.unwrap() - 16_666.666).abs() < 0.01);
    // Zero is shown: it identifies nobody.
    c.suppress_below = 5;
    let hiv = evaluate(&c, c.get("hiv_positivity").unwrap(), &rows, &all, None);
    assert_eq!(hiv[0].denominator, Some(0), "no one tested");
    assert_eq!(hiv[0].value, None, "a ratio over nobody is undefined");
    assert!(!hiv[0].suppressed);
    let split = value(&c, "assessments_by_outcome");
    assert_eq!(split[0].split.as_deref(), Some("cleared"));
    assert_eq!(split[0].numerator, Some(12));
}

#[test]
fn referrals_completion_and_overdue_against_a_day() {
    let c = Catalogue {
        suppress_below: 1,
        ..Catalogue::built_in()
    };
    let r = |awaiting: bool, due: &str, outcome_days: Option<u32>| {
        referral_row(&ReferralInput {
            who: who("TJ-DYU-01", "female", 20),
            date: d("2026-01-01"),
            issued: true,
            awaiting_outcome: awaiting,
            due_date: d(due),
            reason: "tb_evaluation".into(),
            days_to_outcome: outcome_days,
        })
    };
    let rows = vec![
        r(true, "2026-01-31", None),
        r(true, "2026-03-01", None),
        r(false, "2026-01-31", Some(10)),
        r(false, "2026-01-31", Some(30)),
    ];
    let on = |today: &str| Filter {
        today: Some(d(today)),
        ..Filter::default()
    };
    let overdue = c.get("overdue_follow_ups").unwrap();
    assert_eq!(
        evaluate(&c, overdue, &rows, &on("2026-01-31"), None)[0].value,
        Some(0.0)
    );
    assert!(evaluate(&c, overdue, &rows, &on("2026-01-31"), None)[0].numerator == Some(0));
    assert_eq!(
        evaluate(&c, overdue, &rows, &on("2026-02-01"), None)[0].value,
        Some(1.0)
    );
    assert_eq!(
        evaluate(&c, overdue, &rows, &on("2026-03-02"), None)[0].value,
        Some(2.0)
    );
    let completion = c.get("referral_completion_rate").unwrap();
    assert_eq!(
        evaluate(&c, completion, &rows, &on("2026-03-02"), None)[0].value,
        Some(50.0)
    );
    let days = c.get("referral_days_to_outcome").unwrap();
    assert_eq!(
        evaluate(&c, days, &rows, &on("2026-03-02"), None)[0].value,
        Some(20.0)
    );
}

#[test]
fn bad_catalogues_name_the_field() {
    let base = mhis_domain::indicator::catalogue::BUILT_IN;
    let cases = [
        (base.replace("numerator = [\"cxr_suggestive\"]", "numerator = [\"cxr_magic\"]"), "indicator[2].numerator"),
        (base.replace("suppress_below = 5", "suppress_below = 0"), "suppress_below"),
        (base.replace("unit = \"percent\"\nnumerator = [\"cxr_suggestive\"]\ndenominator = [\"cxr_done\"]", "unit = \"percent\"\nnumerator = [\"cxr_suggestive\"]"), "indicator[2].denominator"),
        (base.replace("split = \"outcome\"", "split = \"outcome\"\nmeasure = \"x\""), "indicator[1].measure"),
    ];
    for (text, field) in cases {
        assert_eq!(Catalogue::parse(&text).unwrap_err().field, field);
    }
}

fn mapping() -> Mapping {
    Mapping::parse(
        r#"
data_set = "MHIS_DS"
[org_units]
"TJ-DYU-01" = "OuDushanbe1"
"TJ-KHU-01" = "OuKhujand01"

[[data]]
indicator = "migrants_assessed"
data_element = "DeAssessed1"
disaggregate_by = "sex"
adx_category = "SEX"
[data.category_option_combos]
female = "CocFemale01"
male = "CocMale0001"
[data.adx_options]
female = "F"
male = "M"

[[data]]
indicator = "cxr_suggestive_rate"
data_element = "DeCxrRate01"
[data.category_option_combos]
default = "HllvX50cXC0"
"#,
    )
    .unwrap()
}

#[test]
fn dhis2_payloads_match_the_fixture() {
    let c = Catalogue::built_in();
    let mut rows = Vec::new();
    for i in 0..7 {
        let mut r = assessment(
            &c,
            "TJ-DYU-01",
            "2026-02-10",
            &[("cxr", if i < 5 { "suggestive_tb" } else { "normal" })],
            "cleared",
            None,
        );
        r.sex = if i < 5 {
            "male".into()
        } else {
            "female".into()
        };
        rows.push(r);
    }
    // Khujand: 3 assessments only: withheld, never exported.
    for _ in 0..3 {
        rows.push(assessment(
            &c,
            "TJ-KHU-01",
            "2026-03-10",
            &[("cxr", "normal")],
            "cleared",
            None,
        ));
    }
    // Outside the quarter: not counted.
    rows.push(assessment(
        &c,
        "TJ-DYU-01",
        "2026-04-01",
        &[],
        "cleared",
        None,
    ));
    let m = mapping();
    assert_eq!(m.problems(&c, &rows), vec![]);
    let set = m.export(&c, &rows, "2026Q1").unwrap();
    let json = serde_json::to_value(&set).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"dataValues": [
            {"dataElement": "DeAssessed1", "period": "2026Q1", "orgUnit": "OuDushanbe1",
             "categoryOptionCombo": "CocMale0001", "value": "5"},
            {"dataElement": "DeCxrRate01", "period": "2026Q1", "orgUnit": "OuDushanbe1",
             "categoryOptionCombo": "HllvX50cXC0", "value": "71.43"}
        ]}),
        "2 women are withheld; Khujand's 3 are withheld"
    );
    assert_eq!(
        to_adx(&set, &m.data_set).unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <adx xmlns=\"urn:ihe:qrph:adx:2015\">\n  \
         <group orgUnit=\"OuDushanbe1\" period=\"2026-01-01/P3M\" dataSet=\"MHIS_DS\">\n    \
         <dataValue dataElement=\"DeAssessed1\" SEX=\"M\" value=\"5\"/>\n    \
         <dataValue dataElement=\"DeCxrRate01\" value=\"71.43\"/>\n  \
         </group>\n</adx>\n"
    );
}

#[test]
fn an_incomplete_mapping_names_what_is_unmapped() {
    let c = Catalogue::built_in();
    let mut other = assessment(&c, "TJ-NEW-01", "2026-02-10", &[], "cleared", None);
    other.sex = "other".into();
    let mut m = mapping();
    m.data.push(mhis_domain::indicator::dhis2::DataMapping {
        indicator: "no_such_indicator".into(),
        data_element: "X".into(),
        disaggregate_by: None,
        category_option_combos: Default::default(),
        adx_category: None,
        adx_options: Default::default(),
    });
    let problems: Vec<String> = m
        .problems(&c, &[other])
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("'other' has data but no category option combo")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("'other' has data but no ADX option code"))
    );
    assert!(problems.iter().any(|p| p.starts_with("data[2].indicator")));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("site 'TJ-NEW-01' has data but no org unit"))
    );
    assert!(m.export(&c, &[], "2026Q5").is_err());
}

fn arb_row() -> impl Strategy<Value = (usize, usize, u32, u32, u8, Option<u32>)> {
    (
        0usize..3,
        0usize..3,
        0u32..80,
        0u32..365,
        any::<u8>(),
        proptest::option::of(0u32..60),
    )
}

proptest! {
    /// Breakdowns add up: for every dimension, the numerators of the cells
    /// sum to the total, and each cell equals the total over a filter on
    /// its key, on random rows.
    #[test]
    fn breakdowns_add_up(raw in proptest::collection::vec(arb_row(), 0..60)) {
        let c = Catalogue { suppress_below: 1, ..Catalogue::built_in() };
        let sites = ["TJ-DYU-01", "TJ-KHU-01", "UZ-TAS-01"];
        let sexes = ["female", "male", "other"];
        let rows: Vec<FactRow> = raw.iter().map(|(s, x, age, day, bits, t)| {
            let mut obs = vec![];
            if bits & 1 != 0 { obs.push(("cxr", if bits & 2 != 0 { "suggestive_tb" } else { "normal" })); }
            if bits & 4 != 0 { obs.push(("xpert", if bits & 8 != 0 { "mtb_detected" } else { "mtb_not_detected" })); }
            let observations: Vec<(String, String)> = obs.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect();
            assessment_row(&c, &AssessmentInput {
                who: Who { site: sites[*s].into(), nationality: "TJ".into(), destination: "RU".into(), sex: sexes[*x].into(), age: *age },
                date: d("2026-01-01") + chrono::Days::new((*day).into()),
                finalised: t.is_some(), outcome: Some("cleared"), tb_class: None,
                observations: &observations, turnaround_days: *t,
            })
        }).collect();
        for id in ["migrants_assessed", "cxr_suggestive_rate", "tb_bact_confirmed_per_100k", "sputum_tested"] {
            let ind = c.get(id).unwrap();
            let total = evaluate(&c, ind, &rows, &Filter::default(), None);
            let total_num: u64 = total.iter().filter_map(|c| c.numerator).sum();
            for dim in [Dimension::Site, Dimension::Sex, Dimension::AgeGroup, Dimension::Period(PeriodKind::Month), Dimension::Period(PeriodKind::Week)] {
                let cells = evaluate(&c, ind, &rows, &Filter::default(), Some(dim));
                let sum: u64 = cells.iter().filter_map(|c| c.numerator).sum();
                prop_assert_eq!(sum, total_num, "{} by {:?}", id, dim);
            }
            for cell in evaluate(&c, ind, &rows, &Filter::default(), Some(Dimension::AgeGroup)) {
                let group = AgeGroup::ALL.into_iter().find(|g| Some(g.as_str()) == cell.key.as_deref()).unwrap();
                let f = Filter { age_group: Some(group), ..Filter::default() };
                let alone = evaluate(&c, ind, &rows, &f, None);
                prop_assert_eq!(alone[0].numerator, cell.numerator);
                prop_assert_eq!(alone[0].value, cell.value);
            }
            // The brute-force count of the flag over the raw observations.
            if id == "sputum_tested" {
                let direct = raw.iter().filter(|r| r.4 & 4 != 0).count() as u64;
                prop_assert_eq!(total_num, direct);
            }
        }
    }
}
