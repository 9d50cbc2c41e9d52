//! mhis → FHIR → mhis for every code of the vocabulary, messages built and
//! parsed back, and bad input refused with the element named.

mod common;

use chrono::{TimeZone, Utc};
use mhis_domain::assessment::AssessmentStatus;
use mhis_domain::ids::ObservationId;
use mhis_domain::observation::{Observation, ObservationValue};
use mhis_domain::vocabulary::{ValueType, Vocabulary};
use mhis_fhir::model::coded::Coded;
use mhis_fhir::model::codes::{EncounterStatus, ObservationStatus};
use mhis_fhir::model::resources::{Observation as FhirObservation, Patient, Resource};
use mhis_fhir::{
    bundle, condition, diagnostic_report, encounter, message, observation, outcome, patient, site,
};
use serde_json::{Value, json};

fn sample_values(t: &ValueType) -> Vec<ObservationValue> {
    match t {
        ValueType::Boolean => vec![
            ObservationValue::Boolean(true),
            ObservationValue::Boolean(false),
        ],
        ValueType::Coded { values } => values
            .iter()
            .cloned()
            .map(ObservationValue::Coded)
            .collect(),
        ValueType::Integer { min, max } => {
            vec![
                ObservationValue::Integer(*min),
                ObservationValue::Integer(*max),
            ]
        }
        ValueType::Decimal { min, max } => vec![
            ObservationValue::Decimal(*min),
            ObservationValue::Decimal(((min + max) / 2.0 * 10.0).round() / 10.0),
        ],
        ValueType::Text { .. } => vec![ObservationValue::Text("Скрининг: без особенностей".into())],
        ValueType::Date => vec![ObservationValue::Date(common::today())],
    }
}

fn stored(code: &str, value: ObservationValue, unit: Option<String>) -> Observation {
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 11, 15, 0).unwrap();
    Observation {
        id: ObservationId::new(),
        assessment_id: mhis_domain::ids::AssessmentId::new(),
        code: code.into(),
        value,
        unit,
        observed_at: at,
        recorded_by: "nurse.aliyeva".into(),
        recorded_at: at,
        supersedes: None,
        superseded_by: None,
        correction_reason: None,
    }
}

fn via_json(o: FhirObservation) -> FhirObservation {
    let json = serde_json::to_value(Resource::Observation(Box::new(o))).unwrap();
    match serde_json::from_value(json).unwrap() {
        Resource::Observation(o) => *o,
        _ => unreachable!(),
    }
}

#[test]
fn every_code_and_value_of_the_vocabulary_round_trips() {
    let vocabulary = Vocabulary::built_in();
    let subject = mhis_domain::ids::MigrantId::new();
    let mut n = 0;
    for def in vocabulary.iter() {
        for value in sample_values(&def.value_type) {
            let obs = stored(&def.code, value, def.unit.clone());
            let fhir = via_json(observation::from_observation(&obs, &vocabulary, subject).unwrap());
            assert_eq!(fhir.status, Coded::Known(ObservationStatus::Final));
            if let Some(c) = &def.coding {
                let first = &fhir.code.coding[0];
                assert_eq!(first.code.as_ref().unwrap().0, c.code, "{}", def.code);
            }
            let back = observation::to_new_observation(&fhir, &vocabulary, Utc::now())
                .unwrap_or_else(|e| panic!("{}: {e}", def.code));
            assert_eq!(back.code, obs.code);
            assert_eq!(back.value, obs.value, "{}", def.code);
            assert_eq!(back.unit, obs.unit, "{}", def.code);
            assert_eq!(back.observed_at, obs.observed_at);
            n += 1;
        }
    }
    println!("{n} observations round-tripped");
}

#[test]
fn a_code_known_only_by_loinc_is_found_unless_loinc_is_ambiguous() {
    let vocabulary = Vocabulary::built_in();
    let subject = mhis_domain::ids::MigrantId::new();
    let obs = stored(
        "body_weight",
        ObservationValue::Decimal(70.5),
        Some("kg".into()),
    );
    let mut fhir = observation::from_observation(&obs, &vocabulary, subject).unwrap();
    fhir.code
        .coding
        .retain(|c| c.system.as_ref().unwrap().0 == mhis_fhir::uri::LOINC);
    let back = observation::to_new_observation(&fhir, &vocabulary, Utc::now()).unwrap();
    assert_eq!(back.code, "body_weight");

    let obs = stored(
        "sputum.culture.2",
        ObservationValue::Coded("negative".into()),
        None,
    );
    let mut fhir = observation::from_observation(&obs, &vocabulary, subject).unwrap();
    fhir.code
        .coding
        .retain(|c| c.system.as_ref().unwrap().0 == mhis_fhir::uri::LOINC);
    let err = observation::to_new_observation(&fhir, &vocabulary, Utc::now()).unwrap_err();
    assert_eq!(err.path(), "Observation.code.coding[0]");
    assert!(err.to_string().contains("sputum.culture.1"), "{err}");
}

#[test]
fn corrections_are_corrected_and_superseded_results_amended() {
    let vocabulary = Vocabulary::built_in();
    let subject = mhis_domain::ids::MigrantId::new();
    let mut old = stored("cxr", ObservationValue::Coded("normal".into()), None);
    let mut new = stored("cxr", ObservationValue::Coded("suggestive_tb".into()), None);
    old.superseded_by = Some(new.id);
    new.supersedes = Some(old.id);
    new.correction_reason = Some("second reader".into());
    let f_old = observation::from_observation(&old, &vocabulary, subject).unwrap();
    let f_new = observation::from_observation(&new, &vocabulary, subject).unwrap();
    assert_eq!(f_old.status, Coded::Known(ObservationStatus::Amended));
    assert_eq!(f_new.status, Coded::Known(ObservationStatus::Corrected));
    assert_eq!(f_new.note[0].text.0, "second reader");
    let json = serde_json::to_value(&f_new).unwrap();
    assert_eq!(json["extension"][0]["url"], mhis_fhir::uri::EXT_SUPERSEDES);
    assert_eq!(
        json["extension"][0]["valueReference"]["reference"],
        format!("Observation/{}", old.id)
    );

    let report = diagnostic_report::chest_xray(&new, &vocabulary, subject).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], "corrected");
    assert_eq!(
        json["result"][0]["reference"],
        format!("Observation/{}", new.id)
    );
    assert_eq!(
        json["conclusionCode"][0]["coding"][0]["code"],
        "suggestive_tb"
    );
    let normal = diagnostic_report::chest_xray(&old, &vocabulary, subject).unwrap();
    let json = serde_json::to_value(&normal).unwrap();
    assert_eq!(
        json["conclusionCode"][0]["coding"][0]["system"],
        mhis_fhir::uri::SNOMED
    );
    assert!(
        diagnostic_report::chest_xray(
            &stored("igra", ObservationValue::Coded("positive".into()), None),
            &vocabulary,
            subject
        )
        .is_err()
    );
}

#[test]
fn migrant_round_trips_with_cyrillic_name_partial_birth_date_and_passport() {
    let site = common::site();
    let m = common::migrant(&site);
    let p = patient::from_migrant(&m);
    let json = serde_json::to_value(Resource::Patient(Box::new(p))).unwrap();
    assert_eq!(json["birthDate"], "1990-06");
    assert_eq!(json["meta"]["versionId"], "3");
    assert_eq!(json["name"][0]["family"], "Рахимов");
    assert_eq!(json["name"][0]["given"], json!(["Шухрат", "Алиевич"]));
    assert_eq!(json["name"][1]["family"], "Rakhimov");
    assert_eq!(
        json["identifier"][0]["system"],
        format!("urn:mhis:site:{}:registration", site.id)
    );
    assert_eq!(json["identifier"][1]["type"]["coding"][0]["code"], "PPN");
    assert_eq!(
        json["extension"][0]["url"],
        mhis_fhir::uri::PATIENT_NATIONALITY
    );
    let Resource::Patient(p) = serde_json::from_value(json).unwrap() else {
        unreachable!()
    };
    let back = patient::to_migrant_details(&p, common::today()).unwrap();
    assert_eq!(back, m.details);
}

#[test]
fn a_patient_without_name_gender_birth_date_or_nationality_names_each() {
    let p: Patient = serde_json::from_value(json!({"identifier": [{"value": "x"}]})).unwrap();
    let err = patient::to_migrant_details(&p, common::today()).unwrap_err();
    for path in [
        "Patient.name",
        "Patient.gender",
        "Patient.birthDate",
        patient::NATIONALITY_PATH,
    ] {
        assert!(err.names(path), "{path} not named in: {err}");
    }
    let p: Patient = serde_json::from_value(json!({
        "name": [{"use": "official", "given": ["Ali"]}], "gender": "unknown", "birthDate": "2090"
    }))
    .unwrap();
    let err = patient::to_migrant_details(&p, common::today()).unwrap_err();
    assert!(err.names("Patient.name[0].family"), "{err}");
    assert!(err.names("Patient.gender"), "{err}");
    assert!(err.names("Patient.birthDate"), "{err}");
    // One OperationOutcome issue per problem, each naming its element.
    let oo = serde_json::to_value(outcome::from_error(&err)).unwrap();
    assert_eq!(oo["issue"].as_array().unwrap().len(), err.issues().len());
    assert_eq!(oo["issue"][0]["expression"][0], "Patient.name[0].family");
    assert_eq!(oo["issue"][0]["code"], "required");
    assert_eq!(oo["issue"][0]["severity"], "error");
}

#[test]
fn a_passport_without_issuing_state_is_refused_at_its_assigner() {
    let p: Patient = serde_json::from_value(json!({
        "name": [{"family": "Doe", "given": ["Jane"]}], "gender": "female", "birthDate": "1990",
        "extension": [{"url": mhis_fhir::uri::PATIENT_NATIONALITY, "extension": [{"url": "code",
            "valueCodeableConcept": {"coding": [{"system": "urn:iso:std:iso:3166", "code": "UZ"}]}}]}],
        "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PPN"}]}, "value": "AB123"}]
    })).unwrap();
    let err = patient::to_migrant_details(&p, common::today()).unwrap_err();
    assert_eq!(
        err.path(),
        "Patient.identifier[0].assigner.identifier.value"
    );
}

fn a_message() -> (Value, mhis_domain::migrant::Migrant) {
    let vocabulary = Vocabulary::built_in();
    let site = common::site();
    let m = common::migrant(&site);
    let a = common::assessment(&site, &m, AssessmentStatus::Finalised);
    let mut obs = stored("cxr", ObservationValue::Coded("suggestive_tb".into()), None);
    obs.assessment_id = a.id;
    let json = message::MessageBundle::new(
        message::event("notification", "Notification"),
        "https://mhis.tj.example/fhir",
        "https://mhis.ru.example/fhir",
    )
    .sender(format!("Organization/{}", site.id))
    .timestamp(Utc::now())
    .focus(diagnostic_report::chest_xray(&obs, &vocabulary, m.id).unwrap())
    .add(observation::from_observation(&obs, &vocabulary, m.id).unwrap())
    .add(patient::from_migrant(&m))
    .add(encounter::from_assessment(&a))
    .add(condition::from_class(&a, "tb", "B1_pulmonary"))
    .add(site::organization(&site))
    .add(site::location(&site))
    .to_json()
    .unwrap();
    (json, m)
}

#[test]
fn a_message_is_built_and_parsed_back() {
    let (json, m) = a_message();
    assert_eq!(json["type"], "message");
    assert_eq!(
        json["entry"][0]["resource"]["resourceType"],
        "MessageHeader"
    );
    assert_eq!(
        json["entry"][1]["resource"]["resourceType"],
        "DiagnosticReport"
    );
    for e in json["entry"].as_array().unwrap() {
        assert!(
            e["fullUrl"].as_str().unwrap().starts_with("urn:uuid:"),
            "{e}"
        );
    }
    // References between entries became their fullUrls.
    let subject = json["entry"][1]["resource"]["subject"]["reference"]
        .as_str()
        .unwrap();
    assert_eq!(subject, format!("urn:uuid:{}", m.id));
    let parsed = message::parse(&json).unwrap();
    assert_eq!(parsed.entries.len(), 7);
    assert_eq!(
        parsed.event.as_ref().unwrap().code.as_ref().unwrap().0,
        "notification"
    );
    assert_eq!(parsed.source(), "https://mhis.tj.example/fhir");
    assert_eq!(
        parsed.destinations().collect::<Vec<_>>(),
        ["https://mhis.ru.example/fhir"]
    );
    let focus: Vec<&Resource> = parsed.focus().collect();
    assert!(matches!(focus[..], [Resource::DiagnosticReport(_)]));
    assert!(matches!(
        parsed.resolve(subject),
        Some(Resource::Patient(_))
    ));
    let Some(Resource::Encounter(e)) = parsed
        .entries
        .iter()
        .map(|e| &e.resource)
        .find(|r| matches!(r, Resource::Encounter(_)))
    else {
        panic!()
    };
    assert_eq!(e.status, Coded::Known(EncounterStatus::Finished));
}

#[test]
fn a_message_with_a_dangling_reference_is_refused_on_build_and_on_parse() {
    let site = common::site();
    let m = common::migrant(&site);
    let a = common::assessment(&site, &m, AssessmentStatus::Open);
    // The Encounter names the Patient, the Organization and the Location,
    // none of which is in the message.
    let err = message::MessageBundle::new(message::event("x", "X"), "urn:a", "urn:b")
        .focus(encounter::from_assessment(&a))
        .to_json()
        .unwrap_err();
    assert!(
        err.names("Bundle.entry[1].resource.subject.reference"),
        "{err}"
    );
    assert!(
        err.names("Bundle.entry[1].resource.serviceProvider.reference"),
        "{err}"
    );

    let (mut json, _) = a_message();
    json["entry"][1]["resource"]["subject"]["reference"] =
        json!("urn:uuid:00000000-0000-0000-0000-000000000000");
    let err = message::parse(&json).unwrap_err();
    assert_eq!(err.path(), "Bundle.entry[1].resource.subject.reference");
    assert_eq!(err.issues()[0].kind, mhis_fhir::IssueKind::NotFound);
}

#[test]
fn a_bundle_that_is_not_a_message_is_refused() {
    let (mut json, _) = a_message();
    json["type"] = json!("collection");
    assert_eq!(message::parse(&json).unwrap_err().path(), "Bundle.type");
    let err = message::parse(&json!({"resourceType": "Patient"})).unwrap_err();
    assert_eq!(err.path(), "Bundle.resourceType");
}

#[test]
fn a_message_whose_first_entry_is_not_its_header_is_refused() {
    let (mut json, _) = a_message();
    json["entry"].as_array_mut().unwrap().swap(0, 1);
    let err = message::parse(&json).unwrap_err();
    assert!(err.names("Bundle.entry[0].resource"), "{err}");
    let (mut json, _) = a_message();
    json["entry"][0]["resource"]["focus"] = json!([]);
    assert!(
        message::parse(&json)
            .unwrap_err()
            .names("Bundle.entry[0].resource.focus")
    );
}

#[test]
fn searchset_and_batch_response_bundles() {
    let site = common::site();
    let m = common::migrant(&site);
    let b = bundle::searchset(
        "https://mhis.example/fhir/",
        "https://mhis.example/fhir/Patient?name=rakhimov",
        None,
        Some(1),
        [Resource::Patient(Box::new(patient::from_migrant(&m)))],
    );
    let json = serde_json::to_value(&b).unwrap();
    assert_eq!(json["type"], "searchset");
    assert_eq!(json["total"], 1);
    assert_eq!(
        json["entry"][0]["fullUrl"],
        format!("https://mhis.example/fhir/Patient/{}", m.id)
    );
    assert_eq!(json["entry"][0]["search"]["mode"], "match");

    let r = bundle::batch_response(vec![
        bundle::EntryResponse {
            status: "201 Created".into(),
            location: Some(format!("Patient/{}/_history/1", m.id)),
            ..Default::default()
        },
        bundle::EntryResponse {
            status: "422 Unprocessable Entity".into(),
            outcome: Some(outcome::error(
                mhis_fhir::model::codes::IssueType::Invalid,
                "bad",
            )),
            ..Default::default()
        },
    ]);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["type"], "batch-response");
    assert_eq!(
        json["entry"][1]["response"]["outcome"]["resourceType"],
        "OperationOutcome"
    );

    let (kind, entries) = bundle::parse_requests(&json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}},
        {"request": {"method": "GET", "url": "Patient/1"}}
    ]})).unwrap();
    assert_eq!(kind, mhis_fhir::model::codes::BundleType::Batch);
    assert_eq!(entries.len(), 2);
    let err = bundle::parse_requests(
        &json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"request": {"method": "POST", "url": "Patient"}}
        ]}),
    )
    .unwrap_err();
    assert_eq!(err.path(), "Bundle.entry[0].resource");
}
