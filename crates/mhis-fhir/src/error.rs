//! The one error type of the FHIR layer.
//!
//! Every problem names the element it is about by a FHIRPath-like path
//! (`Patient.name[0].family`, `Bundle.entry[2].resource.subject.reference`),
//! so that an `OperationOutcome` can point at it (`issue.expression`) and a
//! sender can fix its message without guessing.

use fhir::r4::codes::IssueType;
use std::fmt;

/// What kind of problem an issue is; maps onto FHIR's `IssueType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// A required element is missing (`required`).
    Required,
    /// An element has a value mhis cannot accept (`value`).
    Value,
    /// The content is structurally wrong: not JSON of the expected shape, a
    /// Bundle of the wrong type, entries out of order (`structure`).
    Structure,
    /// A code or system mhis does not know (`code-invalid`).
    CodeInvalid,
    /// A reference that does not resolve (`not-found`).
    NotFound,
    /// Something valid in FHIR that mhis does not support (`not-supported`).
    NotSupported,
}

impl IssueKind {
    /// The FHIR `IssueType` for this kind.
    pub fn issue_type(self) -> IssueType {
        match self {
            Self::Required => IssueType::Required,
            Self::Value => IssueType::Value,
            Self::Structure => IssueType::Structure,
            Self::CodeInvalid => IssueType::CodeInvalid,
            Self::NotFound => IssueType::NotFound,
            Self::NotSupported => IssueType::NotSupported,
        }
    }
}

/// One problem with one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// FHIRPath-like path of the element (`Patient.birthDate`).
    pub path: String,
    /// What kind of problem.
    pub kind: IssueKind,
    /// What is wrong, in a sentence a person can act on.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why FHIR content was refused: one or more [`Issue`]s, never none.
///
/// Mapping functions collect every problem they can find in one pass (a
/// Patient without a name *and* without a birth date reports both), so that
/// one `OperationOutcome` lists them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FhirError {
    issues: Vec<Issue>,
}

impl fmt::Display for FhirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            issue.fmt(f)?;
        }
        Ok(())
    }
}

impl FhirError {
    /// One problem.
    pub fn new(path: impl Into<String>, kind: IssueKind, message: impl Into<String>) -> Self {
        Self {
            issues: vec![Issue {
                path: path.into(),
                kind,
                message: message.into(),
            }],
        }
    }

    /// A required element is missing.
    pub fn required(path: impl Into<String>) -> Self {
        Self::new(path, IssueKind::Required, "is required")
    }

    /// An element has a value mhis cannot accept.
    pub fn value(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(path, IssueKind::Value, message)
    }

    /// The content has the wrong structure.
    pub fn structure(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(path, IssueKind::Structure, message)
    }

    /// The same error with the message of its first issue replaced.
    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.issues[0].message = message.into();
        self
    }

    /// Several errors as one; `None` when there are none.
    pub fn merge(errors: impl IntoIterator<Item = FhirError>) -> Option<Self> {
        let issues: Vec<Issue> = errors.into_iter().flat_map(|e| e.issues).collect();
        (!issues.is_empty()).then_some(Self { issues })
    }

    /// Every issue, in the order found.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// The path of the first issue.
    pub fn path(&self) -> &str {
        &self.issues[0].path
    }

    /// Whether some issue is about `path` exactly.
    pub fn names(&self, path: &str) -> bool {
        self.issues.iter().any(|i| i.path == path)
    }

    /// The same error with every path moved under `prefix`: the resource
    /// type at the head of each path is replaced by it, so that
    /// `Patient.name` within `Bundle.entry[1].resource` gives
    /// `Bundle.entry[1].resource.name`.
    pub fn within(mut self, prefix: &str) -> Self {
        for issue in &mut self.issues {
            let rest = match issue.path.find(['.', '[']) {
                Some(at) if issue.path[..at].chars().all(|c| c.is_ascii_alphabetic()) => {
                    &issue.path[at..]
                }
                _ if issue.path.chars().all(|c| c.is_ascii_alphabetic()) => "",
                _ => {
                    issue.path = format!("{prefix}.{}", issue.path);
                    continue;
                }
            };
            issue.path = format!("{prefix}{rest}");
        }
        self
    }

    /// A JSON (de)serialisation error of the element at `path`, with
    /// serde's location appended when it knows one.
    pub(crate) fn json(path: &str, err: &serde_json::Error) -> Self {
        Self::structure(path, format!("is not valid FHIR R4 JSON: {err}"))
    }
}

/// Collects errors while a mapping reads every element.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FhirError>);

impl Problems {
    /// Keeps the error of `r`, giving back its value.
    pub(crate) fn take<T>(&mut self, r: Result<T, FhirError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Records an error.
    pub(crate) fn push(&mut self, e: FhirError) {
        self.0.push(e);
    }

    /// `Ok(())` when nothing was recorded.
    pub(crate) fn finish(self) -> Result<(), FhirError> {
        match FhirError::merge(self.0) {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}
