//! HL7's own R4 examples: every example of every resource type mhis
//! supports parses with the model, and what mhis stores of a Patient or an
//! Observation survives the trip into mhis and back.

mod common;

use common::{example_resources, today};
use mhis_domain::vocabulary::Vocabulary;
use mhis_fhir::model::resources::{Observation, Patient, Resource};
use mhis_fhir::{observation, patient};
use std::collections::BTreeMap;

const SUPPORTED: [&str; 13] = [
    "Patient",
    "Encounter",
    "Observation",
    "DiagnosticReport",
    "Condition",
    "Immunization",
    "Organization",
    "Location",
    "ServiceRequest",
    "Task",
    "MessageHeader",
    "Bundle",
    "OperationOutcome",
];

#[test]
fn every_example_of_a_supported_type_parses() {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (name, json) in example_resources() {
        let ty = json["resourceType"].as_str().unwrap_or_default().to_owned();
        let Some(ty) = SUPPORTED.iter().find(|s| **s == ty) else {
            continue;
        };
        match serde_json::from_value::<Resource>(json.clone()) {
            Ok(_) => *counts.entry(ty).or_default() += 1,
            Err(e) => failures.push(format!("{name} ({ty}): {e}")),
        }
    }
    for (ty, n) in &counts {
        println!("parsed {n:3} {ty}");
    }
    assert!(
        failures.is_empty(),
        "{} examples do not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for ty in SUPPORTED {
        assert!(
            counts.get(ty).copied().unwrap_or(0) > 0,
            "no example of {ty}"
        );
    }
}

/// The elements mhis may require of a Patient; an example that lacks one is
/// refused with its path.
fn required_path(path: &str) -> bool {
    path.starts_with("Patient.name")
        || path == "Patient.gender"
        || path == "Patient.birthDate"
        || path.starts_with(patient::NATIONALITY_PATH)
        || path.starts_with("Patient.identifier[")
}

fn with_nationality(p: &Patient) -> Patient {
    let mut p = p.clone();
    if !p
        .extension
        .iter()
        .any(|e| e.url.0 == mhis_fhir::uri::PATIENT_NATIONALITY)
    {
        let ext = serde_json::from_value(serde_json::json!({
            "url": mhis_fhir::uri::PATIENT_NATIONALITY,
            "extension": [{"url": "code", "valueCodeableConcept": {
                "coding": [{"system": "urn:iso:std:iso:3166", "code": "NL"}]}}]
        }))
        .unwrap();
        p.extension.push(ext);
    }
    p
}

#[test]
fn patient_examples_import_or_name_what_is_missing_and_round_trip() {
    let site = common::site();
    let (mut imported, mut refused) = (0, 0);
    for (name, json) in example_resources() {
        if json["resourceType"] != "Patient" {
            continue;
        }
        let Resource::Patient(p) = serde_json::from_value::<Resource>(json.clone()).unwrap() else {
            unreachable!()
        };
        // As published: none of HL7's examples states a nationality.
        if let Err(e) = patient::to_migrant_details(&p, today()) {
            for issue in e.issues() {
                assert!(required_path(&issue.path), "{name}: unexpected {issue}");
            }
        }
        // With a nationality, as a sending country would add.
        let p = with_nationality(&p);
        let details = match patient::to_migrant_details(&p, today()) {
            Ok(d) => d,
            Err(e) => {
                for issue in e.issues() {
                    assert!(required_path(&issue.path), "{name}: unexpected {issue}");
                }
                println!("refused {name}: {e}");
                refused += 1;
                continue;
            }
        };
        imported += 1;
        // What mhis keeps is what the example says.
        let written = p
            .name
            .iter()
            .find(|n| details.family_name == n.family.as_ref().map_or("", |f| f.0.as_str()))
            .unwrap_or_else(|| panic!("{name}: family name not taken from a name"));
        let given: Vec<&str> = written.given.values().map(|g| g.0.as_str()).collect();
        assert_eq!(details.given_names, given.join(" "), "{name}");
        assert_eq!(
            details.birth_date.to_string(),
            p.birth_date.as_ref().unwrap().0,
            "{name}"
        );
        let gender = serde_json::to_value(p.gender.as_ref().unwrap()).unwrap();
        assert_eq!(gender, details.sex.as_str(), "{name}");

        // And it comes back unchanged from a Patient mhis writes.
        let migrant = mhis_domain::migrant::Migrant {
            details: details.clone(),
            ..common::migrant(&site)
        };
        let back = patient::from_migrant(&migrant);
        let json = serde_json::to_value(Resource::Patient(Box::new(back.clone()))).unwrap();
        let Resource::Patient(reread) = serde_json::from_value(json).unwrap() else {
            unreachable!()
        };
        assert_eq!(*reread, back, "{name}: JSON round trip");
        let again = patient::to_migrant_details(&reread, today()).unwrap();
        assert_eq!(again, details, "{name}: mhis → FHIR → mhis");
        assert_eq!(patient::version(&reread).unwrap(), Some(3));
    }
    println!(
        "Patient examples: {imported} imported, {refused} refused with the missing element named"
    );
    assert!(imported >= 5, "only {imported} Patient examples imported");
}

#[test]
fn observation_examples_coded_in_the_vocabulary_import() {
    let vocabulary = Vocabulary::built_in();
    let now = chrono::Utc::now();
    let (mut known, mut other, mut imported) = (0, 0, 0);
    for (name, json) in example_resources() {
        if json["resourceType"] != "Observation" {
            continue;
        }
        let Resource::Observation(o) = serde_json::from_value::<Resource>(json.clone()).unwrap()
        else {
            unreachable!()
        };
        let o: Observation = *o;
        match observation::find_code(&o.code, &vocabulary) {
            Err(_) => other += 1,
            Ok(def) => {
                known += 1;
                match observation::to_new_observation(&o, &vocabulary, now) {
                    Ok(new) => {
                        imported += 1;
                        assert_eq!(new.code, def.code);
                        println!("{name}: {} = {:?} {:?}", new.code, new.value, new.unit);
                    }
                    // mhis converts no units (a height in inches is refused,
                    // naming the unit), checks ranges, and takes no
                    // entered-in-error result.
                    Err(e) => {
                        let p = e.path();
                        assert!(
                            p.starts_with("Observation.value") || p == "Observation.status",
                            "{name}: {e}"
                        );
                        println!("{name}: refused: {e}");
                    }
                }
            }
        }
    }
    println!(
        "Observation examples: {known} coded in the vocabulary ({imported} imported), {other} not"
    );
    assert!(
        known >= 5 && imported >= 1,
        "expected the vital-signs examples to be read"
    );
}
