//! `mhis classify` as a user runs it: the real binary, a case file, the
//! printed decision and the exit status (protocols.md §7).

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn classify(protocol: &str, case: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(case.as_bytes()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mhis"))
        .args(["classify", "--protocol", protocol])
        .args(extra)
        .arg(file.path())
        .env("MHIS_LOG", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (
        out.status.code().unwrap(),
        serde_json::from_str(&stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const CLEARED: &str = r#"{"assessment_date": "2026-03-15", "birth_date": "1990-06-01", "sex": "male",
 "context": {"tb_incidence_per_100k": 85},
 "observations": {"tb.symptoms": false, "tb.contact": false, "tb.previous": "none",
                  "hiv.known_positive": false, "cxr": "normal"}}"#;

#[test]
fn prints_the_contract_json_for_the_example_of_the_contract() {
    let (code, decision, _) = classify("us-cdc-ti-tb", CLEARED, &[]);
    assert_eq!(code, 0);
    assert_eq!(decision["protocol"], "us-cdc-ti-tb");
    assert_eq!(decision["outcome"], "cleared");
    assert_eq!(decision["classes"], json!({"tb": "none"}));
    assert_eq!(decision["due"], json!([]));
    assert_eq!(decision["referrals"], json!([]));
    assert_eq!(decision["certificate_valid_until"], Value::Null);
    let reasons = decision["reasons"].as_array().unwrap();
    assert!(!reasons.is_empty());
    assert!(
        reasons
            .iter()
            .all(|r| r["rule"].is_string() && r["source"].is_string())
    );
}

#[test]
fn reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mhis"))
        .args(["classify", "--protocol", "us-cdc-ti-tb", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(CLEARED.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let decision: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["outcome"], "cleared");
}

#[test]
fn unknown_protocol_code_or_value_exits_2_naming_it() {
    let (code, _, err) = classify("fr-tb", CLEARED, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("fr-tb"), "{err}");
    let (code, _, err) = classify(
        "us-cdc-ti-tb",
        &CLEARED.replace("tb.contact", "tb.kontakt"),
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("tb.kontakt"), "{err}");
    let (code, _, err) = classify(
        "us-cdc-ti-tb",
        &CLEARED.replace("\"normal\"", "\"cloudy\""),
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("cxr") && err.contains("cloudy"), "{err}");
    let (code, _, _) = classify("us-cdc-ti-tb", "{not json", &[]);
    assert_eq!(code, 2);
}

#[test]
fn a_broken_protocol_folder_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "kind = \"protocol\"\nid = \"x\"\nversion = \"1\"\ndestination = \"RU\"\ntitle = \"x\"\n[[rule]]\nid = \"r\"\nwhen = \"cxr = purple\"\noutcome = \"cleared\"\nsource = \"s\"\n",
    )
    .unwrap();
    let (code, _, err) = classify("x", CLEARED, &["--protocols", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("broken.toml") && err.contains("line"), "{err}");
}
