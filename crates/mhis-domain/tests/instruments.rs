//! Worked examples for every built-in instrument (PHQ-9, GAD-7, RHS-15,
//! WG-SS) at their band and cut-off boundaries; missing answers, which make
//! a form incomplete and are never scored as zero; the PHQ-9 safety flag;
//! refused answers and refused files, each naming the field; a new
//! instrument loaded with no Rust change; and licensed wording overlaid on
//! our labels.

use mhis_domain::instrument::{Answer, Answers, InstrumentSet, LoadError, Scored, parse};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::OnceLock;

fn set() -> &'static InstrumentSet {
    static SET: OnceLock<InstrumentSet> = OnceLock::new();
    SET.get_or_init(InstrumentSet::built_in)
}

/// Scores a JSON object of answers (`null` = unanswered).
fn score(id: &str, answers: Value) -> Scored {
    try_score(id, answers).unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn try_score(id: &str, answers: Value) -> Result<Scored, mhis_domain::FieldError> {
    let answers = Answer::map_from_json(&answers)?;
    set().get(id).expect("built-in instrument").score(&answers)
}

/// Answers `prefix1..=prefixN` with the given values.
fn numbered(prefix: &str, values: &[i64]) -> Value {
    let map: serde_json::Map<String, Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("{prefix}{}", i + 1), json!(v)))
        .collect();
    Value::Object(map)
}

/// `n` item values (each at most `max`) summing to `total`, filled from the
/// first item, so later items stay at zero as long as possible.
fn spread(total: i64, n: usize, max: i64) -> Vec<i64> {
    let mut left = total;
    (0..n)
        .map(|_| {
            let v = left.min(max);
            left -= v;
            v
        })
        .collect()
}

fn band(s: &Scored) -> Option<&str> {
    s.band.as_ref().map(|b| b.id.as_str())
}

fn flag_ids(s: &Scored) -> Vec<&str> {
    s.flags.iter().map(|f| f.id.as_str()).collect()
}

fn met(s: &Scored) -> Vec<&str> {
    s.thresholds_met.iter().map(|t| t.id.as_str()).collect()
}

// ---------------------------------------------------------------- PHQ-9

#[test]
fn phq9_bands_at_every_boundary() {
    let cases = [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (24, "severe"),
    ];
    for (total, expected) in cases {
        // Items 1–8 carry the total; item 9 stays 0, so no safety flag.
        let mut values = spread(total, 8, 3);
        values.push(0);
        let s = score("phq9", numbered("phq9_", &values));
        assert!(s.complete, "{total}");
        assert!(s.missing.is_empty());
        assert_eq!(s.scores["total"], total);
        assert_eq!(band(&s), Some(expected), "total {total}");
        assert_eq!(s.positive, Some(total >= 10), "total {total}");
        assert!(s.flags.is_empty(), "total {total}");
        if total >= 10 {
            assert_eq!(met(&s), ["phq9.total_10"]);
            assert_eq!(s.suggested_referrals, ["mental_health_assessment"]);
        } else {
            assert!(met(&s).is_empty());
            assert!(s.suggested_referrals.is_empty());
        }
    }
}

#[test]
fn phq9_maximum_is_27_severe_with_the_safety_flag_first() {
    let s = score("phq9", numbered("phq9_", &[3; 9]));
    assert_eq!(s.scores["total"], 27);
    assert_eq!(band(&s), Some("severe"));
    assert_eq!(s.positive, Some(true));
    assert_eq!(flag_ids(&s), ["safety"]);
    assert!(s.flags[0].immediate);
    // Flags' referrals come first.
    assert_eq!(
        s.suggested_referrals,
        ["urgent_safety_assessment", "mental_health_assessment"]
    );
}

#[test]
fn phq9_answers_by_code_or_by_value_score_alike() {
    let by_code = score(
        "phq9",
        json!({
            "phq9_1": "nearly_every_day", "phq9_2": "more_than_half", "phq9_3": "several_days",
            "phq9_4": "not_at_all", "phq9_5": "nearly_every_day", "phq9_6": "several_days",
            "phq9_7": "not_at_all", "phq9_8": "not_at_all", "phq9_9": "not_at_all"
        }),
    );
    let by_value = score("phq9", numbered("phq9_", &[3, 2, 1, 0, 3, 1, 0, 0, 0]));
    assert_eq!(by_code, by_value);
    assert_eq!(by_code.scores["total"], 10);
    assert_eq!(band(&by_code), Some("moderate"));
}

#[test]
fn safety_flag_fires_on_item_9_alone() {
    // Only item 9 answered, at its lowest non-zero value.
    let s = score("phq9", json!({"phq9_9": 1}));
    assert!(!s.complete);
    assert_eq!(s.missing.len(), 8);
    assert!(s.scores.is_empty());
    assert_eq!(s.band, None);
    assert_eq!(s.positive, None);
    assert_eq!(flag_ids(&s), ["safety"]);
    assert!(s.flags[0].immediate);
    assert!(!s.flags[0].source.is_empty());
    assert_eq!(s.suggested_referrals, ["urgent_safety_assessment"]);

    // By code too.
    let s = score("phq9", json!({"phq9_9": "several_days"}));
    assert_eq!(flag_ids(&s), ["safety"]);

    // On a complete, low-scoring form: band minimal, still flagged.
    let s = score("phq9", numbered("phq9_", &[0, 0, 0, 0, 0, 0, 0, 0, 1]));
    assert_eq!(s.scores["total"], 1);
    assert_eq!(band(&s), Some("minimal"));
    assert_eq!(s.positive, Some(false));
    assert_eq!(flag_ids(&s), ["safety"]);
}

#[test]
fn no_safety_flag_when_item_9_is_zero_or_unanswered() {
    let s = score("phq9", json!({"phq9_9": 0}));
    assert!(s.flags.is_empty());
    let s = score("phq9", numbered("phq9_", &[3, 3, 3, 3, 3, 3, 3, 3]));
    assert_eq!(s.missing, ["phq9_9"]);
    assert!(s.flags.is_empty());
    let s = score("phq9", numbered("phq9_", &[0; 9]));
    assert!(s.flags.is_empty());
}

// ---------------------------------------------------------------- GAD-7

#[test]
fn gad7_bands_at_every_boundary() {
    let cases = [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ];
    for (total, expected) in cases {
        let s = score("gad7", numbered("gad7_", &spread(total, 7, 3)));
        assert!(s.complete);
        assert_eq!(s.scores["total"], total);
        assert_eq!(band(&s), Some(expected), "total {total}");
        assert_eq!(s.positive, Some(total >= 10), "total {total}");
        assert_eq!(
            s.suggested_referrals.is_empty(),
            total < 10,
            "total {total}"
        );
        assert!(s.flags.is_empty());
    }
}

// ---------------------------------------------------------------- RHS-15

/// An RHS-15 form: items 1–14 summing to `total`, thermometer `thermo`.
fn rhs(total: i64, thermo: i64) -> Value {
    let mut v = numbered("rhs15_", &spread(total, 14, 4));
    v["rhs15_15"] = json!(thermo);
    v
}

#[test]
fn rhs15_total_and_thermometer_cut_offs() {
    let cases = [
        // (items 1–14 total, thermometer, positive, thresholds met)
        (11, 4, false, vec![]),
        (12, 4, true, vec!["rhs15.total_12"]),
        (11, 5, true, vec!["rhs15.thermometer_5"]),
        (12, 5, true, vec!["rhs15.total_12", "rhs15.thermometer_5"]),
        (0, 0, false, vec![]),
        (0, 10, true, vec!["rhs15.thermometer_5"]),
        (56, 0, true, vec!["rhs15.total_12"]),
    ];
    for (total, thermo, positive, thresholds) in cases {
        let s = score("rhs15", rhs(total, thermo));
        assert!(s.complete, "{total}/{thermo}");
        // The thermometer is not part of the total.
        assert_eq!(s.scores["total"], total);
        assert_eq!(s.scores.len(), 1);
        assert_eq!(s.band, None, "the RHS-15 has no severity bands");
        assert_eq!(s.positive, Some(positive), "{total}/{thermo}");
        assert_eq!(met(&s), thresholds, "{total}/{thermo}");
        let refer: &[&str] = if positive {
            &["mental_health_assessment"]
        } else {
            &[]
        };
        assert_eq!(s.suggested_referrals, refer);
    }
}

#[test]
fn rhs15_item_14_uses_the_coping_scale() {
    let mut v = rhs(0, 0);
    v["rhs15_14"] = json!("copes_with_nothing");
    let s = score("rhs15", v.clone());
    assert_eq!(s.scores["total"], 4);
    v["rhs15_14"] = json!("extremely");
    let e = try_score("rhs15", v).unwrap_err();
    assert_eq!(e.field, "answers.rhs15_14");
}

#[test]
fn rhs15_thermometer_alone_decides_a_positive_screen() {
    let s = score("rhs15", json!({"rhs15_15": 5}));
    assert!(!s.complete);
    assert_eq!(s.missing.len(), 14);
    assert!(s.scores.is_empty());
    assert_eq!(s.positive, Some(true));
    assert_eq!(met(&s), ["rhs15.thermometer_5"]);

    // Below the cut-off it decides nothing: the missing items could still
    // reach 12.
    let s = score("rhs15", json!({"rhs15_15": 4}));
    assert_eq!(s.positive, None);
    assert!(met(&s).is_empty());
}

// ---------------------------------------------------------------- WG-SS

const WG: [&str; 6] = [
    "wgss_seeing",
    "wgss_hearing",
    "wgss_mobility",
    "wgss_cognition",
    "wgss_self_care",
    "wgss_communication",
];

fn wg(answers: [&str; 6]) -> Value {
    Value::Object(
        WG.iter()
            .zip(answers)
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect(),
    )
}

#[test]
fn wgss_disability_cut_off() {
    let some = "some_difficulty";
    let none = "no_difficulty";
    let s = score("wgss", wg([none; 6]));
    assert!(s.complete);
    assert_eq!(s.positive, Some(false));
    assert!(s.scores.is_empty(), "the WG-SS has no total");

    let s = score("wgss", wg([some; 6]));
    assert_eq!(
        s.positive,
        Some(false),
        "some difficulty everywhere is below the cut-off"
    );
    assert!(met(&s).is_empty());

    let s = score(
        "wgss",
        wg([some, some, "a_lot_of_difficulty", some, some, some]),
    );
    assert_eq!(s.positive, Some(true));
    assert_eq!(met(&s), ["wgss.disability"]);
    assert!(
        s.suggested_referrals.is_empty(),
        "WG-SS suggests no referral"
    );

    let s = score(
        "wgss",
        wg([none, none, none, none, none, "cannot_do_at_all"]),
    );
    assert_eq!(s.positive, Some(true));

    // By value (WG codes 1–4).
    let s = score(
        "wgss",
        json!({"wgss_seeing": 1, "wgss_hearing": 2, "wgss_mobility": 4,
        "wgss_cognition": 1, "wgss_self_care": 1, "wgss_communication": 1}),
    );
    assert_eq!(s.positive, Some(true));
}

#[test]
fn wgss_incomplete_form() {
    // One domain answered "a lot": disability is certain already.
    let s = score("wgss", json!({"wgss_hearing": "a_lot_of_difficulty"}));
    assert!(!s.complete);
    assert_eq!(s.positive, Some(true));
    // Five domains with some difficulty and one unanswered: undecided.
    let s = score(
        "wgss",
        json!({"wgss_seeing": 2, "wgss_hearing": 2, "wgss_mobility": 2,
               "wgss_cognition": 2, "wgss_self_care": 2}),
    );
    assert_eq!(s.missing, ["wgss_communication"]);
    assert_eq!(s.positive, None);
}

// ---------------------------------------------------------------- missing

#[test]
fn missing_answers_are_never_scored_as_zero() {
    // Eight items answered summing to 9; were the ninth counted as zero,
    // the form would read "mild" and negative.
    let s = score(
        "phq9",
        json!({
            "phq9_1": 3, "phq9_2": 3, "phq9_3": 3, "phq9_4": 0,
            "phq9_5": 0, "phq9_6": 0, "phq9_7": 0, "phq9_8": 0, "phq9_9": null
        }),
    );
    assert!(!s.complete);
    assert_eq!(s.missing, ["phq9_9"]);
    assert!(s.scores.is_empty());
    assert_eq!(s.band, None);
    assert_eq!(s.positive, None);
    assert!(s.suggested_referrals.is_empty());

    // Six items answered summing to 18 (well over 10): still no score.
    let s = score("gad7", numbered("gad7_", &[3, 3, 3, 3, 3, 3]));
    assert_eq!(s.missing, ["gad7_7"]);
    assert!(s.scores.is_empty());
    assert_eq!(s.band, None);
    assert_eq!(s.positive, None);

    // Nothing answered.
    for id in ["phq9", "gad7", "rhs15", "wgss"] {
        let s = score(id, json!({}));
        assert!(!s.complete);
        assert_eq!(s.missing.len(), set().get(id).unwrap().items.len());
        assert!(s.scores.is_empty() && s.band.is_none() && s.positive.is_none());
        assert!(s.flags.is_empty() && s.suggested_referrals.is_empty());
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn answers_out_of_range_name_the_item() {
    let cases = [
        ("phq9", json!({"phq9_9": 4}), "answers.phq9_9"),
        ("phq9", json!({"phq9_9": -1}), "answers.phq9_9"),
        ("phq9", json!({"phq9_2": "sometimes"}), "answers.phq9_2"),
        ("phq9", json!({"phq9_10": 0}), "answers.phq9_10"),
        ("phq9", json!({"phq9_1": 1.5}), "answers.phq9_1"),
        ("phq9", json!({"phq9_1": true}), "answers.phq9_1"),
        ("gad7", json!({"gad7_3": 7}), "answers.gad7_3"),
        ("rhs15", json!({"rhs15_15": 11}), "answers.rhs15_15"),
        ("rhs15", json!({"rhs15_15": "high"}), "answers.rhs15_15"),
        ("rhs15", json!({"rhs15_1": 5}), "answers.rhs15_1"),
        ("wgss", json!({"wgss_seeing": 0}), "answers.wgss_seeing"),
    ];
    for (id, answers, field) in cases {
        let e = try_score(id, answers.clone()).expect_err(&answers.to_string());
        assert_eq!(e.field, field, "{answers}");
        assert!(!e.message.is_empty());
    }
    let e = try_score("phq9", json!({"phq9_9": 4})).unwrap_err();
    assert!(e.message.contains("nearly_every_day (3)"), "{}", e.message);
    let e = try_score("rhs15", json!({"rhs15_15": 11})).unwrap_err();
    assert!(e.message.contains("from 0 to 10"), "{}", e.message);
    let e = try_score("phq9", json!([1, 2])).unwrap_err();
    assert_eq!(e.field, "answers");
}

#[test]
fn scored_serialises_for_the_api() {
    let s = score("phq9", json!({"phq9_9": 2}));
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["instrument"], "phq9");
    assert_eq!(v["complete"], false);
    assert_eq!(v["missing"].as_array().unwrap().len(), 8);
    assert_eq!(v["scores"], json!({}));
    assert_eq!(v["band"], Value::Null);
    assert_eq!(v["positive"], Value::Null);
    assert_eq!(v["flags"][0]["id"], "safety");
    assert_eq!(v["flags"][0]["immediate"], true);
    assert_eq!(
        v["suggested_referrals"],
        json!(["urgent_safety_assessment"])
    );

    let s = score("gad7", numbered("gad7_", &[3, 3, 3, 1, 0, 0, 0]));
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["scores"], json!({"total": 10}));
    assert_eq!(v["band"]["id"], "moderate");
    assert_eq!(v["positive"], true);

    // Answers deserialise from numbers and codes.
    let a: Answers = serde_json::from_value(json!({"x": 2, "y": "several_days"})).unwrap();
    assert_eq!(a["x"], Answer::Number(2));
    assert_eq!(a["y"], Answer::Code("several_days".into()));
}

// ---------------------------------------------------------------- files

const PHQ2: &str = r#"
id = "phq2"
version = "test"
title = "PHQ-2 (test copy)"
source = "Kroenke, Spitzer & Williams 2003, Med Care 41:1284–1292"

[[scale]]
id = "frequency"
options = [
    { code = "not_at_all", label = "Not at all", value = 0 },
    { code = "several_days", label = "Several days", value = 1 },
    { code = "more_than_half", label = "More than half the days", value = 2 },
    { code = "nearly_every_day", label = "Nearly every day", value = 3 },
]

[[item]]
id = "a"
label = "Little interest"
scale = "frequency"

[[item]]
id = "b"
label = "Low mood"
scale = "frequency"

[[score]]
id = "total"
label = "Total"
items = ["a", "b"]
source = "sum"

[[score]]
id = "mood"
label = "Mood only"
items = ["b"]
source = "subscore"

[bands]
score = "total"
source = "test"
[[bands.band]]
id = "low"
label = "Low"
from = 0
[[bands.band]]
id = "high"
label = "High"
from = 3

[referrals]
assess = "Assessment"

[[threshold]]
id = "total_3"
label = "Total of 3 or more"
when = { score = "total", at_least = 3 }
refer = ["assess"]
source = "Kroenke et al. 2003: cut-off of 3"

[result]
positive_when_any = ["total_3"]
positive = "Positive"
negative = "Negative"
source = "Kroenke et al. 2003"
"#;

#[test]
fn a_new_instrument_is_data_only() {
    let mut files = InstrumentSet::built_in_files();
    files.push(("phq2.toml".into(), PHQ2.into()));
    let set = InstrumentSet::from_files(files).unwrap();
    assert_eq!(
        set.ids().collect::<Vec<_>>(),
        ["gad7", "phq2", "phq9", "rhs15", "wgss"]
    );
    let phq2 = set.get("phq2").unwrap();
    let answers = Answer::map_from_json(&json!({"a": 1, "b": "more_than_half"})).unwrap();
    let s = phq2.score(&answers).unwrap();
    assert_eq!(s.scores["total"], 3);
    assert_eq!(s.scores["mood"], 2);
    assert_eq!(band(&s), Some("high"));
    assert_eq!(s.positive, Some(true));
    assert_eq!(s.suggested_referrals, ["assess"]);
    let answers = Answer::map_from_json(&json!({"a": 1, "b": 1})).unwrap();
    let s = phq2.score(&answers).unwrap();
    assert_eq!(band(&s), Some("low"));
    assert_eq!(s.positive, Some(false));
}

fn refused(text: &str) -> LoadError {
    parse("bad.toml", text).expect_err("the file should be refused")
}

#[test]
fn malformed_files_are_refused_naming_the_field() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            PHQ2.replacen(
                "label = \"Low mood\"\nscale = \"frequency\"",
                "label = \"Low mood\"\nscale = \"frequencies\"",
                1,
            ),
            "item[1].scale",
            "'frequencies' is not a [[scale]]",
        ),
        (
            PHQ2.replacen(
                "source = \"Kroenke, Spitzer & Williams 2003, Med Care 41:1284–1292\"\n",
                "",
                1,
            ),
            "source",
            "is missing",
        ),
        (
            PHQ2.replacen(
                "label = \"Little interest\"",
                "lable = \"Little interest\"",
                1,
            ),
            "item[0].lable",
            "unknown key",
        ),
        (
            PHQ2.replacen("from = 3", "from = 0", 1),
            "bands.band[1].from",
            "not above",
        ),
        (
            PHQ2.replacen(
                "id = \"low\"\nlabel = \"Low\"\nfrom = 0",
                "id = \"low\"\nlabel = \"Low\"\nfrom = 1",
                1,
            ),
            "bands.band[0].from",
            "minimum",
        ),
        (
            PHQ2.replacen("at_least = 3 }", "at_least = 7 }", 1),
            "threshold[0].when.at_least",
            "ranges from 0 to 6",
        ),
        (
            PHQ2.replacen("refer = [\"assess\"]", "refer = [\"asses\"]", 1),
            "threshold[0].refer[0]",
            "[referrals]",
        ),
        (
            PHQ2.replacen(
                "positive_when_any = [\"total_3\"]",
                "positive_when_any = [\"total_4\"]",
                1,
            ),
            "result.positive_when_any[0]",
            "not a [[threshold]]",
        ),
        (
            PHQ2.replacen(
                "{ code = \"several_days\", label = \"Several days\", value = 1 }",
                "{ code = \"several_days\", label = \"Several days\", value = 0 }",
                1,
            ),
            "scale[0].options[1].value",
            "already another option's",
        ),
        (
            PHQ2.replacen("items = [\"a\", \"b\"]", "items = [\"a\", \"c\"]", 1),
            "score[0].items[1]",
            "'c' is not an item",
        ),
        (
            PHQ2.replacen("version = \"test\"", "version = 3", 1),
            "version",
            "must be a string",
        ),
    ];
    for (text, field, reason) in cases {
        let e = refused(&text);
        assert_eq!(e.file, "bad.toml");
        assert_eq!(e.field, field, "{e}");
        assert!(e.reason.contains(reason), "{e}");
        assert!(
            e.to_string().starts_with(&format!("bad.toml: {field}: ")),
            "{e}"
        );
    }
    // The original parses.
    parse("ok.toml", PHQ2).unwrap();

    // A TOML syntax error gives its line.
    let e = refused("id = \"x\"\nversion = \n");
    assert_eq!(e.field, "");
    assert!(e.reason.starts_with("line 2"), "{e}");

    // Two files with one id.
    let e = InstrumentSet::from_files(vec![
        ("a.toml".into(), PHQ2.into()),
        ("b.toml".into(), PHQ2.into()),
    ])
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.field.as_str()), ("b.toml", "id"));
}

// ---------------------------------------------------------------- wording

const WORDING: &str = r#"
instrument = "phq9"
language = "xx"
source = "Test wording, not the licensed text"
title = "PHQ-9 (xx)"
instructions = "Read each line aloud."

[items]
phq9_1 = "Worded item one"
phq9_9 = "Worded item nine"

[options.frequency]
not_at_all = "Worded never"
"#;

#[test]
fn wording_replaces_our_labels_when_present() {
    let mut set = InstrumentSet::built_in();
    set.add_wording("wording/phq9.xx.toml", WORDING).unwrap();
    assert_eq!(set.languages("phq9"), ["xx"]);

    let form = set.form("phq9", Some("xx")).unwrap();
    assert_eq!(form.language.as_deref(), Some("xx"));
    assert_eq!(form.title, "PHQ-9 (xx)");
    assert_eq!(form.instructions.as_deref(), Some("Read each line aloud."));
    assert_eq!(form.items.len(), 9);
    assert_eq!(form.items[0].text, "Worded item one");
    assert!(form.items[0].worded);
    assert_eq!(form.items[8].text, "Worded item nine");
    // Left out by the wording: our label.
    assert_eq!(form.items[1].text, "Low mood or hopelessness");
    assert!(!form.items[1].worded);
    assert_eq!(form.items[0].options[0].text, "Worded never");
    assert_eq!(form.items[0].options[1].text, "Several days");
    assert_eq!(form.items[0].options[3].value, 3);

    // Without the language, or in another, our labels.
    for lang in [None, Some("fr")] {
        let form = set.form("phq9", lang).unwrap();
        assert_eq!(form.language, None);
        assert_eq!(form.items[0].text, "Little interest or pleasure");
        assert!(form.items.iter().all(|i| !i.worded));
    }

    // A numeric scale shows its range.
    let form = set.form("rhs15", None).unwrap();
    let thermo = form.items.last().unwrap();
    assert_eq!((thermo.min, thermo.max), (Some(0), Some(10)));
    assert!(thermo.options.is_empty());
    assert!(set.form("nope", None).is_none());
}

#[test]
fn wording_files_are_checked_against_their_instrument() {
    let mut set = InstrumentSet::built_in();
    let cases = [
        (WORDING.replace("phq9_9 =", "phq9_10 ="), "items.phq9_10"),
        (
            WORDING.replace("instrument = \"phq9\"", "instrument = \"phq8\""),
            "instrument",
        ),
        (
            WORDING.replace("[options.frequency]", "[options.freq]"),
            "options.freq",
        ),
        (
            WORDING.replace("not_at_all =", "never ="),
            "options.frequency.never",
        ),
        (
            WORDING.replace("source = \"Test wording, not the licensed text\"\n", ""),
            "source",
        ),
        (WORDING.replace("[items]", "[item]"), "item"),
    ];
    for (text, field) in cases {
        let e = set.add_wording("wording/phq9.xx.toml", &text).unwrap_err();
        assert_eq!(e.field, field, "{e}");
    }
    assert!(set.languages("phq9").is_empty());
}

#[test]
fn every_rule_of_the_built_in_files_cites_a_source() {
    for inst in set().iter() {
        assert!(!inst.source.is_empty(), "{}", inst.id);
        assert!(inst.wording_rights.is_some(), "{}", inst.id);
        assert!(inst.scores.iter().all(|s| !s.source.is_empty()));
        assert!(inst.thresholds.iter().all(|t| !t.source.is_empty()));
        assert!(inst.flags.iter().all(|f| !f.source.is_empty()));
        assert!(inst.result.as_ref().is_some_and(|r| !r.source.is_empty()));
        if let Some(b) = &inst.bands {
            assert!(!b.source.is_empty());
        }
    }
    let phq9 = set().get("phq9").unwrap();
    assert!(phq9.source.contains("16:606–613"));
    let bands = phq9.bands.as_ref().unwrap();
    let bounds: Vec<_> = bands.bands.iter().map(|b| (b.from, b.to)).collect();
    assert_eq!(bounds, [(0, 4), (5, 9), (10, 14), (15, 19), (20, 27)]);
    let gad7 = set().get("gad7").unwrap();
    assert!(gad7.source.contains("166:1092–1097"));
    let rhs15 = set().get("rhs15").unwrap();
    assert!(rhs15.source.contains("35:202–209"));
    assert_eq!(
        rhs15.score_rule("total").map(|s| (s.min, s.max)),
        Some((0, 56))
    );
}

// ---------------------------------------------------------------- properties

fn rhs15_values() -> impl Strategy<Value = Vec<Option<i64>>> {
    let item = prop::option::of(0i64..=4);
    let mut parts: Vec<BoxedStrategy<Option<i64>>> =
        (0..14).map(|_| item.clone().boxed()).collect();
    parts.push(prop::option::of(0i64..=10).boxed());
    parts
}

fn to_answers(prefix: &str, values: &[Option<i64>]) -> Answers {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (format!("{prefix}{}", i + 1), Answer::Number(v))))
        .collect()
}

proptest! {
    /// Whatever an incomplete RHS-15 decides, every completion agrees with;
    /// and a complete form's result is exactly the published rule.
    #[test]
    fn rhs15_partial_results_hold_for_every_completion(
        partial in rhs15_values(),
        fill in prop::collection::vec(0i64..=4, 15),
    ) {
        let rhs15 = set().get("rhs15").unwrap();
        let s = rhs15.score(&to_answers("rhs15_", &partial)).unwrap();
        prop_assert_eq!(s.complete, partial.iter().all(Option::is_some));
        prop_assert_eq!(s.scores.is_empty(), !s.complete);
        let full: Vec<Option<i64>> = partial
            .iter()
            .zip(&fill)
            .map(|(p, f)| Some(p.unwrap_or(*f)))
            .collect();
        let c = rhs15.score(&to_answers("rhs15_", &full)).unwrap();
        let total: i64 = full[..14].iter().flatten().sum();
        let thermo = full[14].unwrap();
        prop_assert_eq!(c.positive, Some(total >= 12 || thermo >= 5));
        if let Some(p) = s.positive {
            prop_assert_eq!(Some(p), c.positive);
        }
    }

    /// A complete PHQ-9 scores the sum, its band holds the sum, and the
    /// safety flag is raised exactly when item 9 is above zero.
    #[test]
    fn phq9_complete_forms(values in prop::collection::vec(0i64..=3, 9)) {
        let phq9 = set().get("phq9").unwrap();
        let answers = to_answers("phq9_", &values.iter().map(|v| Some(*v)).collect::<Vec<_>>());
        let s = phq9.score(&answers).unwrap();
        let total: i64 = values.iter().sum();
        prop_assert_eq!(s.scores["total"], total);
        let band = s.band.as_ref().unwrap();
        let b = phq9.bands.as_ref().unwrap().bands.iter().find(|b| b.id == band.id).unwrap();
        prop_assert!(b.from <= total && total <= b.to);
        prop_assert_eq!(flag_ids(&s) == ["safety"], values[8] > 0);
    }
}
