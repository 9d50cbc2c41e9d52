//! Verification verdicts, computed against a given clock so that tests can
//! pin time.
//!
//! Checks run in this order and the first failure is the verdict:
//!
//! 1. decoding: `malformed` with its [`Stage`] (prefix, base45, zlib, cose,
//!    cbor, payload); an mhis payload must also match its schema, and the
//!    CWT must carry `iss`, `iat` and `exp` (hcert spec v1.0.8 §3.3.2);
//! 2. `trust_list_stale`: the trust list (or revocation list) is older than
//!    the configured freshness limit, so no key lookup is trusted;
//! 3. `unknown_key`: no trust-list key has the certificate's `kid`
//!    (protected header first, hcert spec §3.3.1);
//! 4. `bad_signature`: no key sharing that `kid` verifies the signature;
//! 5. `key_not_allowed`: the key was not valid at signing time (`iat`) or
//!    is not valid now, belongs to another country than `iss`, or may not
//!    sign the certificate's protocol;
//! 6. `not_yet_valid`: `iat` lies after the clock;
//! 7. `expired`: the clock lies after `exp` (or after the payload's
//!    valid-until day);
//! 8. `revoked`: `SHA-256(iss ‖ certificate id)[..16]` is on the
//!    revocation list.
//!
//! The payload is only reported once the signature checked out: data that
//! failed authentication is never shown as if it came from the issuer.

use serde::{Deserialize, Serialize};

use crate::error::{CertError, Result, Stage};
use crate::hcert::{Decoded, Kind, cbor_to_json, decode};
use crate::keys::VerificationKey;
use crate::payload::{MhcPayload, end_of_day};
use crate::trust::{DCC_PROTOCOL, RevocationList, TrustList, TrustedKey};

/// The outcome of verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Valid,
    /// Decoding failed at a stage.
    Malformed,
    /// No trusted key has the certificate's `kid`.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// The signing key may not sign this certificate (validity window,
    /// country or protocol).
    KeyNotAllowed,
    /// Issued after the verification clock.
    NotYetValid,
    /// Expired at the verification clock.
    Expired,
    /// On the revocation list.
    Revoked,
    /// The trust or revocation list is older than the freshness limit.
    TrustListStale,
}

/// A verification result, serialisable as
/// `{"verdict", "stage", "signature_valid", "kind", "payload"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// The malformed stage, when `verdict` is `malformed`.
    pub stage: Option<Stage>,
    /// Whether the signature verified; `None` when verification stopped
    /// before the signature was checked.
    pub signature_valid: Option<bool>,
    /// `mhc` or `dcc`, once the prefix was recognised.
    pub kind: Option<Kind>,
    /// The payload as JSON, once the signature verified.
    pub payload: Option<serde_json::Value>,
    /// Human-readable cause (not serialised).
    #[serde(skip)]
    pub detail: String,
    /// Site of the signing key, once the signature verified (not
    /// serialised).
    #[serde(skip)]
    pub site: Option<String>,
}

impl Verification {
    fn fail(verdict: Verdict, kind: Option<Kind>, detail: impl Into<String>) -> Self {
        Self {
            verdict,
            stage: None,
            signature_valid: None,
            kind,
            payload: None,
            detail: detail.into(),
            site: None,
        }
    }

    fn malformed(kind: Option<Kind>, err: &CertError) -> Self {
        let mut v = Self::fail(Verdict::Malformed, kind, err.to_string());
        v.stage = err.stage().or(Some(Stage::Payload));
        v
    }

    /// Whether the verdict is `valid`.
    pub fn is_valid(&self) -> bool {
        self.verdict == Verdict::Valid
    }
}

/// Default freshness limit of trust and revocation lists: 48 hours.
pub const DEFAULT_MAX_LIST_AGE_SECS: i64 = 48 * 3600;

/// Verifies certificate texts against a trust list and an optional
/// revocation list.
#[derive(Debug, Clone)]
pub struct Verifier {
    trust_list: TrustList,
    /// Each trusted key's parsed public key (same order as the list), so
    /// a verification does not parse key material again.
    parsed: Vec<Option<VerificationKey>>,
    revocations: Option<RevocationList>,
    max_list_age: i64,
}

impl Verifier {
    /// A verifier over an already verified trust list; lists older than
    /// `max_list_age_secs` at verification time give `trust_list_stale`.
    pub fn new(trust_list: TrustList, max_list_age_secs: i64) -> Self {
        let parsed = trust_list
            .keys
            .iter()
            .map(|k| k.verification_key().ok())
            .collect();
        Self {
            trust_list,
            parsed,
            revocations: None,
            max_list_age: max_list_age_secs,
        }
    }

    /// Adds a revocation list (subject to the same freshness limit).
    pub fn with_revocations(mut self, list: RevocationList) -> Self {
        self.revocations = Some(list);
        self
    }

    /// Builds a verifier from signed lists, checking them against the
    /// trust anchors.
    pub fn from_signed(
        signed_trust_list: &[u8],
        signed_revocation_list: Option<&[u8]>,
        anchors: &[VerificationKey],
        max_list_age_secs: i64,
    ) -> Result<Self> {
        let mut v = Self::new(
            TrustList::verify(signed_trust_list, anchors)?,
            max_list_age_secs,
        );
        if let Some(r) = signed_revocation_list {
            v = v.with_revocations(RevocationList::verify(r, anchors)?);
        }
        Ok(v)
    }

    /// The trust list in use.
    pub fn trust_list(&self) -> &TrustList {
        &self.trust_list
    }

    /// Verifies a QR text at `now` (Unix seconds). Never panics on any
    /// input.
    pub fn verify(&self, text: &str, now: i64) -> Verification {
        let decoded = match decode(text) {
            Ok(d) => d,
            Err(e) => {
                let kind = crate::hcert::unprefix(text).ok().map(|(k, _)| k);
                return Verification::malformed(kind, &e);
            }
        };
        self.verify_decoded(&decoded, now)
    }

    /// Verifies an already decoded certificate at `now`.
    pub fn verify_decoded(&self, d: &Decoded, now: i64) -> Verification {
        let kind = Some(d.kind);
        // Stage `payload`/`cbor`: schema and mandatory claims.
        let mut facts = match Facts::of(d) {
            Ok(f) => f,
            Err(e) => return Verification::malformed(kind, &e),
        };

        let stale = |issued_at: i64| now.saturating_sub(issued_at) > self.max_list_age;
        if stale(self.trust_list.issued_at)
            || self
                .revocations
                .as_ref()
                .is_some_and(|r| stale(r.issued_at))
        {
            return Verification::fail(Verdict::TrustListStale, kind, "list older than limit");
        }

        let Some(kid) = d.kid.as_deref() else {
            return Verification::fail(Verdict::UnknownKey, kind, "no kid");
        };
        let candidates: Vec<(&TrustedKey, Option<&VerificationKey>)> = self
            .trust_list
            .keys
            .iter()
            .zip(&self.parsed)
            .filter(|(k, _)| k.kid == kid)
            .map(|(k, parsed)| (k, parsed.as_ref()))
            .collect();
        if candidates.is_empty() {
            return Verification::fail(Verdict::UnknownKey, kind, "kid not in trust list");
        }
        let verifying: Vec<&TrustedKey> = candidates
            .into_iter()
            .filter(|(_, key)| key.is_some_and(|key| d.verify_signature(key).is_ok()))
            .map(|(k, _)| k)
            .collect();
        if verifying.is_empty() {
            let mut v =
                Verification::fail(Verdict::BadSignature, kind, "signature does not verify");
            v.signature_valid = Some(false);
            return v;
        }

        let mut v = Verification::fail(Verdict::Valid, kind, "");
        v.signature_valid = Some(true);
        v.payload = Some(std::mem::take(&mut facts.json));

        let allowed = verifying.iter().find(|k| key_allows(k, &facts, now));
        let Some(key) = allowed else {
            v.verdict = Verdict::KeyNotAllowed;
            v.detail = "key not valid for this time, country or protocol".into();
            v.site = verifying.first().map(|k| k.site.clone());
            return v;
        };
        v.site = Some(key.site.clone());

        if facts.iat > now {
            v.verdict = Verdict::NotYetValid;
            v.detail = "issued after the verification clock".into();
        } else if now > facts.exp {
            v.verdict = Verdict::Expired;
            v.detail = "expired".into();
        } else if self
            .revocations
            .as_ref()
            .is_some_and(|r| r.is_revoked(&facts.iss, &facts.certificate_id))
        {
            v.verdict = Verdict::Revoked;
            v.detail = "on the revocation list".into();
        }
        v
    }
}

fn key_allows(k: &TrustedKey, f: &Facts, now: i64) -> bool {
    let window = k.valid_from..=k.valid_until;
    window.contains(&f.iat)
        && window.contains(&now)
        && k.country.eq_ignore_ascii_case(&f.iss)
        && k.protocols.iter().any(|p| p == &f.protocol)
}

/// What verification needs from a decoded certificate.
struct Facts {
    iss: String,
    iat: i64,
    exp: i64,
    protocol: String,
    certificate_id: String,
    json: serde_json::Value,
}

impl Facts {
    fn of(d: &Decoded) -> Result<Self> {
        let c = &d.claims;
        let missing = |n: &str| CertError::malformed(Stage::Cbor, format!("CWT lacks {n}"));
        let iss = c.iss.clone().ok_or_else(|| missing("iss"))?;
        let iat = c.iat.ok_or_else(|| missing("iat"))?;
        let mut exp = c.exp.ok_or_else(|| missing("exp"))?;
        match d.kind {
            Kind::Mhc => {
                let p = MhcPayload::from_cbor(&c.payload)
                    .and_then(|p| p.validate().map(|_| p))
                    .map_err(|e| CertError::malformed(Stage::Payload, e.to_string()))?;
                let until = end_of_day(p.valid_until())
                    .map_err(|e| CertError::malformed(Stage::Payload, e.to_string()))?;
                exp = exp.min(until);
                Ok(Self {
                    iss,
                    iat,
                    exp,
                    protocol: p.protocol_id().to_owned(),
                    certificate_id: p.certificate_id().to_owned(),
                    json: serde_json::to_value(&p)
                        .map_err(|e| CertError::malformed(Stage::Payload, e.to_string()))?,
                })
            }
            Kind::Dcc => {
                let json = cbor_to_json(&c.payload);
                let certificate_id = ["v", "t", "r"]
                    .iter()
                    .find_map(|g| json.get(*g)?.get(0)?.get("ci")?.as_str())
                    .unwrap_or_default()
                    .to_owned();
                Ok(Self {
                    iss,
                    iat,
                    exp,
                    protocol: DCC_PROTOCOL.to_owned(),
                    certificate_id,
                    json,
                })
            }
        }
    }
}
