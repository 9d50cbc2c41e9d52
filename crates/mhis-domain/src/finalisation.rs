//! Finalisation and amendment of an assessment by a physician.
//!
//! The final outcome may be more severe than the engine's decision, never
//! less (protocols.md §6; as in eMedical, a physician can raise a grade but
//! not lower it). Raising it needs a written reason. A finalised assessment
//! changes only through an amendment, which re-opens it and is audited.

use crate::error::FieldError;
use crate::protocol::{Outcome, severity_allows};
use crate::text;
use serde::Deserialize;

/// A finalisation request as received.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinaliseInput {
    /// `cleared`, `cleared_with_follow_up` or `not_cleared`.
    pub outcome: String,
    /// Why the outcome is more severe than the engine's (required then).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A checked finalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finalisation {
    /// The engine's outcome when finalised.
    pub engine_outcome: Outcome,
    /// The physician's outcome.
    pub final_outcome: Outcome,
    /// The reason for raising it, if raised.
    pub reason: Option<String>,
}

impl Finalisation {
    /// Checks a finalisation against the engine's current decision.
    pub fn parse(engine: Outcome, input: &FinaliseInput) -> Result<Self, FieldError> {
        let final_outcome = Outcome::parse(&input.outcome)
            .filter(|o| *o != Outcome::Pending)
            .ok_or_else(|| {
                FieldError::new(
                    "outcome",
                    format!(
                        "'{}' is not one of: cleared, cleared_with_follow_up, not_cleared",
                        input.outcome
                    ),
                )
            })?;
        if !severity_allows(engine, final_outcome) {
            let message = if engine == Outcome::Pending {
                "results are still due; only not_cleared can be given before they are in".to_owned()
            } else {
                format!(
                    "may not be less severe than the protocol's outcome ({})",
                    engine.as_str()
                )
            };
            return Err(FieldError::new("outcome", message));
        }
        let raised = final_outcome != engine;
        let reason = text::optional("reason", input.reason.as_deref(), 1000)?;
        if raised && reason.is_none() {
            return Err(FieldError::new(
                "reason",
                format!(
                    "is required to raise the outcome above the protocol's ({})",
                    engine.as_str()
                ),
            ));
        }
        Ok(Self {
            engine_outcome: engine,
            final_outcome,
            reason,
        })
    }
}

/// An amendment request: why a finalised assessment is re-opened.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AmendInput {
    /// The reason (required).
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    fn input(outcome: &str, reason: Option<&str>) -> FinaliseInput {
        FinaliseInput {
            outcome: outcome.into(),
            reason: reason.map(String::from),
        }
    }

    #[test]
    fn the_engine_outcome_needs_no_reason() {
        let f = Finalisation::parse(Cleared, &input("cleared", None)).unwrap();
        assert_eq!(f.final_outcome, Cleared);
        assert_eq!(f.reason, None);
    }

    #[test]
    fn raising_needs_a_reason_and_lowering_is_refused() {
        assert_eq!(
            Finalisation::parse(Cleared, &input("not_cleared", None))
                .unwrap_err()
                .field,
            "reason"
        );
        let f = Finalisation::parse(Cleared, &input("not_cleared", Some("cavity on CT"))).unwrap();
        assert_eq!(f.final_outcome, NotCleared);
        let e = Finalisation::parse(NotCleared, &input("cleared", Some("x"))).unwrap_err();
        assert_eq!(e.field, "outcome");
        assert!(e.message.contains("less severe"));
        assert!(Finalisation::parse(ClearedWithFollowUp, &input("cleared", Some("x"))).is_err());
    }

    #[test]
    fn pending_can_only_be_finalised_as_not_cleared() {
        assert!(Finalisation::parse(Pending, &input("cleared", Some("x"))).is_err());
        assert!(Finalisation::parse(Pending, &input("not_cleared", None)).is_err());
        assert!(Finalisation::parse(Pending, &input("not_cleared", Some("refused X-ray"))).is_ok());
        assert!(Finalisation::parse(Cleared, &input("pending", None)).is_err());
        assert!(Finalisation::parse(Cleared, &input("fit", None)).is_err());
    }
}
