//! End-to-end tests of issuing and verification verdicts, with a pinned
//! clock.

use ciborium::Value;
use coset::{CborSerializable, TaggedCborSerializable};
use mhis_cert::hcert::{self, Kind, MHC_CLAIM_KEY, base45_decode, base45_encode, deflate, inflate};
use mhis_cert::payload::end_of_day;
use mhis_cert::{
    HealthClearance, Issuer, MhcPayload, Outcome, PersonName, RevocationList, SigningKey, Stage,
    TrainingAttendance, TrustList, TrustedKey, Verdict, Verification, Verifier, decode_qr_image,
    qr_png,
};

/// 2026-05-28T20:26:40Z.
const NOW: i64 = 1_780_000_000;
const DAY: i64 = 86_400;
const MAX_AGE: i64 = 2 * DAY;
const PROTOCOL: &str = "mhis-tb-screening";

fn site_key() -> SigningKey {
    SigningKey::from_secret_bytes(&[0x11; 32]).unwrap()
}

fn anchor_key() -> SigningKey {
    SigningKey::from_secret_bytes(&[0x22; 32]).unwrap()
}

fn clearance() -> MhcPayload {
    MhcPayload::HealthClearance(HealthClearance {
        name: PersonName {
            family_name: Some("Müller-Łukasiewicz".into()),
            family_name_mrz: "MUELLER<LUKASIEWICZ".into(),
            given_name: Some("Ana María".into()),
            given_name_mrz: Some("ANA<MARIA".into()),
        },
        date_of_birth: "1990-04".into(),
        certificate_id: "MHC-KE-000123".into(),
        assessment_date: "2026-05-20".into(),
        destination_country: "CA".into(),
        protocol_id: PROTOCOL.into(),
        protocol_version: "2.1".into(),
        outcome: Outcome::Cleared,
        valid_until: "2026-11-30".into(),
        issuing_site: "KE-NBO-01".into(),
    })
}

fn site_entry(valid_from: i64, valid_until: i64, protocols: &[&str]) -> TrustedKey {
    TrustedKey::for_site_key(
        &site_key(),
        "KE-NBO-01",
        "KE",
        protocols,
        valid_from,
        valid_until,
    )
}

fn trust_list(issued_at: i64, keys: Vec<TrustedKey>) -> TrustList {
    TrustList {
        issuer: "KE".into(),
        issued_at,
        keys,
    }
}

/// A verifier whose lists are fresh at `at`, with a key valid ±1 year
/// around NOW.
fn verifier_at(at: i64) -> Verifier {
    let list = trust_list(
        at - 3600,
        vec![site_entry(NOW - 365 * DAY, NOW + 365 * DAY, &[PROTOCOL])],
    );
    Verifier::new(list, MAX_AGE)
}

fn issue(payload: &MhcPayload, at: i64) -> String {
    Issuer::new(site_key(), "KE").issue(payload, at).unwrap()
}

fn assert_verdict(v: &Verification, verdict: Verdict, sig: Option<bool>) {
    assert_eq!(v.verdict, verdict, "detail: {}", v.detail);
    assert_eq!(v.signature_valid, sig, "detail: {}", v.detail);
}

/// Rebuilds the QR text around modified COSE bytes.
fn rewrap(kind: Kind, cose: &[u8]) -> String {
    format!("{}{}", kind.prefix(), base45_encode(&deflate(cose)))
}

fn cose_of(text: &str) -> Vec<u8> {
    let (_, body) = hcert::unprefix(text).unwrap();
    inflate(&base45_decode(body).unwrap()).unwrap()
}

#[test]
fn round_trip_through_qr_png_is_valid() {
    let text = issue(&clearance(), NOW - 3600);
    assert!(text.starts_with("MHC1:"));
    let png = qr_png(&text, 4).unwrap();
    let read = decode_qr_image(&png).unwrap();
    assert_eq!(read, text);

    let v = verifier_at(NOW).verify(&read, NOW);
    assert_verdict(&v, Verdict::Valid, Some(true));
    assert_eq!(v.kind, Some(Kind::Mhc));
    assert_eq!(v.site.as_deref(), Some("KE-NBO-01"));
    let back: MhcPayload = serde_json::from_value(v.payload.clone().unwrap()).unwrap();
    assert_eq!(back, clearance());

    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["verdict"], "valid");
    assert_eq!(json["stage"], serde_json::Value::Null);
    assert_eq!(json["signature_valid"], true);
    assert_eq!(json["kind"], "mhc");
    assert_eq!(json["payload"]["ci"], "MHC-KE-000123");
    assert_eq!(json.as_object().unwrap().len(), 5);
}

#[test]
fn training_certificate_reuses_the_stack() {
    let p = MhcPayload::TrainingAttendance(TrainingAttendance {
        name: PersonName {
            family_name: None,
            family_name_mrz: "OKAFOR".into(),
            given_name: None,
            given_name_mrz: Some("CHIDI".into()),
        },
        certificate_id: "TA-7".into(),
        course_id: "mhis-course-ipc".into(),
        course_version: "1".into(),
        completion_date: "2026-05-01".into(),
        valid_until: "2027-05-01".into(),
        issuing_site: "KE-NBO-01".into(),
        title: None,
        modules: vec![],
    });
    let text = issue(&p, NOW - 3600);
    let list = trust_list(
        NOW,
        vec![site_entry(NOW - DAY, NOW + DAY, &["mhis-course-ipc"])],
    );
    let v = Verifier::new(list, MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::Valid, Some(true));
    assert_eq!(v.payload.unwrap()["t"], "ta");
}

#[test]
fn tampered_payload_is_bad_signature() {
    let text = issue(&clearance(), NOW - 3600);
    let cose = cose_of(&text);
    let needle = b"MHC-KE-000123";
    let at = cose
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("certificate id in COSE");
    let mut forged = cose.clone();
    forged[at + needle.len() - 1] = b'4';
    let v = verifier_at(NOW).verify(&rewrap(Kind::Mhc, &forged), NOW);
    assert_verdict(&v, Verdict::BadSignature, Some(false));
    assert!(
        v.payload.is_none(),
        "unauthenticated payload must not be shown"
    );
}

#[test]
fn unknown_kid_is_unknown_key() {
    let text = issue(&clearance(), NOW - 3600);
    let other = SigningKey::from_secret_bytes(&[0x33; 32]).unwrap();
    let entry = TrustedKey::for_site_key(&other, "X", "KE", &[PROTOCOL], NOW - DAY, NOW + DAY);
    let v = Verifier::new(trust_list(NOW, vec![entry]), MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::UnknownKey, None);
}

#[test]
fn every_key_sharing_a_kid_is_tried() {
    let text = issue(&clearance(), NOW - 3600);
    let other = SigningKey::from_secret_bytes(&[0x33; 32]).unwrap();
    let mut impostor =
        TrustedKey::for_site_key(&other, "X", "KE", &[PROTOCOL], NOW - DAY, NOW + DAY);
    impostor.kid = site_key().kid();
    let good = site_entry(NOW - DAY, NOW + DAY, &[PROTOCOL]);
    let v =
        Verifier::new(trust_list(NOW, vec![impostor.clone(), good]), MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::Valid, Some(true));
    let v = Verifier::new(trust_list(NOW, vec![impostor]), MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::BadSignature, Some(false));
}

#[test]
fn expired_after_valid_until_day() {
    let text = issue(&clearance(), NOW - 3600);
    let last = end_of_day("2026-11-30").unwrap();
    let v = verifier_at(last).verify(&text, last);
    assert_verdict(&v, Verdict::Valid, Some(true));
    let v = verifier_at(last + 1).verify(&text, last + 1);
    assert_verdict(&v, Verdict::Expired, Some(true));
    assert!(v.payload.is_some());
}

#[test]
fn issued_in_the_future_is_not_yet_valid() {
    let text = issue(&clearance(), NOW + 3600);
    let v = verifier_at(NOW).verify(&text, NOW);
    assert_verdict(&v, Verdict::NotYetValid, Some(true));
}

#[test]
fn revoked_certificate() {
    let text = issue(&clearance(), NOW - 3600);
    let revs = RevocationList::from_ids("KE", NOW - 60, [("KE", "MHC-KE-000123")]);
    let v = verifier_at(NOW).with_revocations(revs).verify(&text, NOW);
    assert_verdict(&v, Verdict::Revoked, Some(true));

    // Same id from another country is a different certificate.
    let revs = RevocationList::from_ids("KE", NOW - 60, [("UG", "MHC-KE-000123")]);
    let v = verifier_at(NOW).with_revocations(revs).verify(&text, NOW);
    assert_verdict(&v, Verdict::Valid, Some(true));
}

#[test]
fn stale_trust_or_revocation_list() {
    let text = issue(&clearance(), NOW - 3600);
    let v = verifier_at(NOW - 3 * DAY).verify(&text, NOW);
    assert_verdict(&v, Verdict::TrustListStale, None);

    let revs = RevocationList::from_ids("KE", NOW - 3 * DAY, [("KE", "other")]);
    let v = verifier_at(NOW).with_revocations(revs).verify(&text, NOW);
    assert_verdict(&v, Verdict::TrustListStale, None);
}

#[test]
fn key_outside_validity_window_is_not_allowed() {
    // Key expired before the verification clock.
    let text = issue(&clearance(), NOW - 3 * DAY);
    let list = trust_list(
        NOW,
        vec![site_entry(NOW - 10 * DAY, NOW - DAY, &[PROTOCOL])],
    );
    let v = Verifier::new(list, MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::KeyNotAllowed, Some(true));

    // Certificate signed before the key's validity began.
    let text = issue(&clearance(), NOW - 3 * DAY);
    let list = trust_list(NOW, vec![site_entry(NOW - DAY, NOW + DAY, &[PROTOCOL])]);
    let v = Verifier::new(list, MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::KeyNotAllowed, Some(true));
}

#[test]
fn key_not_allowed_for_protocol_or_country() {
    let text = issue(&clearance(), NOW - 3600);
    let list = trust_list(
        NOW,
        vec![site_entry(NOW - DAY, NOW + DAY, &["another-protocol"])],
    );
    let v = Verifier::new(list, MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::KeyNotAllowed, Some(true));

    let mut entry = site_entry(NOW - DAY, NOW + DAY, &[PROTOCOL]);
    entry.country = "UG".into();
    let v = Verifier::new(trust_list(NOW, vec![entry]), MAX_AGE).verify(&text, NOW);
    assert_verdict(&v, Verdict::KeyNotAllowed, Some(true));
}

fn assert_malformed(text: &str, stage: Stage) {
    let v = verifier_at(NOW).verify(text, NOW);
    assert_verdict(&v, Verdict::Malformed, None);
    assert_eq!(v.stage, Some(stage), "detail: {}", v.detail);
    assert!(v.payload.is_none());
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["stage"], stage.as_str());
    assert_eq!(json["signature_valid"], serde_json::Value::Null);
}

/// Signs an arbitrary CWT (claims map) with the site key.
fn signed_claims(claims: &Value) -> String {
    let mut cwt = Vec::new();
    ciborium::into_writer(claims, &mut cwt).unwrap();
    rewrap(Kind::Mhc, &hcert::sign_cose(cwt, &site_key()).unwrap())
}

#[test]
fn malformed_prefix() {
    let text = issue(&clearance(), NOW - 3600);
    assert_malformed(&text.replacen("MHC1:", "MHC2:", 1), Stage::Prefix);
    assert_malformed("", Stage::Prefix);
    assert_malformed(&text[5..], Stage::Prefix);
}

#[test]
fn malformed_base45() {
    assert_malformed("MHC1:abc", Stage::Base45);
    assert_malformed("MHC1:GGW", Stage::Base45); // 3-char group above 65535
    assert_malformed("MHC1:A", Stage::Base45); // dangling single character
}

#[test]
fn malformed_zlib() {
    assert_malformed(
        &format!("MHC1:{}", base45_encode(b"not zlib at all")),
        Stage::Zlib,
    );
    let text = issue(&clearance(), NOW - 3600);
    let (_, body) = hcert::unprefix(&text).unwrap();
    let mut z = base45_decode(body).unwrap();
    z.truncate(z.len() / 2);
    assert_malformed(&format!("MHC1:{}", base45_encode(&z)), Stage::Zlib);
    let mut z = base45_decode(body).unwrap();
    z.extend_from_slice(b"trailing");
    assert_malformed(&format!("MHC1:{}", base45_encode(&z)), Stage::Zlib);
}

#[test]
fn zip_bomb_is_refused() {
    // 4 MiB of zeros compresses to ~4 KiB (a QR-sized text); inflating is
    // capped at 64 KiB.
    let bomb = deflate(&vec![0u8; 4 * 1024 * 1024]);
    assert!(bomb.len() < 8_000);
    let text = format!("MHC1:{}", base45_encode(&bomb));
    assert_malformed(&text, Stage::Zlib);
    // Just above the cap is refused, at the cap is accepted by the zlib stage.
    let at_cap = deflate(&vec![0u8; hcert::MAX_INFLATED_LEN]);
    assert_eq!(inflate(&at_cap).unwrap().len(), hcert::MAX_INFLATED_LEN);
    let above = deflate(&vec![0u8; hcert::MAX_INFLATED_LEN + 1]);
    assert!(inflate(&above).is_err());
}

#[test]
fn malformed_cose() {
    assert_malformed(&rewrap(Kind::Mhc, b"\x01\x02\x03"), Stage::Cose);
    // Valid CBOR, wrong structure (an array of 3 instead of 4).
    assert_malformed(&rewrap(Kind::Mhc, &[0x83, 0x40, 0xa0, 0x40]), Stage::Cose);
    // Wrong tag.
    let cose = cose_of(&issue(&clearance(), NOW - 3600));
    let mut wrong = cose.clone();
    assert_eq!(wrong[0], 0xd2);
    wrong[0] = 0xd3; // tag 19
    assert_malformed(&rewrap(Kind::Mhc, &wrong), Stage::Cose);
}

#[test]
fn untagged_and_cwt_tagged_cose_are_accepted() {
    let cose = cose_of(&issue(&clearance(), NOW - 3600));
    let sign1 = coset::CoseSign1::from_tagged_slice(&cose).unwrap();
    let untagged = sign1.clone().to_vec().unwrap();
    let v = verifier_at(NOW).verify(&rewrap(Kind::Mhc, &untagged), NOW);
    assert_verdict(&v, Verdict::Valid, Some(true));
    let mut cwt_tagged = vec![0xd8, 0x3d];
    cwt_tagged.extend_from_slice(&cose);
    let v = verifier_at(NOW).verify(&rewrap(Kind::Mhc, &cwt_tagged), NOW);
    assert_verdict(&v, Verdict::Valid, Some(true));
}

#[test]
fn malformed_cbor() {
    // COSE payload that is not CBOR.
    let text = rewrap(
        Kind::Mhc,
        &hcert::sign_cose(vec![0xff, 0x00], &site_key()).unwrap(),
    );
    assert_malformed(&text, Stage::Cbor);
    // CBOR but not a claims map.
    assert_malformed(&signed_claims(&Value::Array(vec![])), Stage::Cbor);
    // Claims without exp.
    let claims = Value::Map(vec![
        (Value::from(1), Value::Text("KE".into())),
        (Value::from(6), Value::from(NOW - 3600)),
        (Value::from(MHC_CLAIM_KEY), clearance().to_cbor().unwrap()),
    ]);
    assert_malformed(&signed_claims(&claims), Stage::Cbor);
}

#[test]
fn malformed_payload() {
    let base = |payload: Value| {
        Value::Map(vec![
            (Value::from(1), Value::Text("KE".into())),
            (Value::from(6), Value::from(NOW - 3600)),
            (Value::from(4), Value::from(NOW + DAY)),
            (Value::from(MHC_CLAIM_KEY), payload),
        ])
    };
    // No mhis claim at all.
    let claims = Value::Map(vec![(Value::from(1), Value::Text("KE".into()))]);
    assert_malformed(&signed_claims(&claims), Stage::Payload);
    // Unknown certificate type.
    let p = Value::Map(vec![(Value::Text("t".into()), Value::Text("zz".into()))]);
    assert_malformed(&signed_claims(&base(p)), Stage::Payload);
    // Bad date.
    let mut c = clearance();
    if let MhcPayload::HealthClearance(h) = &mut c {
        h.valid_until = "2026-02-30".into();
    }
    assert_malformed(&signed_claims(&base(c.to_cbor().unwrap())), Stage::Payload);
}

#[test]
fn no_panic_on_garbage() {
    let v = verifier_at(NOW);
    let text = issue(&clearance(), NOW - 3600);
    // Every prefix of a valid text, and byte flips in the compressed data.
    for end in 0..text.len() {
        let _ = v.verify(&text[..end], NOW);
    }
    let (_, body) = hcert::unprefix(&text).unwrap();
    let z = base45_decode(body).unwrap();
    for i in 0..z.len() {
        let mut bad = z.clone();
        bad[i] ^= 0x5a;
        let r = v.verify(&format!("MHC1:{}", base45_encode(&bad)), NOW);
        assert_ne!(r.verdict, Verdict::Valid);
    }
}

#[test]
fn signed_lists_round_trip_and_reject_wrong_anchor() {
    let list = trust_list(NOW, vec![site_entry(NOW - DAY, NOW + DAY, &[PROTOCOL])]);
    let signed = list.sign(&anchor_key()).unwrap();
    let anchors = [anchor_key().verification_key()];
    assert_eq!(TrustList::verify(&signed, &anchors).unwrap(), list);

    let impostor = [SigningKey::from_secret_bytes(&[0x44; 32])
        .unwrap()
        .verification_key()];
    assert!(TrustList::verify(&signed, &impostor).is_err());

    let revs = RevocationList::from_ids("KE", NOW, [("KE", "a"), ("KE", "b")]);
    let signed_revs = revs.sign(&anchor_key()).unwrap();
    assert_eq!(
        RevocationList::verify(&signed_revs, &anchors).unwrap(),
        revs
    );
    // A revocation list is never accepted as a trust list, nor the reverse.
    assert!(TrustList::verify(&signed_revs, &anchors).is_err());
    assert!(RevocationList::verify(&signed, &anchors).is_err());
    // Tampering breaks the signature.
    let mut bad = signed.clone();
    let n = bad.len();
    bad[n - 70] ^= 1;
    assert!(TrustList::verify(&bad, &anchors).is_err());

    let text = issue(&clearance(), NOW - 3600);
    let verifier = Verifier::from_signed(&signed, Some(&signed_revs), &anchors, MAX_AGE).unwrap();
    assert_verdict(&verifier.verify(&text, NOW), Verdict::Valid, Some(true));
}

#[test]
fn revocation_list_holds_only_hashes() {
    let revs = RevocationList::from_ids("KE", NOW, [("KE", "MHC-KE-000123")]);
    let signed = revs.sign(&anchor_key()).unwrap();
    assert!(!signed.windows(13).any(|w| w == b"MHC-KE-000123"));
    assert_eq!(
        revs.entries[0],
        mhis_cert::revocation_hash("KE", "MHC-KE-000123")
    );
}

#[test]
fn eu_dcc_verifies_through_the_same_verifier() {
    use base64::Engine;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/dcc/common/2DCode/raw/CO28.json"
    );
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(t["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap();
    let now = 1_621_600_000; // 2021-05-21, the file's validation clock
    let key = TrustedKey::for_dsc(&der, "SE-DSC", "SE").unwrap();
    let verifier = Verifier::new(trust_list(now, vec![key]), MAX_AGE);
    let v = verifier.verify(t["PREFIX"].as_str().unwrap(), now);
    assert_verdict(&v, Verdict::Valid, Some(true));
    assert_eq!(v.kind, Some(Kind::Dcc));
    assert_eq!(v.payload.unwrap()["nam"]["fnt"], "LOEVSTROEM");
}

#[test]
fn keys_round_trip_through_pem_and_der() {
    let key = site_key();
    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(SigningKey::from_pkcs8_pem(&pem).unwrap().kid(), key.kid());
    let der = key.to_pkcs8_der().unwrap();
    assert_eq!(SigningKey::from_pkcs8_der(&der).unwrap().kid(), key.kid());
    let spki = key.public_spki_der();
    let pub_pem = key.verification_key().to_spki_pem().unwrap();
    assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let vk = mhis_cert::VerificationKey::from_spki_pem(&pub_pem).unwrap();
    assert_eq!(vk.to_spki_der().unwrap(), spki);
    assert_eq!(key.kid().len(), 8);
}

#[test]
fn eddsa_signatures_verify() {
    use ed25519_dalek::Signer;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let ed = ed25519_dalek::SigningKey::from_bytes(&[0x55; 32]);
    let spki = ed
        .verifying_key()
        .to_public_key_der()
        .unwrap()
        .as_bytes()
        .to_vec();
    let kid = mhis_cert::keys::kid_of_der(&spki);
    let claims = Value::Map(vec![
        (Value::from(1), Value::Text("KE".into())),
        (Value::from(6), Value::from(NOW - 3600)),
        (Value::from(4), Value::from(NOW + DAY)),
        (Value::from(MHC_CLAIM_KEY), clearance().to_cbor().unwrap()),
    ]);
    let mut cwt = Vec::new();
    ciborium::into_writer(&claims, &mut cwt).unwrap();
    let sign1 = coset::CoseSign1Builder::new()
        .protected(
            coset::HeaderBuilder::new()
                .algorithm(coset::iana::Algorithm::EdDSA)
                .key_id(kid.clone())
                .build(),
        )
        .payload(cwt)
        .create_signature(b"", |d| ed.sign(d).to_bytes().to_vec())
        .build();
    let text = rewrap(Kind::Mhc, &sign1.to_tagged_vec().unwrap());
    let entry = TrustedKey {
        kid,
        public_key: spki,
        site: "KE-NBO-02".into(),
        country: "KE".into(),
        protocols: vec![PROTOCOL.into()],
        valid_from: NOW - DAY,
        valid_until: NOW + DAY,
    };
    let verifier = Verifier::new(trust_list(NOW, vec![entry]), MAX_AGE);
    assert_verdict(&verifier.verify(&text, NOW), Verdict::Valid, Some(true));
}
