//! `mhis bench verify`: certificate verification throughput.
//!
//! Issues one mhis ES256 certificate in memory, then measures on one core
//! (this thread only):
//!
//! * full verifications per second: `MHC1:` text → verdict through
//!   [`mhis_cert::Verifier`] (prefix, Base45, zlib, COSE, CBOR, payload
//!   schema, trust-list lookup, signature, validity and revocation checks);
//! * bare verifications per second: the P-256 ECDSA check alone of the same
//!   COSE `Sig_structure` and signature, with `p256` directly
//!   ([`mhis_cert::bench::BareEs256`]);
//!
//! and their ratio. The targets are a ratio of at least 0.8 and at least
//! 5,000 full verifications per second. A measurement, not a test: nothing
//! fails when a target is missed.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use mhis_cert::bench::BareEs256;
use mhis_cert::{
    HealthClearance, Issuer, MhcPayload, Outcome, PersonName, RevocationList, SigningKey,
    TrustList, TrustedKey, Verifier,
};

/// Target ratio of full to bare verifications per second.
const TARGET_RATIO: f64 = 0.8;
/// Target full verifications per second on one core.
const TARGET_PER_S: f64 = 5_000.0;
/// Rounds of measurement; the best round of each kind is reported.
const ROUNDS: usize = 5;

/// Flags of `mhis bench verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Verifications per round, of each kind (full and bare); the best of
    /// five rounds is reported.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
}

/// Runs the benchmark.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (verifier, text, bare, now) = setup()?;
    let n = args.iterations as usize;

    // Warm up caches and the branch predictor.
    for _ in 0..(n / 10).max(1) {
        black_box(verifier.verify(black_box(&text), now));
        black_box(bare.verify());
    }

    let mut full_best = Duration::MAX;
    let mut bare_best = Duration::MAX;
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        for _ in 0..n {
            let v = verifier.verify(black_box(&text), black_box(now));
            ensure!(v.is_valid(), "full verification failed: {}", v.detail);
            black_box(v);
        }
        full_best = full_best.min(t0.elapsed());

        let t0 = Instant::now();
        for _ in 0..n {
            ensure!(black_box(&bare).verify(), "bare verification failed");
        }
        bare_best = bare_best.min(t0.elapsed());
    }

    let per_s = |d: Duration| n as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE);
    let (full_per_s, bare_per_s) = (per_s(full_best), per_s(bare_best));
    let ratio = full_per_s / bare_per_s;
    let micros = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!("verify: full_per_s={full_per_s:.0} bare_per_s={bare_per_s:.0} ratio={ratio:.3}");
    let met = |ok: bool| if ok { "met" } else { "missed" };
    println!(
        "one core, best of {ROUNDS} rounds of {n}: a full verification takes {:.1} µs, \
         the bare P-256 signature check {:.1} µs ({} bytes signed); targets: ratio ≥ {TARGET_RATIO} {}, \
         ≥ {TARGET_PER_S:.0}/s {}",
        micros(full_best),
        micros(bare_best),
        bare.sig_structure().len(),
        met(ratio >= TARGET_RATIO),
        met(full_per_s >= TARGET_PER_S),
    );
    Ok(ExitCode::SUCCESS)
}

/// A verifier over a one-key trust list (plus a short revocation list, as
/// in deployment), a certificate it accepts, the bare check of that
/// certificate's signature, and the clock.
fn setup() -> anyhow::Result<(Verifier, String, BareEs256, i64)> {
    let now = chrono::Utc::now().timestamp();
    let today = chrono::Utc::now().date_naive();
    let day = |d: i64| {
        (today + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    let site = SigningKey::generate();
    let payload = MhcPayload::HealthClearance(HealthClearance {
        name: PersonName {
            family_name: Some("Müller-Łukasiewicz".into()),
            family_name_mrz: "MUELLER<LUKASIEWICZ".into(),
            given_name: Some("Ana María".into()),
            given_name_mrz: Some("ANA<MARIA".into()),
        },
        date_of_birth: "1990-04".into(),
        certificate_id: "MHC-KE-000123".into(),
        assessment_date: day(-1),
        destination_country: "CA".into(),
        protocol_id: "mhis-tb-screening".into(),
        protocol_version: "2.1".into(),
        outcome: Outcome::Cleared,
        valid_until: day(180),
        issuing_site: "KE-NBO-01".into(),
    });
    let text = Issuer::new(site.clone(), "KE")
        .issue(&payload, now - 60)
        .context("issuing the benchmark certificate")?;
    let year = 365 * 86_400;
    let list = TrustList {
        issuer: "KE".into(),
        issued_at: now - 3600,
        keys: vec![TrustedKey::for_site_key(
            &site,
            "KE-NBO-01",
            "KE",
            &["mhis-tb-screening"],
            now - year,
            now + year,
        )],
    };
    let revoked: Vec<String> = (0..100).map(|i| format!("MHC-KE-9{i:05}")).collect();
    let revocations = RevocationList::from_ids(
        "KE",
        now - 3600,
        revoked.iter().map(|id| ("KE", id.as_str())),
    );
    let verifier = Verifier::new(list, 48 * 3600).with_revocations(revocations);
    let check = verifier.verify(&text, now);
    ensure!(
        check.is_valid(),
        "benchmark certificate does not verify: {}",
        check.detail
    );
    let bare = BareEs256::from_text(&text, &site.verification_key())
        .context("extracting the signed bytes")?;
    ensure!(bare.verify(), "bare signature check fails");
    Ok((verifier, text, bare, now))
}
