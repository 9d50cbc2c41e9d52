//! HL7 FHIR R4 (4.0.1) for mhis: the one place where mhis data is mapped
//! to and from FHIR resources.
//!
//! The resources are the typed model of the [`fhir`] crate, re-exported as
//! [`model`] so that callers need no dependency of their own. Every mapping
//! is a pure function (no I/O, no clock except where a fresh identifier or
//! timestamp is asked for): domain values in, FHIR resources out, and back,
//! with every refusal a [`FhirError`] naming the element by a FHIRPath-like
//! path.
//!
//! | module | owns |
//! |---|---|
//! | [`patient`] | migrant ⇄ `Patient` |
//! | [`encounter`] | assessment → `Encounter` |
//! | [`observation`] | observation ⇄ `Observation`, coded from the vocabulary |
//! | [`diagnostic_report`] | chest X-ray reading → `DiagnosticReport` |
//! | [`condition`] | classes the protocol found → `Condition` |
//! | [`site`] | site → `Organization` and `Location` |
//! | [`immunization`] | vaccination ⇄ `Immunization`, coded by CVX from the vaccine catalogue |
//! | [`outcome`] | errors → `OperationOutcome` |
//! | [`bundle`] | `searchset`, `batch-response`/`transaction-response` Bundles, resource helpers |
//! | [`message`] | message Bundles: build, and parse with structural checks |
//! | [`referral`] | referral messages (`ServiceRequest`, `Task`, `Patient`, `Observation`, `Condition`) ⇄ `mhis_domain::referral::ReferralMessage`, and stored referrals → `ServiceRequest` and `Task` |
//! | [`uri`] | every system and extension URI mhis writes |
//!
pub mod bundle;
pub mod condition;
pub mod diagnostic_report;
pub mod encounter;
mod error;
pub mod immunization;
pub mod message;
pub mod observation;
pub mod outcome;
pub mod patient;
pub mod referral;
pub mod site;
pub mod uri;
mod util;

pub use error::{FhirError, Issue, IssueKind};

/// The FHIR R4 model: `model::resources::Patient`, `model::types::Coding`,
/// `model::codes::ObservationStatus`, …
pub use fhir::r4 as model;
