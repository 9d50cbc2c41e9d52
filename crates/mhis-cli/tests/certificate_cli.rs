//! A certificate's whole life through the real binary and the real server:
//! a site key, a finalised assessment, issuing over the API, the trust list
//! and revocation list, and `mhis verify` on the QR image — valid, and
//! failing as it should when tampered with, expired, revoked, signed by an
//! unknown key, or checked against a stale trust list.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

struct Deployment {
    dir: tempfile::TempDir,
    url: String,
}

impl Deployment {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("mhis.db").display());
        Self { dir, url }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mhis"));
        c.args(args)
            .env("MHIS_DATABASE_URL", &self.url)
            .env("MHIS_KEY_ENCRYPTION_KEY_FILE", self.path("kek"))
            .env("MHIS_PASSWORD", "a long enough password")
            .env("MHIS_LOG", "off");
        c
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "mhis {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn serve(&self) -> (Child, String) {
        let mut child = self
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_owned();
        (child, base)
    }
}

fn verify(d: &Deployment, input: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["verify", "--trust-list"];
    let trust = d.path("trust.cbor");
    let anchor = d.path("anchor.pub.pem");
    args.push(trust.to_str().unwrap());
    args.extend(["--anchor", anchor.to_str().unwrap()]);
    args.extend(extra);
    args.push(input.to_str().unwrap());
    let out: Output = d.command(&args).output().unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

#[test]
fn a_certificate_from_a_finalised_assessment_verifies_offline_and_fails_when_it_should() {
    let d = Deployment::new();
    let site_line = d.run(&[
        "site",
        "add",
        "--code",
        "TJ-DYU-01",
        "--kind",
        "assessment_centre",
        "--country",
        "TJ",
        "--name",
        "Dushanbe centre",
    ]);
    let site_id = site_line.split('\t').next().unwrap().to_owned();
    d.run(&[
        "user",
        "add",
        "--name",
        "dr-karimova",
        "--role",
        "clinician",
        "--site",
        "TJ-DYU-01",
    ]);
    let token = d
        .run(&["token", "create", "--user", "dr-karimova"])
        .trim()
        .to_owned();
    let key_line = d.run(&["keys", "new", "--site", "TJ-DYU-01", "--days", "365"]);
    assert!(key_line.contains("created key"), "{key_line}");
    assert!(d.path("kek").exists());

    let (mut server, base) = d.serve();
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: Value| -> (u16, Value) {
        let r = http
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    };
    let (status, m) = post(
        "/api/v1/migrants",
        json!({"site_id": site_id,
        "family_name": "Каримова", "given_names": "Нигина", "sex": "female",
        "birth_date": "1994-02-11", "nationality": "TJ", "preferred_language": "ru"}),
    );
    assert_eq!(status, 201, "{m}");
    let m = m["migrant"]["id"].as_str().unwrap().to_owned();
    let (_, a) = post(
        "/api/v1/assessments",
        json!({"migrant_id": m, "site_id": site_id,
        "purpose": "labour", "destination": "RU", "protocol": "ru-labour"}),
    );
    let a = a["id"].as_str().unwrap().to_owned();

    // Not finalised: a clear refusal.
    let (status, err) = post(&format!("/api/v1/assessments/{a}/certificates"), json!({}));
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["field"], "status");

    let (status, _) = post(
        &format!("/api/v1/assessments/{a}/observations"),
        json!({"observations": [
        {"code": "hiv.a1", "value": "non_reactive"}, {"code": "syphilis.screen", "value": "non_reactive"},
        {"code": "cxr", "value": "normal"}, {"code": "leprosy.exam", "value": "no_signs"},
        {"code": "narcology.drug_test", "value": "negative"}]}),
    );
    assert_eq!(status, 201);
    let (status, f) = post(
        &format!("/api/v1/assessments/{a}/finalise"),
        json!({"outcome": "cleared"}),
    );
    assert_eq!(status, 200, "{f}");
    let (status, cert) = post(&format!("/api/v1/assessments/{a}/certificates"), json!({}));
    assert_eq!(status, 201, "{cert}");
    let id = cert["id"].as_str().unwrap().to_owned();
    assert!(cert["qr_text"].as_str().unwrap().starts_with("MHC1:"));
    // ru-labour: valid for 3 months from the assessment date.
    let today = chrono::Utc::now().date_naive();
    let expected = today.checked_add_months(chrono::Months::new(3)).unwrap();
    assert_eq!(cert["valid_until"], expected.format("%Y-%m-%d").to_string());
    // Minimal claims: no diagnoses or results on the certificate.
    let claims = cert["payload"].to_string();
    for word in ["cxr", "hiv", "syphilis", "negative", "non_reactive"] {
        assert!(!claims.contains(word), "{word} in {claims}");
    }

    let png = http
        .get(format!("{base}/api/v1/certificates/{id}/qr.png"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    std::fs::write(d.path("cert.png"), &png).unwrap();
    let get = |path: &str| {
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        (kind, r.bytes().unwrap())
    };
    let (kind, pdf) = get(&format!("/api/v1/certificates/{id}/certificate.pdf"));
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let (kind, svg) = get(&format!("/api/v1/certificates/{id}/qr.svg"));
    assert_eq!(kind, "image/svg+xml");
    assert!(String::from_utf8_lossy(&svg).contains("viewBox"));
    std::fs::write(d.path("cert.txt"), cert["qr_text"].as_str().unwrap()).unwrap();

    // Trust: an anchor, a signed list of the site keys.
    let anchor = d.path("anchor.pem");
    let anchor_pub = d.path("anchor.pub.pem");
    d.run(&[
        "trust",
        "anchor-new",
        "--out",
        anchor.to_str().unwrap(),
        "--public-out",
        anchor_pub.to_str().unwrap(),
    ]);
    let trust = d.path("trust.cbor");
    d.run(&[
        "trust",
        "export",
        "--anchor-key",
        anchor.to_str().unwrap(),
        "--issuer",
        "TJ",
        "--out",
        trust.to_str().unwrap(),
    ]);

    // Valid, from the PNG and from the text.
    let (code, v) = verify(&d, &d.path("cert.png"), &[]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("valid")), "{v}");
    assert_eq!(v["payload"]["ci"], id.as_str());
    assert_eq!(verify(&d, &d.path("cert.txt"), &[]).0, 0);

    // Tampered: one character of the Base45 changed.
    let text = cert["qr_text"].as_str().unwrap();
    let i = text.len() / 2;
    let swapped = if &text[i..=i] == "A" { "B" } else { "A" };
    std::fs::write(
        d.path("tampered.txt"),
        format!("{}{swapped}{}", &text[..i], &text[i + 1..]),
    )
    .unwrap();
    let (code, v) = verify(&d, &d.path("tampered.txt"), &[]);
    assert_eq!(code, 1);
    assert!(
        ["malformed", "bad_signature"].contains(&v["verdict"].as_str().unwrap()),
        "{v}"
    );

    // Expired: checked after its last valid day (trust list age allowed).
    let after = format!("{}T12:00:00Z", expected + chrono::Duration::days(1));
    let (code, v) = verify(
        &d,
        &d.path("cert.png"),
        &["--at", &after, "--max-age-hours", "10000"],
    );
    assert_eq!((code, v["verdict"].as_str()), (1, Some("expired")), "{v}");

    // Stale trust list: the same check a week later without the allowance.
    let week = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (code, v) = verify(&d, &d.path("cert.png"), &["--at", &week]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (1, Some("trust_list_stale")),
        "{v}"
    );

    // Unknown key: a list exported before this site's key existed.
    let other = Deployment::new();
    other.run(&[
        "site",
        "add",
        "--code",
        "UZ-TAS-01",
        "--kind",
        "assessment_centre",
        "--country",
        "UZ",
        "--name",
        "Tashkent centre",
    ]);
    other.run(&["keys", "new", "--site", "UZ-TAS-01"]);
    let foreign = d.path("foreign.cbor");
    other.run(&[
        "trust",
        "export",
        "--anchor-key",
        anchor.to_str().unwrap(),
        "--issuer",
        "UZ",
        "--out",
        foreign.to_str().unwrap(),
    ]);
    let out = d
        .command(&[
            "verify",
            "--trust-list",
            foreign.to_str().unwrap(),
            "--anchor",
            anchor_pub.to_str().unwrap(),
            d.path("cert.png").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), v["verdict"].as_str()),
        (Some(1), Some("unknown_key")),
        "{v}"
    );

    // Revoked: revoke, export the list, verify against it.
    let out = d
        .command(&["revoke", &id, "--reason", "issued in error"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let again = d
        .command(&["revoke", &id, "--reason", "again"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "revoking twice is refused");
    let revocations = d.path("revoked.cbor");
    d.run(&[
        "revocations",
        "export",
        "--anchor-key",
        anchor.to_str().unwrap(),
        "--issuer",
        "TJ",
        "--out",
        revocations.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&revocations).unwrap();
    assert!(
        !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
        "ids never leave in clear"
    );
    let (code, v) = verify(
        &d,
        &d.path("cert.png"),
        &["--revocations", revocations.to_str().unwrap()],
    );
    assert_eq!((code, v["verdict"].as_str()), (1, Some("revoked")), "{v}");

    // The signing key is sealed in the database, never in clear.
    let audit = d.run(&["audit", "verify"]);
    assert!(audit.starts_with("audit trail intact"), "{audit}");
    server.kill().unwrap();
    let _ = server.wait();
}

#[test]
fn a_certificate_is_refused_for_an_outcome_that_is_not_cleared_and_without_a_key() {
    let d = Deployment::new();
    let site_line = d.run(&[
        "site",
        "add",
        "--code",
        "KG-BIS-01",
        "--kind",
        "assessment_centre",
        "--country",
        "KG",
        "--name",
        "Bishkek centre",
    ]);
    let site_id = site_line.split('\t').next().unwrap().to_owned();
    d.run(&[
        "user",
        "add",
        "--name",
        "dr-asanov",
        "--role",
        "clinician",
        "--site",
        "KG-BIS-01",
    ]);
    let token = d
        .run(&["token", "create", "--user", "dr-asanov"])
        .trim()
        .to_owned();
    let (mut server, base) = d.serve();
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: Value| -> (u16, Value) {
        let r = http
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    };
    let (_, m) = post(
        "/api/v1/migrants",
        json!({"site_id": site_id, "family_name": "Асанов",
        "given_names": "Бакыт", "sex": "male", "birth_date": "1988", "nationality": "KG"}),
    );
    let m = m["migrant"]["id"].as_str().unwrap().to_owned();
    let open = || {
        let (_, a) = post(
            "/api/v1/assessments",
            json!({"migrant_id": m, "site_id": site_id,
            "purpose": "labour", "destination": "RU", "protocol": "ru-labour"}),
        );
        a["id"].as_str().unwrap().to_owned()
    };
    let a = open();
    post(
        &format!("/api/v1/assessments/{a}/observations"),
        json!({"observations": [
        {"code": "hiv.a1", "value": "non_reactive"}, {"code": "syphilis.screen", "value": "non_reactive"},
        {"code": "cxr", "value": "normal"}, {"code": "leprosy.exam", "value": "no_signs"},
        {"code": "narcology.drug_test", "value": "positive"}]}),
    );
    let (status, f) = post(
        &format!("/api/v1/assessments/{a}/finalise"),
        json!({"outcome": "not_cleared"}),
    );
    assert_eq!(status, 200, "{f}");
    let (status, err) = post(&format!("/api/v1/assessments/{a}/certificates"), json!({}));
    assert_eq!(status, 409);
    assert_eq!(err["field"], "final_outcome");
    assert!(err["message"].as_str().unwrap().contains("not_cleared"));

    // Cleared, but the site has no signing key yet.
    let b = open();
    post(
        &format!("/api/v1/assessments/{b}/observations"),
        json!({"observations": [
        {"code": "hiv.a1", "value": "non_reactive"}, {"code": "syphilis.screen", "value": "non_reactive"},
        {"code": "cxr", "value": "normal"}, {"code": "leprosy.exam", "value": "no_signs"},
        {"code": "narcology.drug_test", "value": "negative"}]}),
    );
    post(
        &format!("/api/v1/assessments/{b}/finalise"),
        json!({"outcome": "cleared"}),
    );
    let (status, err) = post(&format!("/api/v1/assessments/{b}/certificates"), json!({}));
    assert_eq!(status, 409);
    assert_eq!(err["field"], "key");
    server.kill().unwrap();
    let _ = server.wait();
}
