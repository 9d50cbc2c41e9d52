//! `mhis-cert`: verifiable migration health certificates.
//!
//! This crate owns the certificate layer of mhis:
//!
//! * the HCERT stack, encode and decode ([`hcert`]): CWT claims
//!   (RFC 8392) → COSE_Sign1 (RFC 9052) → zlib → Base45 (RFC 9285) →
//!   prefix (`MHC1:` for ours, `HC1:` for EU DCC) → QR code ([`qr`]),
//!   following hcert spec v1.0.8 (`ehn-dcc-development/hcert-spec`);
//! * keys ([`keys`]): ES256 signing, ES256/PS256/EdDSA verification, key
//!   identifiers, DSC certificates;
//! * the certificate payload ([`payload`]) and issuing ([`issue`]);
//! * the signed trust list and revocation list ([`trust`]);
//! * verification verdicts against a given clock ([`verify`]).
//!
//! It must not know about the database, HTTP, or any clock but the one it
//! is given: callers load lists and keys, and store issuances and audit
//! records, themselves. Every input is bytes or text; no function panics on
//! malformed input.

pub mod bench;
pub mod dcc;
pub mod error;
pub mod hcert;
pub mod issue;
pub mod keys;
pub mod node;
pub mod payload;
pub mod pdf;
pub mod qr;
pub mod svg;
pub mod trust;
pub mod verify;

pub use error::{CertError, Result, Stage};
pub use hcert::{Decoded, Kind, decode};
pub use issue::Issuer;
pub use keys::{DscCertificate, SigningKey, VerificationKey};
pub use payload::{HealthClearance, MhcPayload, Outcome, PersonName, TrainingAttendance};
pub use qr::{decode_qr_image, qr_png};
pub use trust::{RevocationList, TrustList, TrustedKey, revocation_hash};
pub use verify::{Verdict, Verification, Verifier};
