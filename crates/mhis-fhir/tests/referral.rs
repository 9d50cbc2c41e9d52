//! Referral messages → FHIR message Bundle → referral messages, for every
//! event, and bad Bundles refused with the element named.

use chrono::{NaiveDate, TimeZone, Utc};
use mhis_domain::ids::{MessageId, ReferralId};
use mhis_domain::referral::{
    NodeRef, PersonSummary, ReferralContent, ReferralEvent, ReferralKind, ReferralMessage,
    ReferralOutcome, ReferralState, SummaryObservation, Urgency,
};
use mhis_domain::vocabulary::Vocabulary;
use mhis_fhir::model::resources::{Bundle, Resource};
use mhis_fhir::referral::{from_bundle, to_bundle};
use mhis_fhir::{FhirError, IssueKind};
use serde_json::{Value, json};

fn vocabulary() -> Vocabulary {
    Vocabulary::built_in()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn observed(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, h, m, 0).unwrap()
}

/// A TB referral from Dushanbe to a peer, after `event`.
fn message(event: ReferralEvent) -> ReferralMessage {
    let state = match event {
        ReferralEvent::Send | ReferralEvent::Receive => ReferralState::Sent,
        ReferralEvent::Accept => ReferralState::Accepted,
        ReferralEvent::ReportOutcome => ReferralState::OutcomeReported,
        ReferralEvent::Close => ReferralState::Closed,
        ReferralEvent::Cancel => ReferralState::Cancelled,
    };
    let reported = matches!(event, ReferralEvent::ReportOutcome | ReferralEvent::Close);
    let (source, destination) = {
        let tj = NodeRef {
            name: "tj-dushanbe".into(),
            url: "https://mhis.dushanbe.example.tj".into(),
        };
        let ru = NodeRef {
            name: "ru-moscow-tb".into(),
            url: "https://mhis.tb-moscow.example.ru/".into(),
        };
        if event.sent_by_referrer() {
            (tj, ru)
        } else {
            (ru, tj)
        }
    };
    ReferralMessage {
        id: MessageId::new(),
        event,
        referral: ReferralContent {
            id: ReferralId::new(),
            kind: ReferralKind::Referral,
            state,
            reason: "tb_treatment".into(),
            urgency: Urgency::Urgent,
            due_date: day("2026-12-04"),
            note: Some("Sputum smear positive ×2; started isolation. Please confirm DOTS.".into()),
            from_label: "Dushanbe Migration Health Centre".into(),
            to_site_code: Some("RU-MOW-TB-03".into()),
            person: PersonSummary {
                family_name: "Rakhimov".into(),
                given_names: "Shukhrat Alievich".into(),
                sex: "male".into(),
                birth_date: "1990-04".into(),
                nationality: "TJ".into(),
                document_number: Some("400123456".into()),
                document_country: Some("TJ".into()),
                contact: Some("+79161234567".into()),
            },
            observations: vec![
                SummaryObservation {
                    code: "tb.symptoms".into(),
                    value: json!(true),
                    unit: None,
                    observed_at: observed(9, 40),
                },
                SummaryObservation {
                    code: "cxr".into(),
                    value: json!("suggestive_tb"),
                    unit: None,
                    observed_at: observed(10, 5),
                },
                SummaryObservation {
                    code: "body_temperature".into(),
                    value: json!(37.8),
                    unit: Some("Cel".into()),
                    observed_at: observed(9, 35),
                },
                SummaryObservation {
                    code: "body_weight".into(),
                    // The lexeme's precision travels.
                    value: serde_json::from_str("61.50").unwrap(),
                    unit: Some("kg".into()),
                    observed_at: Utc
                        .with_ymd_and_hms(2026, 11, 20, 9, 36, 12)
                        .unwrap()
                        .checked_add_signed(chrono::Duration::milliseconds(250))
                        .unwrap(),
                },
                SummaryObservation {
                    code: "tst.mm".into(),
                    value: json!(14),
                    unit: Some("mm".into()),
                    observed_at: observed(11, 0),
                },
                SummaryObservation {
                    code: "sputum.smear.1".into(),
                    value: json!("positive"),
                    unit: None,
                    observed_at: observed(12, 30),
                },
            ],
            conditions: vec![
                "tb: A_pulmonary_smear_positive".into(),
                "TB treatment".into(),
            ],
            outcome: reported.then_some(ReferralOutcome::TreatmentStarted),
            outcome_date: reported.then(|| day("2026-11-28")),
            outcome_note: reported.then(|| "Started on HRZE, DOT at the district clinic.".into()),
            created_at: Utc.with_ymd_and_hms(2026, 11, 20, 14, 2, 7).unwrap(),
        },
        source,
        destination,
        sent_at: Utc.with_ymd_and_hms(2026, 11, 20, 14, 5, 0).unwrap(),
    }
}

const EVENTS: [ReferralEvent; 5] = [
    ReferralEvent::Send,
    ReferralEvent::Accept,
    ReferralEvent::ReportOutcome,
    ReferralEvent::Close,
    ReferralEvent::Cancel,
];

fn entries_of(json: &Value) -> &Vec<Value> {
    json["entry"].as_array().unwrap()
}

/// The index of the first entry holding a resource of type `ty`.
fn entry(json: &Value, ty: &str) -> usize {
    entries_of(json)
        .iter()
        .position(|e| e["resource"]["resourceType"] == ty)
        .unwrap_or_else(|| panic!("no {ty} in the message"))
}

fn resource_mut<'a>(json: &'a mut Value, ty: &str) -> &'a mut Value {
    let i = entry(json, ty);
    &mut json["entry"][i]["resource"]
}

fn refused(json: &Value) -> FhirError {
    from_bundle(json, &vocabulary()).expect_err("the Bundle must be refused")
}

#[test]
fn every_event_round_trips() {
    let vocabulary = vocabulary();
    for event in EVENTS {
        let m = message(event);
        let json = to_bundle(&m, &vocabulary);
        let back =
            from_bundle(&json, &vocabulary).unwrap_or_else(|e| panic!("{event}: {e}\n{json:#}"));
        assert_eq!(back, m, "{event}");
        // Byte for byte: the same message gives the same Bundle.
        assert_eq!(json, to_bundle(&m, &vocabulary), "{event}: deterministic");
    }
}

#[test]
fn a_sparse_arrival_notification_round_trips() {
    let vocabulary = vocabulary();
    let mut m = message(ReferralEvent::Send);
    let r = &mut m.referral;
    r.kind = ReferralKind::ArrivalNotification;
    r.reason = "tb_follow_up".into();
    r.urgency = Urgency::Routine;
    r.note = None;
    r.to_site_code = None;
    r.observations.truncate(1);
    r.conditions.clear();
    r.person = PersonSummary {
        family_name: "Yusupova".into(),
        given_names: "Gulnora".into(),
        sex: "unknown".into(),
        birth_date: "1985".into(),
        nationality: "UZ".into(),
        document_number: None,
        document_country: None,
        contact: Some("Moscow, ul. Lenina 5, kv. 12".into()),
    };
    m.destination.name = String::new();
    let json = to_bundle(&m, &vocabulary);
    assert_eq!(from_bundle(&json, &vocabulary).unwrap(), m);
    let patient = &json["entry"][entry(&json, "Patient")]["resource"];
    assert_eq!(patient["birthDate"], "1985");
    assert_eq!(patient["telecom"][0]["system"], "other");
    assert!(patient.get("identifier").is_none());
}

#[test]
fn the_bundle_is_a_typed_fhir_message() {
    let vocabulary = vocabulary();
    for event in EVENTS {
        let m = message(event);
        let json = to_bundle(&m, &vocabulary);
        let bundle: Bundle = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{event}: not a Bundle: {e}"));
        assert_eq!(bundle.id.as_ref().unwrap().0, m.id.to_string());
        assert_eq!(json["type"], "message");
        assert_eq!(json["timestamp"], "2026-11-20T14:05:00Z");
        let mut types = Vec::new();
        for e in &bundle.entry {
            let res: Resource = serde_json::from_value(e.resource.clone().unwrap())
                .unwrap_or_else(|err| panic!("{event}: {err}"));
            let full_url = &e.full_url.as_ref().unwrap().0;
            assert!(full_url.starts_with("urn:uuid:"), "{full_url}");
            types.push(mhis_fhir::bundle::resource_type(&res));
        }
        let focus = if matches!(event, ReferralEvent::Accept | ReferralEvent::ReportOutcome) {
            "Task"
        } else {
            "ServiceRequest"
        };
        assert_eq!(types[0], "MessageHeader");
        assert_eq!(types[1], focus, "{event}: the focus follows the header");
        assert_eq!(types.iter().filter(|t| *t == "Observation").count(), 6);
        assert_eq!(types.iter().filter(|t| *t == "Condition").count(), 2);
        let has_task = types.iter().any(|t| t == "Task");
        assert_eq!(
            has_task,
            !matches!(event, ReferralEvent::Send | ReferralEvent::Cancel),
            "{event}: a Task when accepted or with an outcome"
        );

        let header = &json["entry"][0]["resource"];
        assert_eq!(
            header["eventCoding"]["code"],
            format!("referral-{}", event.as_str())
        );
        assert_eq!(header["eventCoding"]["system"], "urn:mhis:message-event");
        assert_eq!(header["source"]["endpoint"], m.source.url);
        assert_eq!(header["source"]["name"], m.source.name);
        assert_eq!(header["destination"][0]["endpoint"], m.destination.url);
        assert_eq!(header["destination"][0]["name"], m.destination.name);
        assert_eq!(
            header["focus"][0]["reference"], json["entry"][1]["fullUrl"],
            "{event}"
        );
    }
}

#[test]
fn the_service_request_carries_the_referral() {
    let vocabulary = vocabulary();
    let m = message(ReferralEvent::Send);
    let json = to_bundle(&m, &vocabulary);
    let sr = &json["entry"][entry(&json, "ServiceRequest")]["resource"];
    assert_eq!(sr["id"], m.referral.id.to_string());
    assert_eq!(
        json["entry"][entry(&json, "ServiceRequest")]["fullUrl"],
        format!("urn:uuid:{}", m.referral.id)
    );
    assert_eq!(sr["status"], "active");
    assert_eq!(sr["intent"], "order");
    assert_eq!(sr["priority"], "urgent");
    assert_eq!(
        sr["extension"][0],
        json!({"url": "urn:mhis:fhir:extension:referral-state", "valueCode": "sent"})
    );
    assert_eq!(
        sr["category"][0]["coding"][0]["system"],
        "urn:mhis:referral-kind"
    );
    assert_eq!(sr["category"][0]["coding"][0]["code"], "referral");
    assert_eq!(
        sr["code"]["coding"][0],
        json!({"system": "urn:mhis:referral-reason", "code": "tb_treatment"})
    );
    assert_eq!(sr["occurrencePeriod"]["end"], "2026-12-04");
    assert_eq!(sr["authoredOn"], "2026-11-20T14:02:07Z");
    assert_eq!(
        sr["requester"]["display"],
        "Dushanbe Migration Health Centre"
    );
    assert_eq!(
        sr["performer"][0]["identifier"],
        json!({"system": "urn:mhis:site", "value": "RU-MOW-TB-03"})
    );
    assert_eq!(sr["supportingInfo"].as_array().unwrap().len(), 6);
    assert_eq!(sr["reasonReference"].as_array().unwrap().len(), 2);
    let patient_url = &json["entry"][entry(&json, "Patient")]["fullUrl"];
    assert_eq!(&sr["subject"]["reference"], patient_url);

    let statuses = [
        (ReferralEvent::Cancel, "revoked"),
        (ReferralEvent::Close, "completed"),
        (ReferralEvent::Accept, "active"),
    ];
    for (event, status) in statuses {
        let json = to_bundle(&message(event), &vocabulary);
        let sr = &json["entry"][entry(&json, "ServiceRequest")]["resource"];
        assert_eq!(sr["status"], status, "{event}");
    }
}

#[test]
fn patient_observations_and_task_use_fhir_types() {
    let vocabulary = vocabulary();
    let m = message(ReferralEvent::ReportOutcome);
    let json = to_bundle(&m, &vocabulary);
    let patient = &json["entry"][entry(&json, "Patient")]["resource"];
    assert_eq!(patient["name"][0]["family"], "Rakhimov");
    assert_eq!(patient["name"][0]["given"], json!(["Shukhrat", "Alievich"]));
    assert_eq!(patient["gender"], "male");
    assert_eq!(patient["birthDate"], "1990-04");
    assert_eq!(patient["telecom"][0]["system"], "phone");
    assert_eq!(patient["identifier"][0]["type"]["coding"][0]["code"], "PPN");
    assert_eq!(
        patient["identifier"][0]["assigner"]["identifier"]["value"],
        "TJ"
    );
    assert_eq!(
        patient["extension"][0]["url"],
        "http://hl7.org/fhir/StructureDefinition/patient-nationality"
    );

    let observations: Vec<&Value> = entries_of(&json)
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    assert_eq!(observations[0]["valueBoolean"], json!(true));
    assert_eq!(observations[0]["status"], "final");
    assert_eq!(observations[0]["effectiveDateTime"], "2026-11-20T09:40:00Z");
    let cxr = &observations[1]["valueCodeableConcept"]["coding"];
    assert!(
        cxr.as_array()
            .unwrap()
            .iter()
            .any(|c| c["system"] == "urn:mhis:vocabulary:value" && c["code"] == "suggestive_tb")
    );
    assert_eq!(
        observations[2]["valueQuantity"],
        json!({"value": 37.8, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"})
    );
    assert_eq!(
        serde_json::to_string(&observations[3]["valueQuantity"]["value"]).unwrap(),
        "61.50"
    );

    let task = &json["entry"][1]["resource"];
    assert_eq!(task["resourceType"], "Task");
    assert_eq!(task["status"], "in-progress");
    assert_eq!(task["intent"], "order");
    assert_eq!(task["lastModified"], "2026-11-20T14:05:00Z");
    assert_eq!(
        task["businessStatus"]["coding"][0],
        json!({"system": "urn:mhis:referral-state", "code": "outcome_reported"})
    );
    assert_eq!(
        task["focus"]["reference"],
        json["entry"][entry(&json, "ServiceRequest")]["fullUrl"]
    );
    assert_eq!(
        task["output"][0]["valueCodeableConcept"]["coding"][0],
        json!({"system": "urn:mhis:referral-outcome", "code": "treatment_started"})
    );
    assert_eq!(task["output"][1]["valueDate"], "2026-11-28");
    assert_eq!(
        task["note"][0]["text"],
        "Started on HRZE, DOT at the district clinic."
    );

    let accepted = to_bundle(&message(ReferralEvent::Accept), &vocabulary);
    assert_eq!(accepted["entry"][1]["resource"]["status"], "accepted");
    assert!(accepted["entry"][1]["resource"].get("output").is_none());
}

#[test]
fn an_observation_outside_the_vocabulary_is_left_out() {
    let vocabulary = vocabulary();
    let mut m = message(ReferralEvent::Send);
    m.referral.observations.insert(
        1,
        SummaryObservation {
            code: "retired.code".into(),
            value: json!("x"),
            unit: None,
            observed_at: observed(9, 0),
        },
    );
    let json = to_bundle(&m, &vocabulary);
    let back = from_bundle(&json, &vocabulary).unwrap();
    m.referral.observations.remove(1);
    assert_eq!(back, m, "everything else travels");
}

#[test]
fn a_bundle_without_the_state_extension_takes_the_task_or_the_status() {
    let vocabulary = vocabulary();
    let m = message(ReferralEvent::Accept);
    let mut json = to_bundle(&m, &vocabulary);
    resource_mut(&mut json, "ServiceRequest")
        .as_object_mut()
        .unwrap()
        .remove("extension");
    assert_eq!(
        from_bundle(&json, &vocabulary).unwrap().referral.state,
        ReferralState::Accepted,
        "from Task.businessStatus"
    );

    let m = message(ReferralEvent::Cancel);
    let mut json = to_bundle(&m, &vocabulary);
    resource_mut(&mut json, "ServiceRequest")
        .as_object_mut()
        .unwrap()
        .remove("extension");
    assert_eq!(
        from_bundle(&json, &vocabulary).unwrap().referral.state,
        ReferralState::Cancelled,
        "from the status revoked"
    );
}

#[test]
fn a_missing_reason_is_named() {
    let mut json = to_bundle(&message(ReferralEvent::Send), &vocabulary());
    resource_mut(&mut json, "ServiceRequest")
        .as_object_mut()
        .unwrap()
        .remove("code");
    let e = refused(&json);
    assert!(e.names("ServiceRequest.code"), "{e}");
    assert_eq!(e.issues()[0].kind, IssueKind::Required);
}

#[test]
fn a_bundle_that_is_not_a_message_is_refused() {
    let mut json = to_bundle(&message(ReferralEvent::Send), &vocabulary());
    json["type"] = json!("collection");
    let e = refused(&json);
    assert!(e.names("Bundle.type"), "{e}");

    let e = refused(&json!({"resourceType": "Patient"}));
    assert!(e.names("Bundle.resourceType"), "{e}");
}

#[test]
fn unknown_and_unsent_events_are_refused() {
    let mut json = to_bundle(&message(ReferralEvent::Send), &vocabulary());
    json["entry"][0]["resource"]["eventCoding"]["code"] = json!("referral-forward");
    let e = refused(&json);
    assert!(e.names("MessageHeader.eventCoding.code"), "{e}");
    assert_eq!(e.issues()[0].kind, IssueKind::CodeInvalid);
    assert!(e.to_string().contains("referral-report_outcome"), "{e}");

    json["entry"][0]["resource"]["eventCoding"]["code"] = json!("referral-receive");
    let e = refused(&json);
    assert!(e.names("MessageHeader.eventCoding.code"), "{e}");

    json["entry"][0]["resource"]["eventCoding"]["code"] = json!("referral-send");
    json["entry"][0]["resource"]["eventCoding"]["system"] = json!("http://example.org/events");
    let e = refused(&json);
    assert!(e.names("MessageHeader.eventCoding.system"), "{e}");
}

#[test]
fn an_outcome_report_needs_the_outcome() {
    let mut json = to_bundle(&message(ReferralEvent::ReportOutcome), &vocabulary());
    resource_mut(&mut json, "Task")
        .as_object_mut()
        .unwrap()
        .remove("output");
    let e = refused(&json);
    assert!(e.names("Task.output"), "{e}");

    // An accept carries no outcome: no output is fine.
    let json = to_bundle(&message(ReferralEvent::Accept), &vocabulary());
    assert!(from_bundle(&json, &vocabulary()).is_ok());
}

#[test]
fn bad_codes_and_ids_are_named() {
    let vocabulary = vocabulary();
    let base = to_bundle(&message(ReferralEvent::ReportOutcome), &vocabulary);

    let mut json = base.clone();
    json["id"] = json!("message-1");
    assert!(refused(&json).names("Bundle.id"));

    let mut json = base.clone();
    resource_mut(&mut json, "ServiceRequest")["extension"][0]["valueCode"] = json!("lost");
    let e = refused(&json);
    assert!(
        e.names("ServiceRequest.extension('urn:mhis:fhir:extension:referral-state').valueCode"),
        "{e}"
    );

    let mut json = base.clone();
    resource_mut(&mut json, "ServiceRequest")["category"][0]["coding"][0]["code"] = json!("letter");
    assert!(refused(&json).names("ServiceRequest.category.coding.code"));

    let mut json = base.clone();
    resource_mut(&mut json, "ServiceRequest")["priority"] = json!("whenever");
    assert!(refused(&json).names("ServiceRequest.priority"));

    let mut json = base.clone();
    resource_mut(&mut json, "Task")["output"][0]["valueCodeableConcept"]["coding"][0]["code"] =
        json!("cured");
    let e = refused(&json);
    assert!(
        e.names("Task.output[0].valueCodeableConcept.coding.code"),
        "{e}"
    );

    // Several problems at once, each named.
    let mut json = base.clone();
    let sr = resource_mut(&mut json, "ServiceRequest")
        .as_object_mut()
        .unwrap();
    sr.remove("authoredOn");
    sr.remove("occurrencePeriod");
    sr.remove("requester");
    let e = refused(&json);
    for path in [
        "ServiceRequest.authoredOn",
        "ServiceRequest.occurrencePeriod.end",
        "ServiceRequest.requester.display",
    ] {
        assert!(e.names(path), "{path}: {e}");
    }

    let mut json = base.clone();
    resource_mut(&mut json, "Patient")
        .as_object_mut()
        .unwrap()
        .remove("birthDate");
    assert!(refused(&json).names("Patient.birthDate"));
}
