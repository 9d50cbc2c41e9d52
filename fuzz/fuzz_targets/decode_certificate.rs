//! Fuzzes the certificate decoder and verifier: any input must yield a
//! verdict (never a panic, never unbounded memory), and no input signed by
//! no trusted key may be `valid`.
//!
//! Run: `cargo +nightly fuzz run decode_certificate -- -max_total_time=60`
//! from `fuzz/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mhis_cert::hcert::{Decoded, Kind, base45_encode, deflate};
use mhis_cert::{TrustList, Verdict, Verifier};

const NOW: i64 = 1_780_000_000;

fuzz_target!(|data: &[u8]| {
    let verifier = Verifier::new(
        TrustList {
            issuer: "XX".into(),
            issued_at: NOW,
            keys: Vec::new(),
        },
        86_400,
    );
    // 1. The raw bytes as QR text.
    if let Ok(text) = std::str::from_utf8(data) {
        let v = verifier.verify(text, NOW);
        assert_ne!(v.verdict, Verdict::Valid);
    }
    // 2. The bytes as compressed COSE, wrapped in a well-formed text, so the
    //    fuzzer reaches the COSE and CBOR stages quickly.
    let text = format!("MHC1:{}", base45_encode(&deflate(data)));
    assert_ne!(verifier.verify(&text, NOW).verdict, Verdict::Valid);
    // 3. The bytes as COSE directly, both kinds.
    let _ = Decoded::from_cose_bytes(Kind::Mhc, data);
    let _ = Decoded::from_cose_bytes(Kind::Dcc, data);
});
