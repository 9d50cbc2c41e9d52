//! `mhis verify` end to end: runs the built binary on EU DCC test data and
//! on certificates issued here with mhis-cert, with a pinned clock, and
//! checks the JSON verdict and the exit status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mhis_cert::hcert::{self, Kind, base45_decode, base45_encode, deflate, inflate};
use mhis_cert::{
    HealthClearance, Issuer, MhcPayload, Outcome, PersonName, RevocationList, SigningKey,
    TrustList, TrustedKey, qr_png,
};
use serde_json::Value;
use tempfile::TempDir;

/// 2026-05-28T20:26:40Z.
const NOW: i64 = 1_780_000_000;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const PROTOCOL: &str = "mhis-tb-screening";
/// EU DCC test file with EXPECTEDVERIFY and EXPECTEDEXPIRATIONCHECK true.
const DCC_FILE: &str = "DE/2DCode/raw/1.json";

fn dcc_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/dcc"
    ))
}

/// Runs `mhis verify ARGS`, feeding `stdin`.
fn mhis_verify(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mhis"))
        .arg("verify")
        .args(args)
        .env("MHIS_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mhis runs");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(bytes) = stdin {
            pipe.write_all(bytes).expect("write stdin");
        }
    }
    child.wait_with_output().expect("mhis finishes")
}

/// The exit status and the JSON printed (`Null` when nothing was printed).
fn outcome(out: &Output) -> (i32, Value) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("stdout is not one JSON object ({e}): {stdout}");
        })
    };
    (out.status.code().expect("exit status"), json)
}

fn assert_verdict(out: &Output, code: i32, verdict: &str) -> Value {
    let (got_code, json) = outcome(out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(json["verdict"], verdict, "json {json}; stderr {stderr}");
    assert_eq!(got_code, code, "json {json}; stderr {stderr}");
    assert_eq!(json.as_object().map(|o| o.len()), Some(5), "{json}");
    json
}

fn assert_usage_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr {stderr}");
    assert!(out.stdout.is_empty(), "no verdict on usage error");
    assert!(
        stderr.to_lowercase().contains(&needle.to_lowercase()),
        "stderr should mention {needle:?}: {stderr}"
    );
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("time in range")
        .to_rfc3339()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path.to_string_lossy().into_owned()
}

/// Standard base64 (RFC 4648), as in the EU DCC test files.
fn base64(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("base64")
}

// ---------------------------------------------------------------- EU DCC

struct Dcc {
    dir: TempDir,
    text: String,
    text_file: String,
    dsc_file: String,
    png: Vec<u8>,
    clock: String,
}

fn dcc() -> Dcc {
    let path = dcc_dir().join(DCC_FILE);
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("EU DCC test data {}: {e}", path.display()));
    let t: Value = serde_json::from_str(&raw).expect("test file is JSON");
    assert_eq!(t["EXPECTEDRESULTS"]["EXPECTEDVERIFY"], true);
    let text = t["PREFIX"].as_str().expect("PREFIX").to_owned();
    let dir = TempDir::new().expect("temp dir");
    let text_file = write(dir.path(), "dcc.txt", format!("{text}\n"));
    let dsc_file = write(
        dir.path(),
        "dsc.b64",
        t["TESTCTX"]["CERTIFICATE"].as_str().expect("CERTIFICATE"),
    );
    Dcc {
        png: base64(t["2DCODE"].as_str().expect("2DCODE")),
        clock: t["TESTCTX"]["VALIDATIONCLOCK"]
            .as_str()
            .expect("VALIDATIONCLOCK")
            .to_owned(),
        dir,
        text,
        text_file,
        dsc_file,
    }
}

#[test]
fn dcc_text_with_dsc_is_valid() {
    let d = dcc();
    let out = mhis_verify(
        &["--dsc", &d.dsc_file, "--at", &d.clock, &d.text_file],
        None,
    );
    let json = assert_verdict(&out, 0, "valid");
    assert_eq!(json["kind"], "dcc");
    assert_eq!(json["signature_valid"], true);
    assert_eq!(json["stage"], Value::Null);
    assert!(json["payload"].is_object(), "{json}");
}

#[test]
fn dcc_dsc_as_pem_is_valid() {
    let d = dcc();
    let b64 = std::fs::read_to_string(&d.dsc_file).unwrap();
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    let pem_file = write(d.dir.path(), "dsc.pem", pem);
    let out = mhis_verify(&["--dsc", &pem_file, "--at", &d.clock, &d.text_file], None);
    assert_verdict(&out, 0, "valid");
}

#[test]
fn dcc_png_with_dsc_is_valid() {
    let d = dcc();
    let png_file = write(d.dir.path(), "dcc.png", &d.png);
    let out = mhis_verify(&["--dsc", &d.dsc_file, "--at", &d.clock, &png_file], None);
    let json = assert_verdict(&out, 0, "valid");
    assert_eq!(json["kind"], "dcc");
}

#[test]
fn dcc_tampered_text_is_invalid() {
    let d = dcc();
    // Change one Base45 character in the middle of the text.
    let mut bytes = d.text.clone().into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = write(d.dir.path(), "tampered.txt", &bytes);
    let out = mhis_verify(&["--dsc", &d.dsc_file, "--at", &d.clock, &tampered], None);
    let (code, json) = outcome(&out);
    assert_eq!(code, 1, "{json}");
    assert!(
        json["verdict"] == "malformed" || json["verdict"] == "bad_signature",
        "{json}"
    );
    assert_eq!(json["payload"], Value::Null, "{json}");
}

#[test]
fn dcc_after_its_expiry_is_expired() {
    let d = dcc();
    // The certificate expires on 2022-01-28, the DSC on 2022-04-30.
    let out = mhis_verify(
        &[
            "--dsc",
            &d.dsc_file,
            "--at",
            "2022-03-01T00:00:00Z",
            &d.text_file,
        ],
        None,
    );
    assert_verdict(&out, 1, "expired");
}

// ---------------------------------------------------------------- mhis

/// A site key, an anchor, a signed trust list and one issued certificate,
/// written to a temporary directory.
struct Mhc {
    dir: TempDir,
    site: SigningKey,
    anchor: SigningKey,
    anchor_file: String,
    trust_file: String,
    text: String,
    text_file: String,
}

fn payload(certificate_id: &str) -> MhcPayload {
    MhcPayload::HealthClearance(HealthClearance {
        name: PersonName {
            family_name: Some("Otieno".into()),
            family_name_mrz: "OTIENO".into(),
            given_name: Some("Achieng".into()),
            given_name_mrz: Some("ACHIENG".into()),
        },
        date_of_birth: "1990-04".into(),
        certificate_id: certificate_id.into(),
        assessment_date: "2026-05-20".into(),
        destination_country: "CA".into(),
        protocol_id: PROTOCOL.into(),
        protocol_version: "2.1".into(),
        outcome: Outcome::Cleared,
        valid_until: "2026-11-30".into(),
        issuing_site: "KE-NBO-01".into(),
    })
}

impl Mhc {
    /// A trust list issued at `list_issued_at`, vouching for the site key.
    fn new(list_issued_at: i64) -> Self {
        let site = SigningKey::generate();
        let anchor = SigningKey::generate();
        let dir = TempDir::new().expect("temp dir");
        let anchor_pem = anchor.verification_key().to_spki_pem().expect("anchor PEM");
        let anchor_file = write(dir.path(), "anchor.pem", anchor_pem);
        let list = TrustList {
            issuer: "KE".into(),
            issued_at: list_issued_at,
            keys: vec![TrustedKey::for_site_key(
                &site,
                "KE-NBO-01",
                "KE",
                &[PROTOCOL],
                NOW - 365 * DAY,
                NOW + 365 * DAY,
            )],
        };
        let trust_file = write(dir.path(), "trust.cose", list.sign(&anchor).unwrap());
        let text = Issuer::new(site.clone(), "KE")
            .issue(&payload("MHC-KE-000123"), NOW - DAY)
            .expect("issue");
        let text_file = write(dir.path(), "mhc.txt", format!("{text}\n"));
        Self {
            dir,
            site,
            anchor,
            anchor_file,
            trust_file,
            text,
            text_file,
        }
    }

    /// `--trust-list … --anchor … --at …` then `extra`, then `input`.
    fn verify(&self, at: i64, extra: &[&str], input: &str, stdin: Option<&[u8]>) -> Output {
        let at = rfc3339(at);
        let mut args = vec![
            "--trust-list",
            &self.trust_file,
            "--anchor",
            &self.anchor_file,
            "--at",
            &at,
        ];
        args.extend_from_slice(extra);
        args.push(input);
        mhis_verify(&args, stdin)
    }
}

#[test]
fn mhc_issued_here_is_valid() {
    let m = Mhc::new(NOW - HOUR);
    let out = m.verify(NOW, &[], &m.text_file, None);
    let json = assert_verdict(&out, 0, "valid");
    assert_eq!(json["kind"], "mhc");
    assert_eq!(json["signature_valid"], true);
    assert_eq!(json["stage"], Value::Null);
    assert_eq!(json["payload"]["ci"], "MHC-KE-000123");
    assert_eq!(json["payload"]["t"], "hc");
}

#[test]
fn mhc_png_and_der_anchor_are_valid() {
    let m = Mhc::new(NOW - HOUR);
    let png_file = write(m.dir.path(), "mhc.png", qr_png(&m.text, 4).unwrap());
    let der_file = write(m.dir.path(), "anchor.der", m.anchor.public_spki_der());
    let at = rfc3339(NOW);
    let out = mhis_verify(
        &[
            "--trust-list",
            &m.trust_file,
            "--anchor",
            &der_file,
            "--at",
            &at,
            &png_file,
        ],
        None,
    );
    assert_verdict(&out, 0, "valid");
}

#[test]
fn mhc_from_stdin_is_valid() {
    let m = Mhc::new(NOW - HOUR);
    let out = m.verify(NOW, &[], "-", Some(m.text.as_bytes()));
    assert_verdict(&out, 0, "valid");
}

#[test]
fn mhc_after_valid_until_is_expired() {
    // 2026-12-01, the day after valid-until; the list is fresh then.
    let at = 1_796_083_200 + HOUR;
    let m = Mhc::new(at - HOUR);
    let out = m.verify(at, &[], &m.text_file, None);
    let json = assert_verdict(&out, 1, "expired");
    assert_eq!(json["signature_valid"], true);
}

#[test]
fn mhc_on_revocation_list_is_revoked() {
    let m = Mhc::new(NOW - HOUR);
    let list = RevocationList::from_ids("KE", NOW - HOUR, [("KE", "MHC-KE-000123")]);
    let rev_file = write(m.dir.path(), "revoked.cose", list.sign(&m.anchor).unwrap());
    let out = m.verify(NOW, &["--revocations", &rev_file], &m.text_file, None);
    assert_verdict(&out, 1, "revoked");

    // Another certificate of the same site is not affected.
    let other = Issuer::new(m.site.clone(), "KE")
        .issue(&payload("MHC-KE-000124"), NOW - DAY)
        .unwrap();
    let other_file = write(m.dir.path(), "other.txt", other);
    let out = m.verify(NOW, &["--revocations", &rev_file], &other_file, None);
    assert_verdict(&out, 0, "valid");
}

#[test]
fn mhc_signed_by_unlisted_key_is_unknown_key() {
    let m = Mhc::new(NOW - HOUR);
    let stranger = Issuer::new(SigningKey::generate(), "KE")
        .issue(&payload("MHC-KE-000125"), NOW - DAY)
        .unwrap();
    let file = write(m.dir.path(), "stranger.txt", stranger);
    let out = m.verify(NOW, &[], &file, None);
    let json = assert_verdict(&out, 1, "unknown_key");
    assert_eq!(json["signature_valid"], Value::Null);
    assert_eq!(json["payload"], Value::Null);
}

#[test]
fn mhc_with_bad_signature_is_bad_signature() {
    let m = Mhc::new(NOW - HOUR);
    // The signature is the last byte string of the COSE_Sign1: flip its
    // last bit and re-encode.
    let (_, body) = hcert::unprefix(&m.text).unwrap();
    let mut cose = inflate(&base45_decode(body).unwrap()).unwrap();
    *cose.last_mut().unwrap() ^= 1;
    let forged = format!("{}{}", Kind::Mhc.prefix(), base45_encode(&deflate(&cose)));
    let file = write(m.dir.path(), "forged.txt", forged);
    let out = m.verify(NOW, &[], &file, None);
    let json = assert_verdict(&out, 1, "bad_signature");
    assert_eq!(json["signature_valid"], false);
    assert_eq!(json["payload"], Value::Null);
}

#[test]
fn mhc_tampered_text_is_malformed() {
    let m = Mhc::new(NOW - HOUR);
    let file = write(
        m.dir.path(),
        "bad.txt",
        m.text.replacen("MHC1:", "MHC9:", 1),
    );
    let out = m.verify(NOW, &[], &file, None);
    let json = assert_verdict(&out, 1, "malformed");
    assert_eq!(json["stage"], "prefix");
    assert_eq!(json["signature_valid"], Value::Null);
}

#[test]
fn stale_trust_list_is_trust_list_stale() {
    // Default limit 48 hours; this list is 72 hours old.
    let m = Mhc::new(NOW - 72 * HOUR);
    let out = m.verify(NOW, &[], &m.text_file, None);
    let json = assert_verdict(&out, 1, "trust_list_stale");
    assert_eq!(json["signature_valid"], Value::Null);

    // A longer limit accepts it.
    let out = m.verify(NOW, &["--max-age-hours", "96"], &m.text_file, None);
    assert_verdict(&out, 0, "valid");
}

// ---------------------------------------------------------------- usage

#[test]
fn missing_input_file_is_a_usage_error() {
    let m = Mhc::new(NOW - HOUR);
    let missing = m.dir.path().join("no-such-file.txt");
    let out = m.verify(NOW, &[], &missing.to_string_lossy(), None);
    assert_usage_error(&out, "cannot read");
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let m = Mhc::new(NOW - HOUR);
    let out = mhis_verify(
        &[
            "--trust-list",
            &m.trust_file,
            "--anchor",
            &m.anchor_file,
            "--at",
            "yesterday",
            &m.text_file,
        ],
        None,
    );
    assert_usage_error(&out, "RFC 3339");

    // No trust material at all.
    let out = mhis_verify(&["--at", &rfc3339(NOW), &m.text_file], None);
    assert_usage_error(&out, "trust");

    // A trust list without its anchor.
    let out = mhis_verify(&["--trust-list", &m.trust_file, &m.text_file], None);
    assert_usage_error(&out, "--anchor");

    // A trust list signed by another anchor.
    let other = SigningKey::generate()
        .verification_key()
        .to_spki_pem()
        .unwrap();
    let other_file = write(m.dir.path(), "other-anchor.pem", other);
    let out = mhis_verify(
        &[
            "--trust-list",
            &m.trust_file,
            "--anchor",
            &other_file,
            &m.text_file,
        ],
        None,
    );
    assert_usage_error(&out, "trust anchor");

    // An anchor file that is not a key.
    let out = mhis_verify(
        &[
            "--trust-list",
            &m.trust_file,
            "--anchor",
            &m.text_file,
            &m.text_file,
        ],
        None,
    );
    assert_usage_error(&out, "anchor");
}

#[test]
fn dcc_without_dsc_or_trust_list_is_a_usage_error() {
    let d = dcc();
    let out = mhis_verify(&["--at", &d.clock, &d.text_file], None);
    assert_usage_error(&out, "--dsc");
}
