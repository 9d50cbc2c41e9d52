//! Issuing mhis certificates: payload → CWT → COSE_Sign1 (ES256) → zlib →
//! Base45 → `MHC1:` text (hcert spec v1.0.8 §3–§4).

use crate::error::{CertError, Result};
use crate::hcert::{Kind, encode};
use crate::keys::SigningKey;
use crate::payload::{MhcPayload, end_of_day};

/// A site's issuer: its signing key and the country it issues for.
#[derive(Debug, Clone)]
pub struct Issuer {
    key: SigningKey,
    country: String,
}

impl Issuer {
    /// An issuer signing with `key` for `country` (ISO 3166-1 alpha-2,
    /// becomes the CWT `iss`).
    pub fn new(key: SigningKey, country: &str) -> Self {
        Self {
            key,
            country: country.to_owned(),
        }
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The issuing country.
    pub fn country(&self) -> &str {
        &self.country
    }

    /// Issues a certificate at `issued_at` (Unix seconds), returning its QR
    /// text. `exp` is the last second (UTC) of the payload's valid-until day.
    pub fn issue(&self, payload: &MhcPayload, issued_at: i64) -> Result<String> {
        payload.validate()?;
        let exp = end_of_day(payload.valid_until())?;
        if exp < issued_at {
            return Err(CertError::InvalidPayload(
                "valid-until date lies before issuance".into(),
            ));
        }
        encode(
            Kind::Mhc,
            &self.country,
            issued_at,
            exp,
            payload.to_cbor()?,
            &self.key,
        )
    }
}
