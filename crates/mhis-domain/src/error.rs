//! Errors of the domain layer: every one names the field it is about.

use std::fmt;

/// A value that failed to parse, with the field it came from.
///
/// `field` is a dotted path as a client would write it
/// (`document.number`, `observations[3].value`), so the API can hand it back
/// unchanged and a form can show the message next to the right input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the offending field.
    pub field: String,
    /// What is wrong, in a sentence a clerk can act on.
    pub message: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, nested under a parent path (`document` + `number`
    /// gives `document.number`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every way a domain operation can refuse its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// An input value is malformed or out of range.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// The input is well-formed but conflicts with the current state
    /// (for example, recording results on a finalised assessment).
    #[error("{field}: {message}")]
    Conflict {
        /// The field the conflict is about.
        field: String,
        /// What conflicts.
        message: String,
    },
}

impl DomainError {
    /// Shorthand for an invalid-field error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(field, message))
    }

    /// Shorthand for a conflict.
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }
}
