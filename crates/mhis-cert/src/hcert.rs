//! The HCERT stack: CWT claims → COSE_Sign1 → zlib → Base45 → prefix.
//!
//! Follows the Electronic Health Certificate specification (hcert spec)
//! v1.0.8 of `ehn-dcc-development/hcert-spec`:
//!
//! * §2.6.3 / §3.3: the payload is a CBOR Web Token (RFC 8392) whose claims
//!   map carries `iss` (1), `exp` (4), `iat` (6) and the health certificate
//!   claim. EU DCC uses claim −260 → `{1: dcc}`; mhis uses the private-use
//!   claim key [`MHC_CLAIM_KEY`] (RFC 8392 §9.1: integers below −65536 are
//!   private use) whose value is the [`crate::payload::MhcPayload`] map.
//! * §3.3.1: the CWT is signed as a COSE_Sign1 (RFC 9052 §4.2), tag 18;
//!   untagged and CWT-tagged (tag 61, RFC 8392 §6) structures are accepted.
//!   `kid` (label 4) in the protected header wins over the unprotected one.
//! * §4.3: the COSE bytes are zlib-compressed (RFC 1950). Inflation is
//!   bounded by [`MAX_INFLATED_LEN`] so a compression bomb is refused.
//! * §4.4: the compressed bytes are Base45-encoded (RFC 9285) and prefixed
//!   with a context identifier: `HC1:` for EU DCC, [`MHC_PREFIX`] for ours,
//!   so that COVID apps never misread a health certificate.

use std::io::Read;

use ciborium::Value;
use coset::{AsCborValue, CoseSign1, CoseSign1Builder, HeaderBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{CertError, Result, Stage};
use crate::keys::{SignatureAlgorithm, SigningKey, VerificationKey};

/// Context identifier of mhis certificates.
pub const MHC_PREFIX: &str = "MHC1:";
/// Context identifier of EU DCC version 1 (hcert spec v1.0.8 §4.4).
pub const DCC_PREFIX: &str = "HC1:";
/// Private-use CWT claim key carrying the mhis payload (RFC 8392 §9.1).
pub const MHC_CLAIM_KEY: i64 = -65537;
/// CWT claim key of the health certificate container (hcert spec §2.6.3).
pub const HCERT_CLAIM_KEY: i64 = -260;
/// Key of the EU DCC v1 inside the hcert claim (hcert spec §2.6.3).
pub const DCC_V1_KEY: i64 = 1;
/// Upper bound on inflated COSE size: larger streams are refused as a
/// compression bomb. QR codes hold at most ~4 KiB, so 64 KiB is generous.
pub const MAX_INFLATED_LEN: usize = 64 * 1024;
/// Upper bound on the QR text accepted for decoding.
pub const MAX_TEXT_LEN: usize = 16 * 1024;

const CWT_ISS: i64 = 1;
const CWT_EXP: i64 = 4;
const CWT_IAT: i64 = 6;
const TAG_CWT: u64 = 61;
const TAG_COSE_SIGN1: u64 = 18;

/// Which kind of certificate a QR text holds, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An mhis certificate (`MHC1:`).
    Mhc,
    /// An EU Digital COVID Certificate (`HC1:`).
    Dcc,
}

impl Kind {
    /// The context identifier prefix of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Mhc => MHC_PREFIX,
            Kind::Dcc => DCC_PREFIX,
        }
    }
}

/// Splits the context identifier off a QR text (hcert spec §4.4).
pub fn unprefix(text: &str) -> Result<(Kind, &str)> {
    if let Some(rest) = text.strip_prefix(MHC_PREFIX) {
        Ok((Kind::Mhc, rest))
    } else if let Some(rest) = text.strip_prefix(DCC_PREFIX) {
        Ok((Kind::Dcc, rest))
    } else {
        Err(CertError::malformed(
            Stage::Prefix,
            "no known context identifier (expected MHC1: or HC1:)",
        ))
    }
}

/// Base45 decoding (RFC 9285 §4.2); any invalid character or value is an
/// error at stage `base45`.
pub fn base45_decode(text: &str) -> Result<Vec<u8>> {
    if text.len() > MAX_TEXT_LEN {
        return Err(CertError::malformed(Stage::Base45, "text too long"));
    }
    base45::decode(text).map_err(|e| CertError::malformed(Stage::Base45, format!("{e:?}")))
}

/// Base45 encoding (RFC 9285 §4).
pub fn base45_encode(bytes: &[u8]) -> String {
    base45::encode(bytes)
}

/// Inflates a zlib stream (RFC 1950), refusing output above
/// [`MAX_INFLATED_LEN`], trailing garbage, a bad checksum or a stream that
/// is not zlib at all.
pub fn inflate(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut decoder = flate2::read::ZlibDecoder::new(bytes);
    let mut out = Vec::new();
    (&mut decoder)
        .take(MAX_INFLATED_LEN as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| CertError::malformed(Stage::Zlib, e.to_string()))?;
    if out.len() > MAX_INFLATED_LEN {
        return Err(CertError::malformed(
            Stage::Zlib,
            format!("inflated size exceeds {MAX_INFLATED_LEN} bytes"),
        ));
    }
    if decoder.total_in() != bytes.len() as u64 {
        return Err(CertError::malformed(Stage::Zlib, "data after zlib stream"));
    }
    Ok(out)
}

/// Compresses with zlib at the best compression level (hcert spec §4.3).
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Parses a COSE_Sign1, tagged (18), CWT-tagged (61, 18) or untagged.
pub fn parse_cose_sign1(bytes: &[u8]) -> Result<CoseSign1> {
    let mut value: Value = ciborium::from_reader(bytes)
        .map_err(|e| CertError::malformed(Stage::Cose, format!("not CBOR: {e}")))?;
    if let Value::Tag(TAG_CWT, inner) = value {
        value = *inner;
    }
    if let Value::Tag(tag, inner) = value {
        if tag != TAG_COSE_SIGN1 {
            return Err(CertError::malformed(
                Stage::Cose,
                format!("unexpected CBOR tag {tag}"),
            ));
        }
        value = *inner;
    }
    CoseSign1::from_cbor_value(value)
        .map_err(|e| CertError::malformed(Stage::Cose, format!("not a COSE_Sign1: {e}")))
}

/// The CWT claims of a certificate (RFC 8392 §3).
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `iss` (1): issuing country, ISO 3166-1 alpha-2.
    pub iss: Option<String>,
    /// `iat` (6): issued at, Unix seconds.
    pub iat: Option<i64>,
    /// `exp` (4): expiration, Unix seconds.
    pub exp: Option<i64>,
    /// The certificate payload: the mhis payload map, or the EU DCC
    /// (content of claim −260 / key 1).
    pub payload: Value,
}

fn numeric_date(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i64::try_from(i128::from(*i)).ok(),
        Value::Float(f) if f.is_finite() => Some(f.floor() as i64),
        Value::Tag(1, inner) => numeric_date(inner),
        _ => None,
    }
}

fn int_key(k: &Value) -> Option<i128> {
    match k {
        Value::Integer(i) => Some(i128::from(*i)),
        _ => None,
    }
}

/// Parses the CWT claims map carried by the COSE payload.
pub fn parse_claims(kind: Kind, bytes: &[u8]) -> Result<Claims> {
    let value: Value = ciborium::from_reader(bytes)
        .map_err(|e| CertError::malformed(Stage::Cbor, format!("CWT not CBOR: {e}")))?;
    // Accept a CWT tag around the claims too (RFC 8392 §6).
    let value = match value {
        Value::Tag(TAG_CWT, inner) => *inner,
        v => v,
    };
    let Value::Map(entries) = value else {
        return Err(CertError::malformed(
            Stage::Cbor,
            "CWT claims are not a map",
        ));
    };
    let mut claims = Claims {
        iss: None,
        iat: None,
        exp: None,
        payload: Value::Null,
    };
    let mut payload = None;
    for (k, v) in entries {
        match int_key(&k) {
            Some(k) if k == CWT_ISS as i128 => match v {
                Value::Text(s) => claims.iss = Some(s),
                _ => return Err(CertError::malformed(Stage::Cbor, "iss is not text")),
            },
            Some(k) if k == CWT_IAT as i128 => {
                claims.iat = Some(
                    numeric_date(&v)
                        .ok_or_else(|| CertError::malformed(Stage::Cbor, "iat is not a date"))?,
                )
            }
            Some(k) if k == CWT_EXP as i128 => {
                claims.exp = Some(
                    numeric_date(&v)
                        .ok_or_else(|| CertError::malformed(Stage::Cbor, "exp is not a date"))?,
                )
            }
            Some(k) if kind == Kind::Mhc && k == MHC_CLAIM_KEY as i128 => payload = Some(v),
            Some(k) if kind == Kind::Dcc && k == HCERT_CLAIM_KEY as i128 => {
                let Value::Map(inner) = v else {
                    return Err(CertError::malformed(
                        Stage::Payload,
                        "hcert claim is not a map",
                    ));
                };
                payload = inner
                    .into_iter()
                    .find(|(k, _)| int_key(k) == Some(DCC_V1_KEY as i128))
                    .map(|(_, v)| v);
                // The DCC is a CBOR map (hcert spec §2.6.3 and the DCC
                // JSON schema), never e.g. a byte string.
                if payload
                    .as_ref()
                    .is_some_and(|p| !matches!(p, Value::Map(_)))
                {
                    return Err(CertError::malformed(Stage::Payload, "DCC is not a map"));
                }
            }
            _ => {}
        }
    }
    claims.payload = payload.ok_or_else(|| {
        CertError::malformed(Stage::Payload, "no health certificate claim in CWT")
    })?;
    Ok(claims)
}

/// A decoded, not yet verified certificate.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Which prefix it carried.
    pub kind: Kind,
    /// The COSE_Sign1 structure (needed to check the signature).
    pub cose: CoseSign1,
    /// Key identifier, protected header first (hcert spec §3.3.1).
    pub kid: Option<Vec<u8>>,
    /// The signature algorithm, if one this layer verifies.
    pub alg: Option<SignatureAlgorithm>,
    /// The CWT claims.
    pub claims: Claims,
}

impl Decoded {
    /// Builds a decoded certificate from COSE bytes (after inflation).
    pub fn from_cose_bytes(kind: Kind, bytes: &[u8]) -> Result<Self> {
        let cose = parse_cose_sign1(bytes)?;
        let kid = if !cose.protected.header.key_id.is_empty() {
            Some(cose.protected.header.key_id.clone())
        } else if !cose.unprotected.key_id.is_empty() {
            Some(cose.unprotected.key_id.clone())
        } else {
            None
        };
        let alg = cose
            .protected
            .header
            .alg
            .as_ref()
            .or(cose.unprotected.alg.as_ref())
            .and_then(SignatureAlgorithm::from_cose);
        let payload = cose
            .payload
            .as_deref()
            .ok_or_else(|| CertError::malformed(Stage::Cbor, "COSE payload is detached"))?;
        let claims = parse_claims(kind, payload)?;
        Ok(Self {
            kind,
            cose,
            kid,
            alg,
            claims,
        })
    }

    /// Checks the COSE signature with `key` (RFC 9052 §4.4, empty
    /// external AAD).
    pub fn verify_signature(&self, key: &VerificationKey) -> Result<()> {
        let alg = self.alg.ok_or(CertError::BadSignature)?;
        if !key.supports(alg) {
            return Err(CertError::BadSignature);
        }
        self.cose
            .verify_signature(b"", |sig, data| key.verify(alg, data, sig))
    }
}

/// Decodes a QR text through every stage, without checking the signature.
pub fn decode(text: &str) -> Result<Decoded> {
    let (kind, body) = unprefix(text)?;
    let compressed = base45_decode(body)?;
    let cose = inflate(&compressed)?;
    Decoded::from_cose_bytes(kind, &cose)
}

/// Builds, signs (ES256) and encodes a certificate into its QR text.
///
/// `payload` is placed under [`MHC_CLAIM_KEY`] for [`Kind::Mhc`] and under
/// −260 / 1 for [`Kind::Dcc`].
pub fn encode(
    kind: Kind,
    iss: &str,
    iat: i64,
    exp: i64,
    payload: Value,
    key: &SigningKey,
) -> Result<String> {
    let claim = match kind {
        Kind::Mhc => (Value::from(MHC_CLAIM_KEY), payload),
        Kind::Dcc => (
            Value::from(HCERT_CLAIM_KEY),
            Value::Map(vec![(Value::from(DCC_V1_KEY), payload)]),
        ),
    };
    let claims = Value::Map(vec![
        (Value::from(CWT_ISS), Value::Text(iss.to_owned())),
        (Value::from(CWT_IAT), Value::from(iat)),
        (Value::from(CWT_EXP), Value::from(exp)),
        claim,
    ]);
    let mut cwt = Vec::new();
    ciborium::into_writer(&claims, &mut cwt).map_err(|e| CertError::Encoding(e.to_string()))?;
    let cose = sign_cose(cwt, key)?;
    Ok(format!(
        "{}{}",
        kind.prefix(),
        base45_encode(&deflate(&cose))
    ))
}

/// Wraps `payload` in a tagged COSE_Sign1 signed with ES256, `kid` in the
/// protected header.
pub fn sign_cose(payload: Vec<u8>, key: &SigningKey) -> Result<Vec<u8>> {
    let protected = HeaderBuilder::new()
        .algorithm(coset::iana::Algorithm::ES256)
        .key_id(key.kid())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |data| key.sign(data))
        .build();
    coset::TaggedCborSerializable::to_tagged_vec(sign1)
        .map_err(|e| CertError::Encoding(format!("COSE: {e}")))
}

/// Converts a CBOR value to JSON for display (byte strings become hex,
/// tags are dropped, non-text map keys are stringified).
pub fn cbor_to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Integer(i) => {
            let n = i128::from(*i);
            i64::try_from(n)
                .map(J::from)
                .unwrap_or_else(|_| J::String(n.to_string()))
        }
        Value::Bytes(b) => J::String(crate::keys::hex(b)),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::Text(s) => J::String(s.clone()),
        Value::Bool(b) => J::Bool(*b),
        Value::Null => J::Null,
        Value::Tag(_, inner) => cbor_to_json(inner),
        Value::Array(a) => J::Array(a.iter().map(cbor_to_json).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Text(s) => s.clone(),
                        other => cbor_to_json(other).to_string(),
                    };
                    (key, cbor_to_json(v))
                })
                .collect(),
        ),
        _ => J::Null,
    }
}
