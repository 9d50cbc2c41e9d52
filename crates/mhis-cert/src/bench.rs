//! Benchmark support: the bare signature check of a certificate.
//!
//! `mhis bench verify` compares full verification (QR text → verdict,
//! through [`crate::Verifier`]) with the signature check alone, on the same
//! bytes. [`BareEs256`] holds what that check needs — the P-256 public
//! key, the COSE `Sig_structure` (RFC 9052 §4.4) and the raw signature —
//! so that the baseline calls the signature library (`ring`, the one the
//! verifier uses) directly, with nothing of this crate in between.

use crate::error::{CertError, Result};
use crate::hcert::decode;
use crate::keys::VerificationKey;

/// The inputs of one ES256 signature check, extracted once.
#[derive(Debug, Clone)]
pub struct BareEs256 {
    /// The public key as an uncompressed SEC1 point.
    key: Vec<u8>,
    sig_structure: Vec<u8>,
    signature: Vec<u8>,
}

impl BareEs256 {
    /// Decodes a certificate text and keeps its `Sig_structure` (empty
    /// external AAD) and signature, to be checked with `key`. Fails if the
    /// text does not decode or `key` is not a P-256 key.
    pub fn from_text(text: &str, key: &VerificationKey) -> Result<Self> {
        let VerificationKey::P256(key) = key else {
            return Err(CertError::Key("not a P-256 key".into()));
        };
        let decoded = decode(text)?;
        Ok(Self {
            key: key.to_encoded_point(false).as_bytes().to_vec(),
            sig_structure: decoded.cose.tbs_data(b""),
            signature: decoded.cose.signature,
        })
    }

    /// The signed bytes: the COSE `Sig_structure`.
    pub fn sig_structure(&self) -> &[u8] {
        &self.sig_structure
    }

    /// Checks the signature with `ring` alone: ECDSA P-256 over the
    /// `Sig_structure` (SHA-256 included), fixed 64-byte `r ‖ s` form.
    pub fn verify(&self) -> bool {
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            &self.key,
        )
        .verify(&self.sig_structure, &self.signature)
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HealthClearance, Issuer, MhcPayload, Outcome, PersonName, SigningKey};

    #[test]
    fn bare_check_accepts_the_issued_signature_only() {
        let key = SigningKey::from_secret_bytes(&[0x33; 32]).unwrap();
        let payload = MhcPayload::HealthClearance(HealthClearance {
            name: PersonName {
                family_name: None,
                family_name_mrz: "DOE".into(),
                given_name: None,
                given_name_mrz: None,
            },
            date_of_birth: "1990".into(),
            certificate_id: "MHC-KE-1".into(),
            assessment_date: "2026-05-20".into(),
            destination_country: "CA".into(),
            protocol_id: "mhis-tb-screening".into(),
            protocol_version: "1".into(),
            outcome: Outcome::Cleared,
            valid_until: "2026-11-30".into(),
            issuing_site: "KE-NBO-01".into(),
        });
        let text = Issuer::new(key.clone(), "KE")
            .issue(&payload, 1_780_000_000)
            .unwrap();
        let bare = BareEs256::from_text(&text, &key.verification_key()).unwrap();
        assert!(bare.verify());
        let other = SigningKey::from_secret_bytes(&[0x44; 32]).unwrap();
        let wrong = BareEs256::from_text(&text, &other.verification_key()).unwrap();
        assert!(!wrong.verify());
    }
}
