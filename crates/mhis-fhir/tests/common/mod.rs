//! Shared test support: HL7's R4 examples and domain fixtures.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use mhis_domain::assessment::{Assessment, AssessmentStatus, ProtocolId, Purpose};
use mhis_domain::country::CountryCode;
use mhis_domain::ids::{AssessmentId, MigrantId, SiteId};
use mhis_domain::migrant::{Migrant, MigrantInput, NewMigrant};
use mhis_domain::site::{Site, SiteCode, SiteKind};
use serde_json::Value;
use std::path::PathBuf;

/// HL7's examples, beside the repository (never copied into it).
pub const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/fhir-r4"
);

/// Every example file: (file name, JSON).
pub fn example_files() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(EXAMPLES)
        .unwrap_or_else(|e| panic!("{EXAMPLES}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {EXAMPLES}");
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let json: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), json)
        })
        .collect()
}

/// Every resource of the examples: top-level ones and the entries of
/// Bundles, as (where, JSON).
pub fn example_resources() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, json) in example_files() {
        if json["resourceType"] == "Bundle" {
            for (i, e) in json["entry"].as_array().into_iter().flatten().enumerate() {
                if e.get("resource").is_some() {
                    out.push((format!("{name} entry[{i}]"), e["resource"].clone()));
                }
            }
        }
        out.push((name, json));
    }
    out
}

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

pub fn site() -> Site {
    Site {
        id: SiteId::new(),
        code: SiteCode::parse("code", "TJ-DYU-01").unwrap(),
        kind: SiteKind::AssessmentCentre,
        country: CountryCode::parse("country", "TJ").unwrap(),
        name: "Dushanbe Migration Health Centre".into(),
    }
}

pub fn migrant(site: &Site) -> Migrant {
    let input = MigrantInput {
        family_name: "Рахимов".into(),
        given_names: "Шухрат Алиевич".into(),
        sex: "male".into(),
        birth_date: "1990-06".into(),
        nationality: "TJ".into(),
        document: Some(mhis_domain::migrant::DocumentInput {
            kind: "passport".into(),
            number: "400123456".into(),
            issuing_country: "TJ".into(),
        }),
        phone: Some("+992931234567".into()),
        preferred_language: Some("tg".into()),
        ..Default::default()
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap();
    Migrant {
        id: MigrantId::new(),
        registration_number: "TJ-DYU-01-000042".into(),
        registered_at: site.id,
        details: NewMigrant::parse(&input, today()).unwrap().into(),
        version: 3,
        created_at: at,
        updated_at: at,
    }
}

pub fn assessment(site: &Site, migrant: &Migrant, status: AssessmentStatus) -> Assessment {
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
    let finalised = status == AssessmentStatus::Finalised;
    Assessment {
        id: AssessmentId::new(),
        migrant_id: migrant.id,
        site_id: site.id,
        purpose: Purpose::Labour,
        destination: CountryCode::parse("c", "RU").unwrap(),
        protocol: ProtocolId::from_stored("ru-labour".into()),
        status,
        assessment_date: at.date_naive(),
        opened_at: at,
        finalised_at: finalised.then_some(at + chrono::Duration::hours(3)),
        final_outcome: finalised.then(|| "cleared".to_owned()),
        engine_outcome: finalised.then(|| "cleared".to_owned()),
        final_reason: None,
        finalised_by: finalised.then(|| "dr.karimova".to_owned()),
        updated_at: at,
    }
}
