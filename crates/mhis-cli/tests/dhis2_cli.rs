//! `mhis export dhis2` as a user runs it: the real binary over a fresh
//! database of demo data, the example mapping, the written payloads, and
//! the refusal that names every unmapped item.

use chrono::{Datelike, Days, Utc};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn mapping_example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../indicators/dhis2-mapping.example.toml")
        .display()
        .to_string()
}

/// A period the demo data fills: the year holding the middle of its 180
/// days.
fn year() -> String {
    (Utc::now().date_naive() - Days::new(90)).year().to_string()
}

fn export(mapping: &str, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mhis"))
        .args([
            "export",
            "dhis2",
            "--demo",
            "60",
            "--period",
            &year(),
            "--mapping",
            mapping,
        ])
        .args(extra)
        .env("MHIS_LOG", "off")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn exports_data_value_sets_and_adx_through_a_checked_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("values.json");
    let (code, _, err) = export(&mapping_example(), &["--out", json_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let set: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let values = set["dataValues"].as_array().unwrap();
    assert!(!values.is_empty(), "{set}");
    let mapping = std::fs::read_to_string(mapping_example()).unwrap();
    for v in values {
        // Exactly the documented fields of a DHIS2 data value.
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "categoryOptionCombo",
                "dataElement",
                "orgUnit",
                "period",
                "value"
            ]
        );
        assert_eq!(v["period"], year().as_str());
        for id in ["dataElement", "orgUnit", "categoryOptionCombo"] {
            let id = v[id].as_str().unwrap();
            assert!(
                mapping.contains(&format!("\"{id}\"")),
                "{id} comes from the mapping"
            );
        }
        let value: f64 = v["value"].as_str().unwrap().parse().unwrap();
        assert!(value >= 0.0);
        // Counts are whole; small counts are withheld, never exported.
        if v["dataElement"] == "DeAssessed1" {
            assert!(value >= 5.0 && value.fract() == 0.0, "{v}");
        }
    }

    let adx_path = dir.path().join("values.xml");
    let (code, _, err) = export(
        &mapping_example(),
        &["--format", "adx", "--out", adx_path.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let adx = std::fs::read_to_string(&adx_path).unwrap();
    assert!(adx.contains(r#"xmlns="urn:ihe:qrph:adx:2015""#), "{adx}");
    assert!(
        adx.contains(&format!(r#"period="{}-01-01/P1Y""#, year())),
        "{adx}"
    );
    assert!(adx.contains(r#"dataSet="MhisDSet001""#));

    let (code, out, err) = export(&mapping_example(), &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("mapping valid for {}", year())),
        "{out}"
    );
}

#[test]
fn an_incomplete_mapping_is_refused_naming_each_item() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(mapping_example())
        .unwrap()
        .replace("\"TJ-DYU-01\" = \"OuTjDyu0001\"\n", "")
        .replace("male = \"CocMale0001\"\n", "")
        .replace(
            "indicator = \"hiv_positivity\"",
            "indicator = \"hiv_positive_rate\"",
        );
    let path = dir.path().join("mapping.toml");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("never.json");
    let (code, _, err) = export(path.to_str().unwrap(), &["--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("site 'TJ-DYU-01' has data but no org unit"),
        "{err}"
    );
    assert!(
        err.contains("'male' has data but no category option combo"),
        "{err}"
    );
    assert!(
        err.contains("no indicator is named 'hiv_positive_rate'"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "nothing is written when the mapping is incomplete"
    );

    let (code, _, err) = export(&mapping_example(), &["--format", "xml"]);
    assert_eq!(code, 2);
    assert!(err.contains("--format"), "{err}");
}
