//! The single error type of the certificate layer.
//!
//! Decoding failures carry the [`Stage`] at which the input was found
//! malformed, so that a verifier can report `malformed` with its stage
//! instead of panicking or hiding the cause.

use serde::{Deserialize, Serialize};

/// A stage of the HCERT decoding pipeline (hcert spec v1.0.8, §3–§4):
/// `prefix → base45 → zlib → cose → cbor → payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The context identifier prefix (`MHC1:` or `HC1:`) is missing or unknown.
    Prefix,
    /// The text is not valid Base45 (RFC 9285).
    Base45,
    /// The bytes are not a valid, bounded zlib stream (RFC 1950).
    Zlib,
    /// The bytes are not a COSE_Sign1 structure (RFC 9052 §4.2).
    Cose,
    /// The COSE payload is not a well-formed CWT claims map (RFC 8392).
    Cbor,
    /// The CWT carries no certificate payload, or one that does not match
    /// the expected schema.
    Payload,
}

impl Stage {
    /// The stage name as used in verdicts (`"prefix"`, `"base45"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Prefix => "prefix",
            Stage::Base45 => "base45",
            Stage::Zlib => "zlib",
            Stage::Cose => "cose",
            Stage::Cbor => "cbor",
            Stage::Payload => "payload",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the certificate layer.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The input could not be decoded at the given stage.
    #[error("malformed at {stage}: {detail}")]
    Malformed {
        /// Where decoding stopped.
        stage: Stage,
        /// A human-readable cause.
        detail: String,
    },
    /// A key or certificate could not be parsed or is of an unsupported type.
    #[error("key error: {0}")]
    Key(String),
    /// A signature did not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// A signed list (trust list or revocation list) is invalid.
    #[error("signed list error: {0}")]
    SignedList(String),
    /// Encoding (CBOR, QR code, image) failed.
    #[error("encoding error: {0}")]
    Encoding(String),
    /// A QR code could not be read from an image.
    #[error("QR code not readable: {0}")]
    QrDecode(String),
    /// A payload value is outside what this layer accepts (e.g. a date that
    /// is not `YYYY-MM-DD`).
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
}

impl CertError {
    /// Shorthand for a [`CertError::Malformed`] error.
    pub fn malformed(stage: Stage, detail: impl Into<String>) -> Self {
        CertError::Malformed {
            stage,
            detail: detail.into(),
        }
    }

    /// The malformed stage, if this is a decoding error.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            CertError::Malformed { stage, .. } => Some(*stage),
            _ => None,
        }
    }
}

/// Result alias of the certificate layer.
pub type Result<T> = std::result::Result<T, CertError>;
