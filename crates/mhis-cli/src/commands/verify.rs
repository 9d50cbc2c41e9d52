//! `mhis verify`: offline verification of a certificate from its QR text
//! or image.
//!
//! Reads one certificate (QR text, or a PNG/JPEG picture of the QR code),
//! verifies it with [`mhis_cert::Verifier`] against the given trust
//! material at a given clock, and prints the verdict as one JSON object:
//! `{"verdict", "stage", "signature_valid", "kind", "payload"}`.
//!
//! Trust material:
//!
//! * `MHC1:` certificates are checked against a signed trust list
//!   (`--trust-list`), whose signature is checked against the trust
//!   anchor's public key (`--anchor`);
//! * `HC1:` certificates (EU DCC) are checked against a Document Signer
//!   Certificate (`--dsc`), trusted for the country in its subject, or
//!   against a trust list listing DCC keys when no DSC is given;
//! * an optional signed revocation list (`--revocations`) is checked
//!   against the same anchors.
//!
//! Exit status: 0 valid, 1 any other verdict, 2 usage error (unreadable
//! file, bad flag value, missing or unverifiable trust material).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use mhis_cert::hcert::unprefix;
use mhis_cert::keys::subject_country;
use mhis_cert::verify::DEFAULT_MAX_LIST_AGE_SECS;
use mhis_cert::{
    Kind, RevocationList, TrustList, TrustedKey, VerificationKey, Verifier, decode_qr_image,
};

/// Exit status of a usage error (as clap uses for bad flags).
const USAGE: u8 = 2;

/// How trust is established, shown after the flags in `--help`.
const AFTER_HELP: &str = "\
Trust: an MHC1: certificate is checked against --trust-list, whose signature must \
verify with a --anchor key (the trust anchor's public key, given out of band). An HC1: \
certificate is checked against --dsc, or against --trust-list when no DSC is given. \
--revocations also needs --anchor. Lists older than --max-age-hours at the clock give \
the verdict trust_list_stale.

Output: one JSON object {\"verdict\", \"stage\", \"signature_valid\", \"kind\", \"payload\"}; \
verdict is one of valid, malformed, unknown_key, bad_signature, key_not_allowed, \
not_yet_valid, expired, revoked, trust_list_stale.

Exit status: 0 valid, 1 any other verdict, 2 usage error (unreadable file, bad flag \
value, missing or unverifiable trust material).";

/// Flags of `mhis verify`.
///
/// Trust: an `MHC1:` certificate needs `--trust-list` and `--anchor`; an
/// `HC1:` certificate needs `--dsc` (or a trust list naming DCC keys).
/// Lists older than `--max-age-hours` at the clock give `trust_list_stale`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The certificate: a file holding the QR text (`MHC1:…` or `HC1:…`) or
    /// a PNG/JPEG image of the QR code, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    input: String,

    /// Signed trust list (COSE_Sign1, as produced by mhis-cert) naming the
    /// site keys to accept. Its signature is checked against `--anchor`.
    #[arg(long, value_name = "FILE", requires = "anchor")]
    trust_list: Option<PathBuf>,

    /// Signed revocation list (COSE_Sign1), checked against `--anchor`.
    #[arg(long, value_name = "FILE", requires = "anchor")]
    revocations: Option<PathBuf>,

    /// Public key of a trust anchor that signs the trust and revocation
    /// lists: a SubjectPublicKeyInfo, PEM (`-----BEGIN PUBLIC KEY-----`) or
    /// DER. Repeat for several anchors; a list signed by any is accepted.
    #[arg(long, value_name = "FILE")]
    anchor: Vec<PathBuf>,

    /// Document Signer Certificate for an `HC1:` certificate: X.509, as
    /// base64 of the DER (as in the EU DCC test data), PEM
    /// (`-----BEGIN CERTIFICATE-----`) or DER. It is trusted for the
    /// country in its subject, within its validity; for `HC1:` input it
    /// replaces the trust list.
    #[arg(long, value_name = "FILE")]
    dsc: Option<PathBuf>,

    /// Verification clock, RFC 3339 (e.g. `2026-05-28T12:00:00Z`); default
    /// now.
    #[arg(long, value_name = "RFC3339-TIME", value_parser = parse_time)]
    at: Option<i64>,

    /// Freshness limit of the trust and revocation lists, in hours: older
    /// lists give the verdict `trust_list_stale`.
    #[arg(long, value_name = "HOURS", default_value_t = (DEFAULT_MAX_LIST_AGE_SECS / 3600) as u32)]
    max_age_hours: u32,
}

/// Parses an RFC 3339 time into Unix seconds.
fn parse_time(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp())
        .map_err(|e| format!("not an RFC 3339 time ({e}), e.g. 2026-05-28T12:00:00Z"))
}

/// Verifies a certificate; prints the JSON verdict. Usage errors are
/// reported on stderr with exit status 2.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let verification = match verify(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    println!("{}", serde_json::to_string(&verification)?);
    if verification.is_valid() {
        Ok(ExitCode::SUCCESS)
    } else {
        if !verification.detail.is_empty() {
            eprintln!(
                "mhis verify: {}: {}",
                serde_json::to_value(verification.verdict)?
                    .as_str()
                    .unwrap_or_default(),
                verification.detail
            );
        }
        Ok(ExitCode::FAILURE)
    }
}

/// Loads the input and the trust material, then verifies. Every error is
/// a usage error.
fn verify(args: &Args) -> anyhow::Result<mhis_cert::Verification> {
    let now = args.at.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let max_age = i64::from(args.max_age_hours) * 3600;
    let text = read_certificate_text(&args.input)?;

    // Load every file given, so that a bad one is reported whatever the
    // input turns out to be.
    let anchors = args
        .anchor
        .iter()
        .map(|p| read_anchor(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let trust_list = match &args.trust_list {
        Some(p) => Some(
            TrustList::verify(&read_file(p)?, &anchors)
                .with_context(|| format!("trust list {}", p.display()))?,
        ),
        None => None,
    };
    let revocations = match &args.revocations {
        Some(p) => Some(
            RevocationList::verify(&read_file(p)?, &anchors)
                .with_context(|| format!("revocation list {}", p.display()))?,
        ),
        None => None,
    };
    let dsc = match &args.dsc {
        Some(p) => Some(read_dsc(p, now)?),
        None => None,
    };

    let kind = unprefix(&text).ok().map(|(k, _)| k);
    let list = match (kind, dsc, trust_list) {
        (Some(Kind::Mhc), _, None) => bail!(
            "no trust material for an MHC1: certificate: give --trust-list and --anchor \
             (--dsc applies to HC1: certificates only)"
        ),
        (Some(Kind::Mhc), _, Some(list)) => list,
        (_, Some(dsc), _) => dsc,
        (_, None, Some(list)) => list,
        (_, None, None) => bail!(
            "no trust material: give --trust-list and --anchor, or --dsc for an HC1: certificate"
        ),
    };
    let mut verifier = Verifier::new(list, max_age);
    if let Some(r) = revocations {
        verifier = verifier.with_revocations(r);
    }
    Ok(verifier.verify(&text, now))
}

/// Reads a file, naming it in the error.
fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads the certificate text from a text file, an image file, or stdin.
fn read_certificate_text(input: &str) -> anyhow::Result<String> {
    let bytes = if input == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        buf
    } else {
        read_file(Path::new(input))?
    };
    let is_png = bytes.starts_with(b"\x89PNG\r\n\x1a\n");
    let is_jpeg = bytes.starts_with(&[0xFF, 0xD8, 0xFF]);
    if is_png || is_jpeg {
        return decode_qr_image(&bytes)
            .with_context(|| format!("no readable QR code in the image {input}"));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{input} is neither text nor a PNG/JPEG image"))?;
    // A file usually ends with a line break; spaces are Base45 and kept.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads a trust anchor's public key (SPKI PEM or DER).
fn read_anchor(path: &Path) -> anyhow::Result<VerificationKey> {
    let bytes = read_file(path)?;
    let key = match pem_text(&bytes) {
        Some(pem) => VerificationKey::from_spki_pem(pem),
        None => VerificationKey::from_spki_der(&bytes),
    };
    key.with_context(|| format!("trust anchor {}", path.display()))
}

/// Reads a DSC and builds the one-key trust list it stands for, issued at
/// `now` (a DSC given by hand is never stale).
fn read_dsc(path: &Path, now: i64) -> anyhow::Result<TrustList> {
    let bytes = read_file(path)?;
    let der = dsc_der(&bytes).with_context(|| format!("DSC {}", path.display()))?;
    let country = subject_country(&der).with_context(|| {
        format!(
            "DSC {}: its subject names no country (C), so it cannot be trusted for one",
            path.display()
        )
    })?;
    let site = format!("dsc:{}", path.display());
    let key = TrustedKey::for_dsc(&der, &site, &country)
        .with_context(|| format!("DSC {}", path.display()))?;
    Ok(TrustList {
        issuer: site,
        issued_at: now,
        keys: vec![key],
    })
}

/// The text of a PEM file, if it is one.
fn pem_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.trim_start().starts_with("-----BEGIN "))
}

/// The DER bytes of a certificate given as DER, PEM or bare base64.
fn dsc_der(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    if let Some(pem) = pem_text(bytes) {
        let body: String = pem
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != "-----BEGIN CERTIFICATE-----")
            .skip(1)
            .take_while(|l| !l.starts_with("-----END "))
            .collect();
        if body.is_empty() {
            bail!("expected a PEM CERTIFICATE block");
        }
        return base64_decode(&body).context("bad base64 in the PEM block");
    }
    // DER starts with a SEQUENCE tag; base64 text never contains 0x30 first
    // followed by a length byte above 0x7f.
    if bytes.first() == Some(&0x30) && bytes.get(1).is_some_and(|b| *b >= 0x80) {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).context("neither DER, PEM nor base64")?;
    base64_decode(text).context("neither DER, PEM nor base64")
}

/// Decodes standard base64 (RFC 4648 §4), ignoring whitespace; padding is
/// optional.
/// Standard base64 (RFC 4648), ignoring white space and accepting the
/// padding or its absence, as the EU DCC test files and PEM bodies use.
fn base64_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(compact.as_bytes()).context("not base64")?;
    if bytes.is_empty() {
        bail!("not base64");
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert_eq!(base64_decode("TQ").unwrap(), b"M");
        assert_eq!(base64_decode("TW\nFu TQ==").unwrap(), b"ManM");
        assert!(base64_decode("T").is_err());
        assert!(base64_decode("TW!u").is_err());
        assert!(base64_decode("").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:10Z"), Ok(10));
        assert_eq!(parse_time("1970-01-01T02:00:00+02:00"), Ok(0));
        assert!(parse_time("yesterday").is_err());
    }
}
