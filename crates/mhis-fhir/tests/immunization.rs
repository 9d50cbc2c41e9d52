//! Vaccination ⇄ `Immunization`: HL7's R4 examples are read or refused
//! naming the element, and what mhis stores survives the round trip.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::example_files;
use mhis_domain::ids::{AssessmentId, MigrantId, SiteId};
use mhis_domain::vaccination::{
    NewVaccination, Vaccination, VaccinationId, VaccinationStatus, VaccineCatalogue,
};
use mhis_fhir::immunization::{from_vaccination, read};
use mhis_fhir::model::resources::{Immunization, Resource};

fn example(name: &str) -> Immunization {
    let (_, json) = example_files()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} missing"));
    match serde_json::from_value(json).unwrap() {
        Resource::Immunization(i) => *i,
        other => panic!("{name} is not an Immunization: {other:?}"),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

#[test]
fn a_cvx_coded_hl7_example_is_read_and_kept() {
    let catalogue = VaccineCatalogue::built_in();
    let i = example("immunization-example-refused.json");
    let parts = read(&i, catalogue).unwrap();
    assert_eq!(parts.input.vaccine, "dtp");
    assert_eq!(parts.input.status, "not-done");
    assert_eq!(parts.input.date, "2013-01-10");
    let new = NewVaccination::parse(
        &parts.input,
        MigrantId::new(),
        Some(AssessmentId::new()),
        SiteId::new(),
        catalogue,
        today(),
    )
    .unwrap();
    let stored = Vaccination {
        id: VaccinationId::new(),
        content: new.clone(),
        recorded_by: "clinician".into(),
        version: 1,
        recorded_at: Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
        updated_at: Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
    };
    let back = from_vaccination(&stored, catalogue);
    let json = serde_json::to_value(&back).unwrap();
    assert_eq!(json["status"], "not-done");
    assert_eq!(
        json["vaccineCode"]["coding"][0]["system"],
        "http://hl7.org/fhir/sid/cvx"
    );
    assert_eq!(json["vaccineCode"]["coding"][0]["code"], "01");
    assert_eq!(json["occurrenceDateTime"], "2013-01-10");
    assert_eq!(
        json["patient"]["reference"],
        format!("Patient/{}", new.migrant_id)
    );
    // Read back, everything mhis stores is the same.
    let again = read(&back, catalogue).unwrap();
    let reparsed = NewVaccination::parse(
        &again.input,
        new.migrant_id,
        new.assessment_id,
        new.site_id,
        catalogue,
        today(),
    )
    .unwrap();
    assert_eq!(reparsed, new);
    assert_eq!(again.version, Some(1));
}

#[test]
fn lot_and_dose_survive_the_round_trip() {
    let catalogue = VaccineCatalogue::built_in();
    let new = NewVaccination {
        migrant_id: MigrantId::new(),
        assessment_id: None,
        site_id: SiteId::new(),
        vaccine: "mmr".into(),
        date: NaiveDate::from_ymd_opt(2025, 5, 2).unwrap(),
        status: VaccinationStatus::Completed,
        lot_number: Some("MMR-778".into()),
        dose_number: Some(2),
    };
    let stored = Vaccination {
        id: VaccinationId::new(),
        content: new.clone(),
        recorded_by: "clinician".into(),
        version: 3,
        recorded_at: Utc.with_ymd_and_hms(2025, 5, 2, 9, 0, 0).unwrap(),
        updated_at: Utc.with_ymd_and_hms(2025, 5, 3, 9, 0, 0).unwrap(),
    };
    let i = from_vaccination(&stored, catalogue);
    // The model's own JSON round trip, then mhis's.
    let i: Immunization = serde_json::from_value(serde_json::to_value(&i).unwrap()).unwrap();
    let parts = read(&i, catalogue).unwrap();
    assert_eq!(parts.version, Some(3));
    let back = NewVaccination::parse(
        &parts.input,
        new.migrant_id,
        None,
        new.site_id,
        catalogue,
        today(),
    )
    .unwrap();
    assert_eq!(back, new);
}

#[test]
fn examples_mhis_cannot_keep_are_refused_naming_the_element() {
    let catalogue = VaccineCatalogue::built_in();
    for (name, element) in [
        // An Australian vaccine code, not CVX.
        ("immunization-example.json", "Immunization.vaccineCode"),
        // "January 2012": not a day.
        (
            "immunization-example-historical.json",
            "Immunization.occurrenceString",
        ),
        // Two series for one dose of a combined vaccine.
        (
            "immunization-example-protocol.json",
            "Immunization.protocolApplied",
        ),
    ] {
        let e = read(&example(name), catalogue).unwrap_err();
        assert!(e.names(element), "{name}: {e}");
    }
}

#[test]
fn a_missing_vaccine_and_date_are_both_named() {
    let i: Immunization = serde_json::from_value(serde_json::json!({
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"text": "something"},
        "patient": {"reference": "Patient/x"}
    }))
    .unwrap();
    let e = read(&i, VaccineCatalogue::built_in()).unwrap_err();
    assert!(e.names("Immunization.vaccineCode"), "{e}");
    assert!(e.names("Immunization.occurrenceDateTime"), "{e}");
}
