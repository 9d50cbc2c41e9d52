//! Errors → `OperationOutcome`: one issue per problem, `expression` naming
//! the element, `diagnostics` saying what is wrong.
//!
//! FHIR routes answer every refusal with one of these (the JSON API keeps
//! its own `{"error", "field", "message"}` shape).

use crate::error::{FhirError, IssueKind};
use crate::util::string;
use fhir::r4::coded::Coded;
use fhir::r4::codes::{IssueSeverity, IssueType};
use fhir::r4::resources::OperationOutcome;
use fhir::r4::resources::operation_outcome::OperationOutcomeIssue;
use mhis_domain::FieldError;

/// One issue.
pub fn issue(
    severity: IssueSeverity,
    code: IssueType,
    expression: Option<&str>,
    diagnostics: &str,
) -> OperationOutcomeIssue {
    OperationOutcomeIssue {
        severity: Coded::Known(severity),
        code: Coded::Known(code),
        diagnostics: Some(string(diagnostics)),
        expression: expression.into_iter().map(string).collect(),
        ..Default::default()
    }
}

/// An outcome holding `first` and then `rest`.
pub fn outcome(
    first: OperationOutcomeIssue,
    rest: impl IntoIterator<Item = OperationOutcomeIssue>,
) -> OperationOutcome {
    let mut issues = vec1::Vec1::new(first);
    issues.extend(rest);
    OperationOutcome {
        id: None,
        meta: None,
        implicit_rules: None,
        implicit_rules_ext: None,
        language: None,
        language_ext: None,
        text: None,
        contained: Vec::new(),
        extension: Vec::new(),
        modifier_extension: Vec::new(),
        issue: issues,
    }
}

/// Every issue of `err`, each an `error` naming its element.
pub fn from_error(err: &FhirError) -> OperationOutcome {
    let mut issues = err.issues().iter().map(|i| {
        issue(
            IssueSeverity::Error,
            i.kind.issue_type(),
            Some(&i.path),
            &i.message,
        )
    });
    let first = issues
        .next()
        .unwrap_or_else(|| issue(IssueSeverity::Error, IssueType::Processing, None, "refused"));
    outcome(first, issues)
}

/// A domain error, its field (`document.number`) as the expression.
pub fn from_field_error(err: &FieldError) -> OperationOutcome {
    outcome(
        issue(
            IssueSeverity::Error,
            IssueKind::Value.issue_type(),
            Some(&err.field),
            &err.message,
        ),
        [],
    )
}

/// A single error without an element (`not-found`, `forbidden`, …).
pub fn error(code: IssueType, diagnostics: &str) -> OperationOutcome {
    outcome(issue(IssueSeverity::Error, code, None, diagnostics), [])
}

/// An outcome saying all went well (`information`, `informational`).
pub fn all_ok(diagnostics: &str) -> OperationOutcome {
    outcome(
        issue(
            IssueSeverity::Information,
            IssueType::Informational,
            None,
            diagnostics,
        ),
        [],
    )
}
