//! Table tests of the three built-in protocols (`protocols.md` §3–§5), the
//! shared sub-algorithms (§2), the `classify` contract (§7), loading a new
//! protocol with no Rust change, refusals of bad files, and properties of
//! the engine.

use mhis_domain::migrant::{PartialDate, Sex};
use mhis_domain::observation::ObservationValue;
use mhis_domain::protocol::{
    Case, ClassifyError, LoadError, Outcome, ProtocolSet, bench, parse, severity_allows,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::OnceLock;

const US: &str = "us-cdc-ti-tb";
const UK: &str = "uk-pre-entry-tb";
const RU: &str = "ru-labour";
const DATE: &str = "2026-03-15";

fn set() -> &'static ProtocolSet {
    static SET: OnceLock<ProtocolSet> = OnceLock::new();
    SET.get_or_init(ProtocolSet::built_in)
}

/// Decides a case and returns the decision as JSON.
fn decide_on(protocol: &str, date: &str, birth: &str, sex: &str, obs: Value) -> Value {
    let case =
        json!({"assessment_date": date, "birth_date": birth, "sex": sex, "observations": obs});
    set()
        .classify_json(protocol, &case.to_string())
        .unwrap_or_else(|e| panic!("{protocol}: {e}"))
        .to_json()
}

fn decide(protocol: &str, birth: &str, sex: &str, obs: Value) -> Value {
    decide_on(protocol, DATE, birth, sex, obs)
}

/// `base` with `extra`'s entries added or replaced.
fn with(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    if let (Some(o), Value::Object(e)) = (out.as_object_mut(), extra) {
        o.extend(e);
    }
    out
}

fn outcome(d: &Value) -> &str {
    d["outcome"].as_str().unwrap()
}

fn class(d: &Value) -> Option<&str> {
    d["classes"]["tb"].as_str()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

fn due(d: &Value) -> Vec<&str> {
    strings(&d["due"])
}

fn referrals(d: &Value) -> Vec<&str> {
    strings(&d["referrals"])
}

fn rules(d: &Value) -> Vec<&str> {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect()
}

fn reason<'a>(d: &'a Value, rule: &str) -> &'a Value {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no reason {rule} in {d}"))
}

const SPUTUM: [&str; 6] = [
    "sputum.smear.1",
    "sputum.smear.2",
    "sputum.smear.3",
    "sputum.culture.1",
    "sputum.culture.2",
    "sputum.culture.3",
];
const CULTURES: [&str; 3] = ["sputum.culture.1", "sputum.culture.2", "sputum.culture.3"];

fn us_history() -> Value {
    json!({"tb.symptoms": false, "tb.contact": false, "tb.previous": "none", "hiv.known_positive": false})
}

fn negative_sputum() -> Value {
    json!({"sputum.smear.1": "negative", "sputum.smear.2": "negative", "sputum.smear.3": "negative",
           "sputum.culture.1": "negative", "sputum.culture.2": "ntm", "sputum.culture.3": "negative"})
}

// Birth dates giving an exact age on 2026-03-15.
const AGE_1: &str = "2024-03-16";
const AGE_2: &str = "2024-03-15";
const AGE_9: &str = "2017-01-10";
const AGE_10: &str = "2015-03-16";
const AGE_11: &str = "2015-03-15";
const AGE_14: &str = "2011-03-16";
const AGE_15: &str = "2011-03-15";
const ADULT: &str = "1990-06-01";

// ---------------------------------------------------------------- §7 contract

#[test]
fn contract_example_gives_the_exact_json() {
    let case = r#"{"assessment_date": "2026-03-15", "birth_date": "1990-06-01", "sex": "male",
        "context": {"tb_incidence_per_100k": 85},
        "observations": {"tb.symptoms": false, "tb.contact": false, "tb.previous": "none",
                         "hiv.known_positive": false, "cxr": "normal"}}"#;
    let d = set().classify_json(US, case).unwrap();
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        r#"{"protocol":"us-cdc-ti-tb","outcome":"cleared","classes":{"tb":"none"},"due":[],"referrals":[],"certificate_valid_until":null,"reasons":[{"rule":"us.class.none","facts":["cxr"],"source":"CDC TB TI: no TB classification"}]}"#
    );
}

#[test]
fn contract_json_of_a_certificate_and_pending_decision() {
    let d = decide(
        UK,
        ADULT,
        "male",
        json!({"tb.symptoms": false, "tb.contact": true, "tb.previous": "none", "cxr": "normal"}),
    );
    assert_eq!(
        d,
        json!({"protocol": "uk-pre-entry-tb", "outcome": "cleared", "classes": {"tb": "none"},
               "due": [], "referrals": [], "certificate_valid_until": "2026-06-15",
               "reasons": [
                 {"rule": "uk.class.none", "facts": ["cxr"],
                  "source": "UKTBTI: no active pulmonary TB found — certificate issued"},
                 {"rule": "uk.certificate.contact", "facts": ["tb.contact"],
                  "source": "UKTBTI: for a recent contact of infectious TB the certificate is valid for 3 months"}]})
    );
    let d = decide(US, ADULT, "male", json!({}));
    assert_eq!(
        d,
        json!({"protocol": "us-cdc-ti-tb", "outcome": "pending", "classes": {},
               "due": ["tb.symptoms", "tb.contact", "tb.previous", "hiv.known_positive", "cxr"],
               "referrals": [], "certificate_valid_until": null,
               "reasons": [
                 {"rule": "us.history", "facts": [],
                  "source": "CDC TB TI, DS-3030 TB worksheet: TB symptoms, contact, TB history and known HIV infection are recorded for every applicant"},
                 {"rule": "us.due.cxr_15_plus", "facts": ["age"],
                  "source": "CDC TB TI: chest radiograph for applicants aged 15 years or older"}]})
    );
}

#[test]
fn contract_refuses_unknown_protocol_code_and_value_naming_them() {
    let good =
        json!({"assessment_date": DATE, "birth_date": ADULT, "sex": "male", "observations": {}});
    match set().classify_json("xx-nowhere", &good.to_string()) {
        Err(e @ ClassifyError::UnknownProtocol { .. }) => {
            assert!(e.to_string().contains("'xx-nowhere'"), "{e}");
            assert!(e.to_string().contains(US), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let field = |case: Value| match set().classify_json(US, &case.to_string()) {
        Err(ClassifyError::Case(e)) => (e.field, e.message),
        other => panic!("{other:?}"),
    };
    let (f, m) = field(with(&good, json!({"observations": {"tb.cough": true}})));
    assert_eq!(f, "observations.tb.cough");
    assert!(m.contains("'tb.cough'"), "{m}");
    let (f, m) = field(with(&good, json!({"observations": {"cxr": "cloudy"}})));
    assert_eq!(f, "observations.cxr");
    assert!(m.contains("cloudy") && m.contains("suggestive_tb"), "{m}");
    let (f, _) = field(with(&good, json!({"observations": {"tst.mm": -3}})));
    assert_eq!(f, "observations.tst.mm");
    let (f, _) = field(with(&good, json!({"observations": {"tb.symptoms": "yes"}})));
    assert_eq!(f, "observations.tb.symptoms");
    let (f, m) = field(with(&good, json!({"context": {"gdp": 3}})));
    assert_eq!(f, "context.gdp");
    assert!(m.contains("'context.gdp'"), "{m}");
    assert_eq!(
        field(with(
            &good,
            json!({"context": {"tb_incidence_per_100k": "high"}})
        ))
        .0,
        "context.tb_incidence_per_100k"
    );
    assert_eq!(field(with(&good, json!({"sex": "unknown"}))).0, "sex");
    assert_eq!(
        field(with(&good, json!({"birth_date": "1990-13"}))).0,
        "birth_date"
    );
    assert_eq!(
        field(with(&good, json!({"birth_date": "2027-01-01"}))).0,
        "birth_date"
    );
    assert_eq!(
        field(with(&good, json!({"assessment_date": "15/03/2026"}))).0,
        "assessment_date"
    );
    assert_eq!(field(with(&good, json!({"weight": 70}))).0, "weight");
    assert_eq!(
        field(json!({"birth_date": ADULT, "sex": "male"})).0,
        "assessment_date"
    );
    assert!(matches!(
        set().classify_json(US, "{not json"),
        Err(ClassifyError::Case(_))
    ));
    // Unknown protocol is reported before the case is read.
    assert!(matches!(
        set().classify_json("nope", "{}"),
        Err(ClassifyError::UnknownProtocol { .. })
    ));
}

#[test]
fn context_maps_to_its_vocabulary_code() {
    let case = json!({"assessment_date": DATE, "birth_date": AGE_9, "sex": "male",
                      "context": {"tb_incidence_per_100k": 10}, "observations": us_history()});
    let d = set().classify_json(US, &case.to_string()).unwrap();
    assert!(d.due.is_empty(), "{:?}", d.due);
    // The same fact given as an observation reads the same.
    let case = json!({"assessment_date": DATE, "birth_date": AGE_9, "sex": "male",
                      "observations": with(&us_history(), json!({"context.tb_incidence_per_100k": 10}))});
    assert!(
        set()
            .classify_json(US, &case.to_string())
            .unwrap()
            .due
            .is_empty()
    );
    // Given in both places, it is refused.
    let case = json!({"assessment_date": DATE, "birth_date": AGE_9, "sex": "male",
                      "context": {"tb_incidence_per_100k": 10},
                      "observations": {"context.tb_incidence_per_100k": 10}});
    assert!(set().classify_json(US, &case.to_string()).is_err());
}

#[test]
fn every_reason_cites_a_source_and_every_rule_appears_once() {
    for p in [US, UK, RU] {
        let d = decide(
            p,
            ADULT,
            "female",
            json!({"tb.symptoms": true, "cxr": "suggestive_tb",
            "sputum.culture.1": "mtb_positive", "hiv.a1": "reactive", "hbsag": "reactive"}),
        );
        let ids = rules(&d);
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(ids.len(), unique.len(), "{ids:?}");
        for r in d["reasons"].as_array().unwrap() {
            assert!(!r["source"].as_str().unwrap().trim().is_empty(), "{r}");
        }
    }
}

// ---------------------------------------------------------------- §3 US

#[test]
fn us_history_and_cxr_due_by_age() {
    let d = decide(US, ADULT, "male", json!({}));
    assert_eq!(
        due(&d),
        [
            "tb.symptoms",
            "tb.contact",
            "tb.previous",
            "hiv.known_positive",
            "cxr"
        ]
    );
    assert_eq!(outcome(&d), "pending");
    assert!(d["classes"].as_object().unwrap().is_empty());
    // 15: CXR, no IGRA. 14: IGRA, no CXR.
    assert_eq!(due(&decide(US, AGE_15, "male", us_history())), ["cxr"]);
    assert_eq!(due(&decide(US, AGE_14, "male", us_history())), ["igra"]);
}

#[test]
fn us_igra_from_2_to_14_by_incidence_or_contact() {
    let h = us_history();
    let inc = |n: i64| with(&h, json!({"context.tb_incidence_per_100k": n}));
    assert!(
        due(&decide(US, AGE_1, "male", h.clone())).is_empty(),
        "under 2: nothing"
    );
    assert_eq!(
        due(&decide(US, AGE_2, "male", h.clone())),
        ["igra"],
        "incidence not recorded"
    );
    assert_eq!(due(&decide(US, AGE_9, "male", inc(85))), ["igra"]);
    assert_eq!(
        due(&decide(US, AGE_9, "male", inc(20))),
        ["igra"],
        "20 is the threshold"
    );
    assert!(due(&decide(US, AGE_9, "male", inc(19))).is_empty());
    let contact = with(&inc(5), json!({"tb.contact": true}));
    assert_eq!(due(&decide(US, AGE_9, "male", contact)), ["igra"]);
    // A recorded TST satisfies it.
    let d = decide(US, AGE_9, "male", with(&inc(85), json!({"tst.mm": 3})));
    assert!(due(&d).is_empty());
    assert_eq!(outcome(&d), "cleared");
    assert_eq!(reason(&d, "us.class.none")["facts"], json!(["tst.mm"]));
    // Cleared once the IGRA is negative.
    let d = decide(
        US,
        AGE_9,
        "male",
        with(&inc(85), json!({"igra": "negative"})),
    );
    assert_eq!((outcome(&d), class(&d)), ("cleared", Some("none")));
}

#[test]
fn us_cxr_under_15_on_indication() {
    let low = with(&us_history(), json!({"context.tb_incidence_per_100k": 5}));
    let due_of = |extra: Value| {
        decide(US, AGE_9, "female", with(&low, extra))["due"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "cxr")
    };
    assert!(!due_of(json!({})));
    assert!(due_of(json!({"tb.symptoms": true})));
    assert!(due_of(json!({"hiv.known_positive": true})));
    assert!(due_of(json!({"igra": "positive"})));
    assert!(!due_of(json!({"igra": "negative"})));
    assert!(due_of(json!({"tst.mm": 10})));
    assert!(!due_of(json!({"tst.mm": 9})));
    assert!(due_of(json!({"tb.contact": true, "tst.mm": 5})));
    assert!(!due_of(json!({"tb.contact": true, "tst.mm": 4})));
    assert!(due_of(json!({"tb.symptoms": true})), "also under 2");
    assert!(
        decide(US, AGE_1, "male", with(&low, json!({"tb.symptoms": true})))["due"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "cxr")
    );
}

#[test]
fn us_sputum_due_on_indication_until_final() {
    let h = us_history();
    for extra in [
        json!({"cxr": "suggestive_tb"}),
        json!({"cxr": "inconclusive"}),
        json!({"cxr": "normal", "tb.symptoms": true}),
        json!({"cxr": "normal", "hiv.known_positive": true}),
    ] {
        let d = decide(US, ADULT, "male", with(&h, extra.clone()));
        assert_eq!(due(&d), SPUTUM, "{extra}");
        assert_eq!(outcome(&d), "pending");
    }
    for cxr in ["normal", "abnormal_not_tb"] {
        assert!(due(&decide(US, ADULT, "male", with(&h, json!({"cxr": cxr})))).is_empty());
    }
    // Pending, contaminated and absent cultures stay due; ntm is final.
    let partial = with(
        &with(&h, json!({"cxr": "suggestive_tb"})),
        json!({"sputum.smear.1": "negative", "sputum.smear.2": "negative", "sputum.smear.3": "negative",
               "sputum.culture.1": "pending", "sputum.culture.2": "contaminated"}),
    );
    let d = decide(US, ADULT, "male", partial.clone());
    assert_eq!(due(&d), CULTURES);
    assert_eq!(outcome(&d), "pending");
    let d = decide(
        US,
        ADULT,
        "male",
        with(
            &partial,
            json!({"sputum.culture.1": "ntm", "sputum.culture.2": "negative", "sputum.culture.3": "ntm"}),
        ),
    );
    assert!(due(&d).is_empty());
    assert_eq!(class(&d), Some("B1_pulmonary"));
}

#[test]
fn us_class_a_on_each_kind_of_evidence() {
    let base = with(
        &us_history(),
        json!({"cxr": "suggestive_tb", "tb.symptoms": true}),
    );
    for evidence in [
        json!({"sputum.smear.1": "positive"}),
        json!({"sputum.smear.2": "positive"}),
        json!({"sputum.smear.3": "positive"}),
        json!({"sputum.culture.1": "mtb_positive"}),
        json!({"sputum.culture.2": "mtb_positive"}),
        json!({"sputum.culture.3": "mtb_positive"}),
        json!({"xpert": "mtb_detected"}),
        json!({"tb.clinical_diagnosis": true}),
        json!({"tb.previous": "on_treatment"}),
        json!({"tb.previous": "on_treatment", "tb.dot_completed": false}),
    ] {
        let d = decide(US, ADULT, "male", with(&base, evidence.clone()));
        assert_eq!(outcome(&d), "not_cleared", "{evidence}");
        assert_eq!(class(&d), Some("A"), "{evidence}");
        assert_eq!(referrals(&d), ["tb_treatment"], "{evidence}");
        assert!(rules(&d).contains(&"us.class.A"));
    }
}

#[test]
fn us_class_a_is_decided_while_other_results_are_pending() {
    let d = decide(
        US,
        ADULT,
        "male",
        json!({"cxr": "suggestive_tb", "sputum.smear.1": "positive",
                                             "sputum.culture.1": "pending"}),
    );
    assert_eq!(outcome(&d), "not_cleared");
    assert_eq!(class(&d), Some("A"));
    assert!(due(&d).contains(&"sputum.culture.1"));
    assert!(due(&d).contains(&"tb.symptoms"));
    assert_eq!(reason(&d, "us.class.A")["facts"], json!(["sputum.smear.1"]));
    assert_eq!(
        reason(&d, "tb_bacteriology.positive")["facts"],
        json!(["sputum.smear.1"])
    );
}

#[test]
fn us_classes_b0_to_b3_and_none() {
    let h = us_history();
    let normal = with(&h, json!({"cxr": "normal"}));
    let cases = [
        // B0: DOT completed, even with positive bacteriology.
        (
            with(
                &with(&normal, negative_sputum()),
                json!({"tb.dot_completed": true, "tb.previous": "on_treatment"}),
            ),
            "B0",
            "tb_follow_up_on_arrival",
        ),
        (
            with(
                &normal,
                json!({"tb.dot_completed": true, "xpert": "mtb_detected"}),
            ),
            "B0",
            "tb_follow_up_on_arrival",
        ),
        (
            with(&normal, json!({"tb.extrapulmonary": true})),
            "B1_extrapulmonary",
            "tb_follow_up_on_arrival",
        ),
        (
            with(
                &with(&h, json!({"cxr": "suggestive_tb"})),
                negative_sputum(),
            ),
            "B1_pulmonary",
            "tb_follow_up_on_arrival",
        ),
        (
            with(&normal, json!({"tb.previous": "treated_completed"})),
            "B1_pulmonary",
            "tb_follow_up_on_arrival",
        ),
        (
            with(&normal, json!({"tst.mm": 10})),
            "B2",
            "ltbi_evaluation",
        ),
        (
            with(&normal, json!({"igra": "positive"})),
            "B2",
            "ltbi_evaluation",
        ),
        (
            with(&normal, json!({"tb.contact": true})),
            "B3",
            "tb_follow_up_on_arrival",
        ),
    ];
    for (obs, expected, referral) in cases {
        let d = decide(US, ADULT, "male", obs.clone());
        assert_eq!(class(&d), Some(expected), "{obs} → {d}");
        assert_eq!(outcome(&d), "cleared_with_follow_up", "{obs}");
        assert_eq!(referrals(&d), [referral], "{obs}");
        assert!(rules(&d).contains(&format!("us.class.{expected}").as_str()));
    }
    // Negative smears recorded although sputum was not due: not B1.
    let d = decide(US, ADULT, "male", with(&normal, negative_sputum()));
    assert_eq!((outcome(&d), class(&d)), ("cleared", Some("none")));
    assert_eq!(d["certificate_valid_until"], Value::Null);
    // A child with a positive IGRA and a normal X-ray is B2.
    let d = decide(
        US,
        AGE_9,
        "male",
        with(&h, json!({"igra": "positive", "cxr": "normal"})),
    );
    assert_eq!(class(&d), Some("B2"));
    // B2 is not decided while the X-ray it calls for is missing.
    let d = decide(US, AGE_9, "male", with(&h, json!({"igra": "positive"})));
    assert_eq!((outcome(&d), class(&d)), ("pending", None));
    assert_eq!(due(&d), ["cxr"]);
}

#[test]
fn us_partial_birth_dates_count_from_their_last_day() {
    let h = us_history();
    // "2011" may be 2011-12-31: 14 on 2026-03-15, so IGRA, not CXR.
    assert_eq!(due(&decide(US, "2011", "male", h.clone())), ["igra"]);
    assert_eq!(due(&decide(US, "2011-03", "male", h.clone())), ["igra"]);
    assert_eq!(due(&decide(US, "2011-02", "male", h.clone())), ["cxr"]);
    assert_eq!(due(&decide(US, "2010", "male", h.clone())), ["cxr"]);
    // "2024" may be 2024-12-31: 1 year old, nothing due.
    assert!(due(&decide(US, "2024", "male", h.clone())).is_empty());
    assert!(due(&decide(US, "2024-03", "male", h.clone())).is_empty());
    // "2024-02" is at the latest 2024-02-29: 2 years old.
    assert_eq!(due(&decide(US, "2024-02", "male", h)), ["igra"]);
}

// ---------------------------------------------------------------- §4 UK

fn uk_history() -> Value {
    json!({"tb.symptoms": false, "tb.contact": false, "tb.previous": "none"})
}

#[test]
fn uk_history_pregnancy_and_cxr_by_age_and_sex() {
    let d = decide(UK, ADULT, "female", json!({}));
    assert_eq!(
        due(&d),
        [
            "tb.symptoms",
            "tb.contact",
            "tb.previous",
            "pregnant",
            "cxr"
        ]
    );
    assert_eq!(
        due(&decide(UK, ADULT, "male", json!({}))),
        ["tb.symptoms", "tb.contact", "tb.previous", "cxr"]
    );
    assert_eq!(
        due(&decide(UK, AGE_11, "female", uk_history())),
        ["pregnant", "cxr"]
    );
    assert_eq!(due(&decide(UK, AGE_11, "male", uk_history())), ["cxr"]);
    let d = decide(UK, AGE_10, "female", uk_history());
    assert!(due(&d).is_empty());
    assert_eq!(outcome(&d), "cleared");
    assert_eq!(d["certificate_valid_until"], "2026-09-15");
    // Under 11: CXR only on indication.
    for extra in [
        json!({"tb.symptoms": true}),
        json!({"tb.contact": true}),
        json!({"tb.previous": "treated_completed"}),
        json!({"tb.previous": "on_treatment"}),
    ] {
        assert!(
            due(&decide(
                UK,
                AGE_10,
                "male",
                with(&uk_history(), extra.clone())
            ))
            .contains(&"cxr"),
            "{extra}"
        );
    }
    // "2015" may be 2015-12-31: 10 years old.
    assert!(due(&decide(UK, "2015", "male", uk_history())).is_empty());
    assert_eq!(due(&decide(UK, "2015-02", "male", uk_history())), ["cxr"]);
}

#[test]
fn uk_pregnant_applicant_gives_cultures_instead_of_cxr() {
    let pregnant = with(&uk_history(), json!({"pregnant": true}));
    let d = decide(UK, ADULT, "female", pregnant.clone());
    assert_eq!(due(&d), CULTURES);
    let d = decide(
        UK,
        ADULT,
        "female",
        with(
            &pregnant,
            json!({"sputum.culture.1": "negative", "sputum.culture.2": "negative", "sputum.culture.3": "ntm"}),
        ),
    );
    assert_eq!((outcome(&d), class(&d)), ("cleared", Some("none")));
    // A recorded CXR replaces the cultures.
    let d = decide(
        UK,
        ADULT,
        "female",
        with(&pregnant, json!({"cxr": "normal"})),
    );
    assert!(due(&d).is_empty());
    assert_eq!(outcome(&d), "cleared");
    let d = decide(
        UK,
        ADULT,
        "female",
        with(&uk_history(), json!({"pregnant": false, "cxr": "normal"})),
    );
    assert_eq!(outcome(&d), "cleared");
}

#[test]
fn uk_cultures_on_indication_until_final() {
    for extra in [
        json!({"cxr": "suggestive_tb"}),
        json!({"cxr": "inconclusive"}),
        json!({"cxr": "normal", "tb.symptoms": true}),
    ] {
        let d = decide(UK, ADULT, "male", with(&uk_history(), extra.clone()));
        assert_eq!(due(&d), CULTURES, "{extra}");
        assert_eq!(outcome(&d), "pending");
        assert_eq!(d["certificate_valid_until"], Value::Null);
    }
    let base = with(&uk_history(), json!({"cxr": "suggestive_tb"}));
    let d = decide(
        UK,
        ADULT,
        "male",
        with(
            &base,
            json!({"sputum.culture.1": "pending", "sputum.culture.2": "contaminated", "sputum.culture.3": "ntm"}),
        ),
    );
    assert_eq!(due(&d), ["sputum.culture.1", "sputum.culture.2"]);
    let d = decide(
        UK,
        ADULT,
        "male",
        with(
            &base,
            json!({"sputum.culture.1": "negative", "sputum.culture.2": "negative", "sputum.culture.3": "ntm"}),
        ),
    );
    assert_eq!((outcome(&d), class(&d)), ("cleared", Some("none")));
    assert_eq!(
        reason(&d, "uk.class.none")["facts"],
        json!([
            "cxr",
            "sputum.culture.1",
            "sputum.culture.2",
            "sputum.culture.3"
        ])
    );
}

#[test]
fn uk_positive_bacteriology_is_active_tb_even_while_pending() {
    let d = decide(
        UK,
        ADULT,
        "male",
        json!({"cxr": "suggestive_tb", "sputum.culture.2": "mtb_positive"}),
    );
    assert_eq!(outcome(&d), "not_cleared");
    assert_eq!(class(&d), Some("active_tb"));
    assert_eq!(referrals(&d), ["tb_treatment"]);
    assert_eq!(d["certificate_valid_until"], Value::Null);
    assert!(due(&d).contains(&"sputum.culture.1"));
}

#[test]
fn uk_certificate_months_clamp_to_the_end_of_a_shorter_month() {
    let cleared = with(&uk_history(), json!({"cxr": "normal"}));
    let contact = with(&cleared, json!({"tb.contact": true}));
    let until = |date: &str, obs: &Value| {
        decide_on(UK, date, ADULT, "male", obs.clone())["certificate_valid_until"].clone()
    };
    assert_eq!(until("2026-08-31", &cleared), "2027-02-28");
    assert_eq!(until("2027-08-31", &cleared), "2028-02-29");
    assert_eq!(until("2026-03-31", &cleared), "2026-09-30");
    assert_eq!(until("2026-03-15", &cleared), "2026-09-15");
    assert_eq!(until("2026-11-30", &contact), "2027-02-28");
    assert_eq!(until("2026-05-31", &contact), "2026-08-31");
    assert_eq!(until("2026-03-31", &contact), "2026-06-30");
}

// ---------------------------------------------------------------- §5 RU

fn ru_clear() -> Value {
    json!({"hiv.a1": "non_reactive", "syphilis.screen": "non_reactive", "cxr": "normal",
           "leprosy.exam": "no_signs", "narcology.drug_test": "negative"})
}

#[test]
fn ru_due_tests_and_clearance() {
    let d = decide(RU, ADULT, "male", json!({}));
    assert_eq!(
        due(&d),
        [
            "hiv.a1",
            "syphilis.screen",
            "cxr",
            "leprosy.exam",
            "narcology.drug_test"
        ]
    );
    assert_eq!(outcome(&d), "pending");
    let d = decide(RU, ADULT, "male", ru_clear());
    assert_eq!(outcome(&d), "cleared");
    assert!(d["classes"].as_object().unwrap().is_empty());
    assert_eq!(d["certificate_valid_until"], "2026-06-15");
    assert!(rules(&d).contains(&"hiv.a1_non_reactive"));
    assert!(rules(&d).contains(&"syphilis.screen_non_reactive"));
    assert!(rules(&d).contains(&"ru.certificate"));
    assert_eq!(
        decide_on(RU, "2026-11-30", ADULT, "male", ru_clear())["certificate_valid_until"],
        "2027-02-28"
    );
}

#[test]
fn ru_hiv_three_test_branches() {
    let c = ru_clear();
    let hiv = |a: Value| decide(RU, ADULT, "male", with(&c, a));
    // A1 non-reactive: negative (the baseline).
    assert_eq!(outcome(&hiv(json!({}))), "cleared");
    // A1 reactive: A2 due.
    let d = hiv(json!({"hiv.a1": "reactive"}));
    assert_eq!((outcome(&d), due(&d)), ("pending", vec!["hiv.a2"]));
    // A2 non-reactive: inconclusive, retest due, no diagnosis.
    let d = hiv(json!({"hiv.a1": "reactive", "hiv.a2": "non_reactive"}));
    assert_eq!((outcome(&d), due(&d)), ("pending", vec!["hiv.retest"]));
    assert!(referrals(&d).is_empty());
    assert_eq!(
        reason(&d, "hiv.a2_non_reactive")["facts"],
        json!(["hiv.a1", "hiv.a2"])
    );
    // A2 reactive: A3 due.
    let d = hiv(json!({"hiv.a1": "reactive", "hiv.a2": "reactive"}));
    assert_eq!((outcome(&d), due(&d)), ("pending", vec!["hiv.a3"]));
    // A3 reactive: positive.
    let d = hiv(json!({"hiv.a1": "reactive", "hiv.a2": "reactive", "hiv.a3": "reactive"}));
    assert_eq!(outcome(&d), "not_cleared");
    assert_eq!(referrals(&d), ["hiv_care"]);
    assert_eq!(
        reason(&d, "ru.hiv_positive")["facts"],
        json!(["hiv.a1", "hiv.a2", "hiv.a3"])
    );
    assert!(
        reason(&d, "hiv.a3_reactive")["source"]
            .as_str()
            .unwrap()
            .contains("WHO")
    );
    // A3 non-reactive: inconclusive.
    let d = hiv(json!({"hiv.a1": "reactive", "hiv.a2": "reactive", "hiv.a3": "non_reactive"}));
    assert_eq!((outcome(&d), due(&d)), ("pending", vec!["hiv.retest"]));
    assert!(referrals(&d).is_empty());
}

#[test]
fn ru_syphilis_branches() {
    let c = ru_clear();
    let s = |x: Value| decide(RU, ADULT, "male", with(&c, x));
    let d = s(json!({"syphilis.screen": "reactive"}));
    assert_eq!(
        (outcome(&d), due(&d)),
        ("pending", vec!["syphilis.confirm"])
    );
    let d = s(json!({"syphilis.screen": "reactive", "syphilis.confirm": "non_reactive"}));
    assert_eq!(outcome(&d), "cleared");
    assert!(rules(&d).contains(&"syphilis.biological_false_positive"));
    let d = s(
        json!({"syphilis.screen": "reactive", "syphilis.confirm": "reactive", "syphilis.treated": true}),
    );
    assert_eq!(outcome(&d), "cleared");
    assert!(rules(&d).contains(&"syphilis.confirmed_treated"));
    for treated in [json!({}), json!({"syphilis.treated": false})] {
        let d = s(with(
            &json!({"syphilis.screen": "reactive", "syphilis.confirm": "reactive"}),
            treated,
        ));
        assert_eq!(outcome(&d), "not_cleared");
        assert_eq!(referrals(&d), ["syphilis_treatment"]);
        assert!(rules(&d).contains(&"syphilis.confirmed_untreated"));
    }
}

#[test]
fn ru_tb_leprosy_and_narcology() {
    let c = ru_clear();
    let r = |x: Value| decide(RU, ADULT, "male", with(&c, x));
    let d = r(json!({"cxr": "suggestive_tb"}));
    assert_eq!((outcome(&d), due(&d)), ("pending", vec!["xpert"]));
    let d = r(json!({"cxr": "suggestive_tb", "xpert": "invalid"}));
    assert_eq!(due(&d), ["xpert"], "an invalid molecular test is repeated");
    let d = r(json!({"cxr": "suggestive_tb", "xpert": "mtb_not_detected"}));
    assert_eq!(outcome(&d), "cleared_with_follow_up");
    assert_eq!(referrals(&d), ["tb_evaluation"]);
    assert_eq!(d["certificate_valid_until"], "2026-06-15");
    for tb in [
        json!({"cxr": "suggestive_tb", "xpert": "mtb_detected"}),
        json!({"tb.clinical_diagnosis": true}),
        json!({"sputum.smear.1": "positive"}),
        json!({"sputum.culture.3": "mtb_positive"}),
    ] {
        let d = r(tb.clone());
        assert_eq!(outcome(&d), "not_cleared", "{tb}");
        assert_eq!(referrals(&d), ["tb_treatment"], "{tb}");
        assert_eq!(d["certificate_valid_until"], Value::Null);
    }
    let d = r(json!({"leprosy.exam": "suspected"}));
    assert_eq!(
        (outcome(&d), due(&d)),
        ("pending", vec!["leprosy.confirmed"])
    );
    assert_eq!(
        outcome(&r(
            json!({"leprosy.exam": "suspected", "leprosy.confirmed": false})
        )),
        "cleared"
    );
    let d = r(json!({"leprosy.exam": "suspected", "leprosy.confirmed": true}));
    assert_eq!(
        (outcome(&d), referrals(&d)),
        ("not_cleared", vec!["leprosy_treatment"])
    );
    let d = r(json!({"narcology.drug_test": "positive"}));
    assert_eq!(
        (outcome(&d), referrals(&d)),
        ("not_cleared", vec!["narcology"])
    );
}

#[test]
fn ru_findings_combine_and_decide_while_pending() {
    let d = decide(
        RU,
        ADULT,
        "male",
        with(
            &ru_clear(),
            json!({
        "hiv.a1": "reactive", "hiv.a2": "reactive", "hiv.a3": "reactive",
        "syphilis.screen": "reactive", "syphilis.confirm": "reactive",
        "cxr": "suggestive_tb", "xpert": "mtb_not_detected"}),
        ),
    );
    assert_eq!(outcome(&d), "not_cleared");
    assert_eq!(
        referrals(&d),
        ["hiv_care", "syphilis_treatment", "tb_evaluation"]
    );
    // A drug test positive decides although nothing else is recorded.
    let d = decide(
        RU,
        ADULT,
        "male",
        json!({"narcology.drug_test": "positive"}),
    );
    assert_eq!(outcome(&d), "not_cleared");
    assert_eq!(
        due(&d),
        ["hiv.a1", "syphilis.screen", "cxr", "leprosy.exam"]
    );
    // A follow-up finding does not decide while something is due.
    let d = decide(
        RU,
        ADULT,
        "male",
        json!({"cxr": "suggestive_tb", "xpert": "mtb_not_detected"}),
    );
    assert_eq!(outcome(&d), "pending");
}

// ---------------------------------------------------------------- §2, §6 shared

#[test]
fn tb_bacteriology_branches_in_every_protocol() {
    let positive = [
        json!({"sputum.smear.1": "positive"}),
        json!({"sputum.smear.2": "positive"}),
        json!({"sputum.smear.3": "positive"}),
        json!({"sputum.culture.1": "mtb_positive"}),
        json!({"sputum.culture.2": "mtb_positive"}),
        json!({"sputum.culture.3": "mtb_positive"}),
        json!({"xpert": "mtb_detected"}),
    ];
    let not_positive = [
        json!({"sputum.smear.1": "negative"}),
        json!({"sputum.culture.1": "ntm"}),
        json!({"sputum.culture.2": "contaminated"}),
        json!({"sputum.culture.3": "pending"}),
        json!({"sputum.culture.1": "negative"}),
        json!({"xpert": "mtb_not_detected"}),
        json!({"xpert": "invalid"}),
    ];
    for p in [US, UK, RU] {
        for obs in &positive {
            let d = decide(p, ADULT, "male", obs.clone());
            assert_eq!(outcome(&d), "not_cleared", "{p} {obs}");
            assert!(rules(&d).contains(&"tb_bacteriology.positive"), "{p} {obs}");
        }
        for obs in &not_positive {
            let d = decide(p, ADULT, "male", obs.clone());
            assert!(
                !rules(&d).contains(&"tb_bacteriology.positive"),
                "{p} {obs}"
            );
            assert_ne!(outcome(&d), "not_cleared", "{p} {obs}");
        }
    }
}

#[test]
fn hepatitis_is_referred_in_every_protocol_without_changing_clearance() {
    let cleared = [
        (US, with(&us_history(), json!({"cxr": "normal"}))),
        (UK, with(&uk_history(), json!({"cxr": "normal"}))),
        (RU, ru_clear()),
    ];
    for (p, obs) in cleared {
        let before = decide(p, ADULT, "male", obs.clone());
        for hep in [
            json!({"hbsag": "reactive"}),
            json!({"anti_hcv": "reactive"}),
            json!({"hbsag": "reactive", "anti_hcv": "reactive"}),
        ] {
            let d = decide(p, ADULT, "male", with(&obs, hep.clone()));
            assert_eq!(referrals(&d), ["hepatitis_care"], "{p} {hep}");
            assert_eq!(d["outcome"], before["outcome"], "{p} {hep}");
            assert_eq!(
                d["certificate_valid_until"],
                before["certificate_valid_until"]
            );
        }
        let d = decide(
            p,
            ADULT,
            "male",
            with(
                &obs,
                json!({"hbsag": "non_reactive", "anti_hcv": "non_reactive"}),
            ),
        );
        assert!(referrals(&d).is_empty(), "{p}");
        // Referred even while results are pending.
        let d = decide(p, ADULT, "male", json!({"anti_hcv": "reactive"}));
        assert_eq!(
            (outcome(&d), referrals(&d)),
            ("pending", vec!["hepatitis_care"]),
            "{p}"
        );
    }
}

#[test]
fn finalisation_may_raise_severity_never_lower_it() {
    use Outcome::*;
    for engine in [Cleared, ClearedWithFollowUp, NotCleared] {
        for fin in [Cleared, ClearedWithFollowUp, NotCleared] {
            assert_eq!(
                severity_allows(engine, fin),
                fin.severity() >= engine.severity(),
                "{engine:?} → {fin:?}"
            );
        }
        assert!(!severity_allows(engine, Pending));
    }
    assert!(severity_allows(Pending, NotCleared));
    assert!(!severity_allows(Pending, Cleared));
}

// ---------------------------------------------------------------- new protocol as data

const NEW_PROTOCOL: &str = r#"
kind = "protocol"
id = "xx-test-hiv-tb"
version = "0.1"
destination = "CA"
title = "A protocol written for a test"
include = ["hiv-who-3test", "tb-bacteriology"]

[[due]]
algorithm = "hiv-who-3test"

[[due]]
id = "xx.due.cxr"
codes = ["cxr"]
when = "age >= 18"
source = "Test source A"

[[classification]]
key = "tb"

[[classification.rule]]
id = "xx.active"
when = "tb_bacteriology = positive"
class = "active"
outcome = "not_cleared"
referrals = ["tb_treatment"]
while_pending = true
source = "Test source B"

[[classification.rule]]
id = "xx.none"
class = "none"
outcome = "cleared"
source = "Test source C"

[[rule]]
id = "xx.hiv"
when = "hiv = positive"
outcome = "cleared_with_follow_up"
referrals = ["hiv_care"]
source = "Test source D"

[certificate]
id = "xx.certificate"
months = 12
source = "Test source E"
"#;

#[test]
fn a_new_protocol_loads_from_a_directory_with_no_rust_change() {
    let dir =
        std::env::temp_dir().join(format!("mhis-protocols-{}-{}", std::process::id(), line!()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("xx-test-hiv-tb.toml"), NEW_PROTOCOL).unwrap();
    let mut files = ProtocolSet::built_in_files();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let set = ProtocolSet::from_files(files).unwrap();
    assert_eq!(set.ids().count(), 4);
    let p = set.get("xx-test-hiv-tb").unwrap();
    assert_eq!((p.version(), p.destination().as_str()), ("0.1", "CA"));

    let case = |obs: Value| {
        json!({"assessment_date": "2026-01-31", "birth_date": "1990", "sex": "other", "observations": obs}).to_string()
    };
    let d = set
        .classify_json("xx-test-hiv-tb", &case(json!({})))
        .unwrap();
    assert_eq!(d.outcome, Outcome::Pending);
    assert_eq!(d.due, ["hiv.a1", "cxr"]);
    let d = set
        .classify_json("xx-test-hiv-tb", &case(json!({"hiv.a1": "reactive", "hiv.a2": "reactive", "hiv.a3": "reactive", "cxr": "normal"})))
        .unwrap();
    assert_eq!(d.outcome, Outcome::ClearedWithFollowUp);
    assert_eq!(d.classes.get("tb"), Some("none"));
    assert_eq!(d.referrals, ["hiv_care"]);
    assert_eq!(d.certificate_valid_until.unwrap().to_string(), "2027-01-31");
    assert!(
        d.reasons
            .iter()
            .any(|r| r.rule == "xx.hiv" && r.source == "Test source D")
    );
    let d = set
        .classify_json("xx-test-hiv-tb", &case(json!({"xpert": "mtb_detected"})))
        .unwrap();
    assert_eq!(
        (d.outcome, d.classes.get("tb")),
        (Outcome::NotCleared, Some("active"))
    );
}

// ---------------------------------------------------------------- bad files

fn load_error(name: &str, text: &str) -> LoadError {
    let mut files = ProtocolSet::built_in_files();
    files.push((name.to_owned(), text.to_owned()));
    ProtocolSet::from_files(files).expect_err("the file must be refused")
}

/// The new protocol with one line replaced, and the 1-based line it is on.
fn variant(old: &str, new: &str) -> (String, usize) {
    assert!(NEW_PROTOCOL.contains(old), "{old}");
    let offset = NEW_PROTOCOL.find(old).unwrap();
    let text = NEW_PROTOCOL.replacen(old, new, 1);
    (text, NEW_PROTOCOL[..offset].matches('\n').count() + 1)
}

#[test]
fn bad_files_are_refused_with_file_line_and_reason() {
    let cases: [(&str, &str, &str); 14] = [
        (
            "codes = [\"cxr\"]",
            "codes = [\"cxr.lateral\"]",
            "'cxr.lateral' is not a code",
        ),
        (
            "when = \"age >= 18\"",
            "when = \"age >= 18 and cough = true\"",
            "'cough' is neither a code",
        ),
        (
            "when = \"age >= 18\"",
            "when = \"cxr = cloudy\"",
            "'cloudy' is not a value of 'cxr'",
        ),
        (
            "when = \"age >= 18\"",
            "when = \"age >= 18 and\"",
            "ends too early",
        ),
        (
            "when = \"age >= 18\"",
            "when = \"tst.mm = positive\"",
            "compare it with a number",
        ),
        (
            "when = \"hiv = positive\"",
            "when = \"syphilis = untreated\"",
            "'syphilis' is neither a code",
        ),
        (
            "when = \"hiv = positive\"",
            "when = \"hiv = reactive\"",
            "'reactive' is not a value of sub-algorithm 'hiv'",
        ),
        (
            "when = \"hiv = positive\"",
            "when = \"required(xx.due.sputum)\"",
            "not an earlier due entry",
        ),
        (
            "include = [\"hiv-who-3test\", \"tb-bacteriology\"]",
            "include = [\"hiv-who-3test\", \"tb-bacteriology\", \"malaria\"]",
            "unknown sub-algorithm 'malaria'",
        ),
        (
            "id = \"xx.none\"",
            "id = \"xx.active\"",
            "rule id 'xx.active' is already used",
        ),
        (
            "id = \"xx.hiv\"",
            "id = \"hiv.a3_reactive\"",
            "already used (shared/hiv-who-3test.toml",
        ),
        (
            "outcome = \"cleared_with_follow_up\"",
            "outcome = \"fine\"",
            "outcome 'fine'",
        ),
        ("destination = \"CA\"", "destination = \"ZZ\"", "'ZZ'"),
        ("months = 12", "months = \"twelve\"", "invalid type"),
    ];
    for (old, new, reason) in cases {
        let (text, line) = variant(old, new);
        let e = load_error("bad.toml", &text);
        assert_eq!(e.file, "bad.toml", "{new}: {e}");
        assert_eq!(e.line, line, "{new}: {e}");
        assert!(e.reason.contains(reason), "{new}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("bad.toml, line {line}: ")),
            "{e}"
        );
    }
}

#[test]
fn bad_files_name_the_line_of_syntax_and_shape_faults() {
    // Broken TOML.
    let (text, line) = variant("version = \"0.1\"", "version = \"0.1");
    let e = load_error("broken.toml", &text);
    assert_eq!((e.file.as_str(), e.line), ("broken.toml", line), "{e}");
    // An unknown key.
    let (text, line) = variant(
        "while_pending = true",
        "while_pending = true\nurgent = true",
    );
    let e = load_error("typo.toml", &text);
    assert_eq!(e.line, line + 1, "{e}");
    assert!(e.reason.contains("urgent"), "{e}");
    // A fault on the second line of a multi-line condition.
    let (text, line) = variant(
        "when = \"age >= 18\"",
        "when = \"\"\"\nage >= 18\n  and cxr = blurry\"\"\"",
    );
    let e = load_error("multi.toml", &text);
    assert_eq!(e.line, line + 2, "{e}");
    // No kind.
    let e = load_error("nokind.toml", "id = \"x\"\n");
    assert_eq!((e.line, e.reason.contains("kind")), (1, true), "{e}");
    // A rule after a fallback rule could never apply.
    let (text, line) = variant(
        "id = \"xx.none\"\nclass = \"none\"",
        "id = \"xx.early\"\nclass = \"early\"\noutcome = \"cleared\"\nsource = \"S\"\n\n[[classification.rule]]\nid = \"xx.none\"\nclass = \"none\"",
    );
    let e = load_error("unreachable.toml", &text);
    assert_eq!(e.line, line, "{e}");
    assert!(e.reason.contains("never apply"), "{e}");
    // Two files define the same protocol.
    let mut files = ProtocolSet::built_in_files();
    files.push(("a.toml".into(), NEW_PROTOCOL.into()));
    files.push(("b.toml".into(), NEW_PROTOCOL.into()));
    let e = ProtocolSet::from_files(files).unwrap_err();
    assert_eq!(e.file, "b.toml");
    assert!(e.reason.contains("a.toml"), "{e}");
    // A fault inside a shared sub-algorithm names that file.
    let mut files = ProtocolSet::built_in_files();
    for (name, text) in &mut files {
        if name == "shared/syphilis.toml" {
            *text = text.replace("syphilis.confirm = non_reactive", "syphilis.confirm = weak");
        }
    }
    let e = ProtocolSet::from_files(files).unwrap_err();
    assert_eq!(e.file, "shared/syphilis.toml");
    assert!(e.reason.contains("'weak'"), "{e}");
    // `parse` alone checks the shape of one file.
    assert!(parse("x.toml", NEW_PROTOCOL).unwrap().is_protocol());
    assert_eq!(parse("x.toml", "kind = \"recipe\"").unwrap_err().line, 1);
}

// ---------------------------------------------------------------- properties

/// Codes a generated case may record, with their possible values.
const GENERATED: &[(&str, &[&str])] = &[
    ("tb.symptoms", &["false", "true"]),
    ("tb.contact", &["false", "true"]),
    (
        "tb.previous",
        &["none", "treated_completed", "on_treatment"],
    ),
    ("hiv.known_positive", &["false", "true"]),
    ("pregnant", &["false", "true"]),
    (
        "cxr",
        &["normal", "suggestive_tb", "abnormal_not_tb", "inconclusive"],
    ),
    ("igra", &["positive", "negative", "indeterminate"]),
    ("tst.mm", &["0", "4", "5", "9", "10", "25"]),
    ("sputum.smear.1", &["positive", "negative"]),
    ("sputum.smear.2", &["positive", "negative"]),
    ("sputum.smear.3", &["positive", "negative"]),
    (
        "sputum.culture.1",
        &["mtb_positive", "negative", "ntm", "contaminated", "pending"],
    ),
    (
        "sputum.culture.2",
        &["mtb_positive", "negative", "ntm", "contaminated", "pending"],
    ),
    (
        "sputum.culture.3",
        &["mtb_positive", "negative", "ntm", "contaminated", "pending"],
    ),
    ("xpert", &["mtb_detected", "mtb_not_detected", "invalid"]),
    ("tb.extrapulmonary", &["false", "true"]),
    ("tb.clinical_diagnosis", &["false", "true"]),
    ("tb.dot_completed", &["false", "true"]),
    ("hiv.a1", &["reactive", "non_reactive"]),
    ("hiv.a2", &["reactive", "non_reactive"]),
    ("hiv.a3", &["reactive", "non_reactive"]),
    ("syphilis.screen", &["reactive", "non_reactive"]),
    ("syphilis.confirm", &["reactive", "non_reactive"]),
    ("syphilis.treated", &["false", "true"]),
    ("leprosy.exam", &["no_signs", "suspected"]),
    ("leprosy.confirmed", &["false", "true"]),
    ("narcology.drug_test", &["negative", "positive"]),
    ("hbsag", &["reactive", "non_reactive"]),
    ("anti_hcv", &["reactive", "non_reactive"]),
    (
        "context.tb_incidence_per_100k",
        &["5", "19", "20", "85", "400"],
    ),
];

fn json_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

/// A generated case: (code, JSON value) pairs in generation order.
fn entries(choices: &[u8]) -> Vec<(&'static str, Value)> {
    GENERATED
        .iter()
        .zip(choices)
        .filter(|(_, c)| **c > 0)
        .map(|((code, values), c)| {
            (
                *code,
                json_value(values[usize::from(*c - 1) % values.len()]),
            )
        })
        .collect()
}

/// The case JSON text, observations written in the given order.
fn case_text(birth: &str, sex: &str, obs: &[(&str, Value)]) -> String {
    let body: Vec<String> = obs.iter().map(|(c, v)| format!("{:?}: {v}", c)).collect();
    format!(
        r#"{{"assessment_date": "{DATE}", "birth_date": "{birth}", "sex": "{sex}", "observations": {{{}}}}}"#,
        body.join(", ")
    )
}

fn birth_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        (1930i32..2026).prop_map(|y| y.to_string()),
        (1930i32..2026, 1u32..13).prop_map(|(y, m)| format!("{y:04}-{m:02}")),
        (1930i32..2026, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
    ]
    .prop_filter("not after the assessment", |b| b.as_str() <= DATE)
}

fn sex_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("female"), Just("male"), Just("other")]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The decision is a pure function of the facts: the same case twice
    /// gives the same decision, whatever the order of its observations.
    #[test]
    fn decisions_are_pure_and_ignore_observation_order(
        choices in proptest::collection::vec(0u8..7, GENERATED.len()),
        birth in birth_strategy(),
        sex in sex_strategy(),
        seed in any::<u64>(),
    ) {
        let obs = entries(&choices);
        let mut shuffled = obs.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        for p in [US, UK, RU] {
            let a = set().classify_json(p, &case_text(&birth, sex, &obs)).unwrap();
            let b = set().classify_json(p, &case_text(&birth, sex, &obs)).unwrap();
            let c = set().classify_json(p, &case_text(&birth, sex, &shuffled)).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&c).unwrap());
            // The same through `Case::new` with the observations reversed.
            let case = Case::parse_json(set().vocabulary(), &case_text(&birth, sex, &obs)).unwrap();
            let reversed = Case::new(
                case.assessment_date,
                case.birth_date,
                case.sex,
                case.observations.clone().into_iter().rev(),
            );
            prop_assert_eq!(&set().classify(p, &reversed).unwrap(), &a);
            // The outcome is pending exactly when something is due and nothing decided.
            if a.outcome == Outcome::Pending {
                prop_assert!(!a.due.is_empty());
            }
            if a.due.is_empty() {
                prop_assert_ne!(a.outcome, Outcome::Pending);
            }
        }
    }

    /// Positive TB bacteriology without completed DOT is never cleared,
    /// in any protocol, whatever else is recorded.
    #[test]
    fn positive_bacteriology_without_dot_is_never_cleared(
        choices in proptest::collection::vec(0u8..7, GENERATED.len()),
        positive in 0usize..7,
        dot in prop_oneof![Just(None), Just(Some(false))],
        birth in birth_strategy(),
        sex in sex_strategy(),
    ) {
        let evidence = [
            ("sputum.smear.1", "positive"), ("sputum.smear.2", "positive"), ("sputum.smear.3", "positive"),
            ("sputum.culture.1", "mtb_positive"), ("sputum.culture.2", "mtb_positive"),
            ("sputum.culture.3", "mtb_positive"), ("xpert", "mtb_detected"),
        ][positive];
        let mut obs: Vec<(&str, Value)> = entries(&choices)
            .into_iter()
            .filter(|(c, _)| *c != evidence.0 && *c != "tb.dot_completed")
            .collect();
        obs.push((evidence.0, json!(evidence.1)));
        if let Some(d) = dot {
            obs.push(("tb.dot_completed", json!(d)));
        }
        for p in [US, UK, RU] {
            let d = set().classify_json(p, &case_text(&birth, sex, &obs)).unwrap();
            prop_assert_eq!(d.outcome, Outcome::NotCleared, "{} {:?}", p, obs);
            prop_assert!(d.referrals.contains(&"tb_treatment"));
            prop_assert_eq!(d.certificate_valid_until, None);
        }
    }
}

// ---------------------------------------------------------------- facts API

#[test]
fn server_path_decides_from_checked_values() {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
    let case = Case::new(
        date,
        PartialDate::YearMonth(1990, 6),
        Sex::Male,
        [
            ("tb.symptoms".to_owned(), ObservationValue::Boolean(false)),
            ("tb.contact".to_owned(), ObservationValue::Boolean(false)),
            (
                "tb.previous".to_owned(),
                ObservationValue::Coded("none".into()),
            ),
            (
                "hiv.known_positive".to_owned(),
                ObservationValue::Boolean(false),
            ),
            ("cxr".to_owned(), ObservationValue::Coded("normal".into())),
        ],
    );
    assert_eq!(case.age(), 35);
    let d = set().classify(US, &case).unwrap();
    assert_eq!(d.outcome, Outcome::Cleared);
    let facts = set().facts(&case);
    for p in set().iter() {
        assert_eq!(p.decide(&facts), set().classify(p.id(), &case).unwrap());
    }
}

/// The benchmark workload decides every case without failing (its speed
/// is measured by `mhis bench engine`, not here).
#[test]
fn the_benchmark_workload_runs() {
    let workload = bench::Workload::new();
    assert!(workload.run(100) > 0);
}
