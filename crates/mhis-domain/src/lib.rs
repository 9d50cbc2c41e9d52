//! The mhis domain core.
//!
//! This crate owns the entities of a migration health assessment programme
//! (sites, migrants, assessments, observations) as *parsed* value types: a
//! value of one of these types has already passed every check, so code that
//! holds one never re-validates it. It also owns the observation vocabulary
//! and the rules that read it.
//!
//! It deliberately knows nothing of SQL, HTTP, files or async: every input
//! arrives as a value, every answer leaves as a value. Storage, the server and
//! the CLI depend on this crate; it depends on none of them.

pub mod access;
pub mod assessment;
pub mod audit;
pub mod country;
pub mod error;
pub mod finalisation;
pub mod ids;
pub mod indicator;
pub mod instrument;
pub mod mhpss;
pub mod migrant;
pub mod observation;
pub mod page;
pub mod protocol;
pub mod referral;
pub mod site;
pub mod text;
pub mod training;
pub mod transliteration;
pub mod vaccination;
pub mod vocabulary;

pub use error::{DomainError, FieldError};
