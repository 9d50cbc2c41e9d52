//! Assessments: one health assessment of one migrant at one site, under the
//! protocol of the destination country.

use crate::country::CountryCode;
use crate::error::FieldError;
use crate::ids::{AssessmentId, MigrantId, SiteId};
use crate::site::one_of;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Why the person is assessed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Labour migration (pre-employment).
    Labour,
    /// Refugee resettlement.
    Resettlement,
    /// An immigrant visa.
    ImmigrantVisa,
    /// A student visa.
    Student,
    /// Anything else.
    Other,
}

impl Purpose {
    /// All values.
    pub const ALL: [Purpose; 5] = [
        Self::Labour,
        Self::Resettlement,
        Self::ImmigrantVisa,
        Self::Student,
        Self::Other,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Labour => "labour",
            Self::Resettlement => "resettlement",
            Self::ImmigrantVisa => "immigrant_visa",
            Self::Student => "student",
            Self::Other => "other",
        }
    }

    /// Parses a wire name.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, one_of(raw, Self::ALL.map(|s| s.as_str()))))
    }
}

/// Where an assessment is in its life.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentStatus {
    /// Results are still being recorded.
    Open,
    /// Nothing is due; waiting for the physician.
    Complete,
    /// Signed off by the physician; changes only through an amendment.
    Finalised,
}

impl AssessmentStatus {
    /// All values.
    pub const ALL: [AssessmentStatus; 3] = [Self::Open, Self::Complete, Self::Finalised];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Complete => "complete",
            Self::Finalised => "finalised",
        }
    }

    /// Parses a wire name.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, one_of(raw, Self::ALL.map(|s| s.as_str()))))
    }

    /// Whether results may still be recorded or corrected.
    pub fn accepts_results(&self) -> bool {
        !matches!(self, Self::Finalised)
    }
}

/// A protocol identifier (`us-cdc-ti-tb`): lower-case letters, digits and
/// hyphens, known to the deployment's protocol set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProtocolId(String);

impl ProtocolId {
    /// Parses a protocol id and checks it is one of `known`.
    pub fn parse<'a>(
        field: &str,
        raw: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, FieldError> {
        let known: Vec<&str> = known.into_iter().collect();
        if known.contains(&raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                format!(
                    "'{raw}' is not a known protocol; known: {}",
                    known.join(", ")
                ),
            ))
        }
    }

    /// Wraps a stored id without checking it.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The raw fields of a new assessment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AssessmentInput {
    /// The migrant assessed.
    pub migrant_id: String,
    /// The site where it takes place.
    pub site_id: String,
    /// Why.
    pub purpose: String,
    /// Destination country.
    pub destination: String,
    /// The destination's protocol.
    pub protocol: String,
    /// The assessment date (defaults to today).
    #[serde(default)]
    pub assessment_date: Option<String>,
}

/// A parsed new assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssessment {
    /// The migrant assessed.
    pub migrant_id: MigrantId,
    /// The site.
    pub site_id: SiteId,
    /// Why.
    pub purpose: Purpose,
    /// Destination country.
    pub destination: CountryCode,
    /// Protocol.
    pub protocol: ProtocolId,
    /// Date of the assessment.
    pub assessment_date: NaiveDate,
}

impl NewAssessment {
    /// Parses the fields; the date may not be in the future nor more than a
    /// year in the past (back-entry of paper records).
    pub fn parse<'a>(
        input: &AssessmentInput,
        known_protocols: impl IntoIterator<Item = &'a str>,
        today: NaiveDate,
    ) -> Result<Self, FieldError> {
        let uuid = |field: &str, raw: &str| {
            raw.parse::<uuid::Uuid>()
                .map_err(|_| FieldError::new(field, format!("'{raw}' is not an identifier")))
        };
        let assessment_date = match input.assessment_date.as_deref().map(str::trim) {
            None | Some("") => today,
            Some(raw) => {
                let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                    FieldError::new(
                        "assessment_date",
                        format!("'{raw}' is not a real date of the form YYYY-MM-DD"),
                    )
                })?;
                if d > today {
                    return Err(FieldError::new(
                        "assessment_date",
                        "must not be in the future",
                    ));
                }
                if d < today - chrono::Duration::days(366) {
                    return Err(FieldError::new(
                        "assessment_date",
                        "must be within the last year",
                    ));
                }
                d
            }
        };
        Ok(Self {
            migrant_id: MigrantId(uuid("migrant_id", &input.migrant_id)?),
            site_id: SiteId(uuid("site_id", &input.site_id)?),
            purpose: Purpose::parse("purpose", &input.purpose)?,
            destination: CountryCode::parse("destination", &input.destination)?,
            protocol: ProtocolId::parse("protocol", &input.protocol, known_protocols)?,
            assessment_date,
        })
    }
}

/// A stored assessment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Identifier.
    pub id: AssessmentId,
    /// The migrant.
    pub migrant_id: MigrantId,
    /// The site.
    pub site_id: SiteId,
    /// Why.
    pub purpose: Purpose,
    /// Destination (ISO 3166-1 alpha-2).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub destination: CountryCode,
    /// Protocol.
    pub protocol: ProtocolId,
    /// Status.
    pub status: AssessmentStatus,
    /// Date of the assessment.
    pub assessment_date: NaiveDate,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it was finalised.
    pub finalised_at: Option<DateTime<Utc>>,
    /// The physician's final outcome, once finalised.
    pub final_outcome: Option<String>,
    /// The protocol engine's outcome when it was finalised.
    pub engine_outcome: Option<String>,
    /// Why the final outcome was raised above the engine's.
    pub final_reason: Option<String>,
    /// Who finalised it.
    pub finalised_by: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_fields() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let mut input = AssessmentInput {
            migrant_id: uuid::Uuid::now_v7().to_string(),
            site_id: uuid::Uuid::now_v7().to_string(),
            purpose: "labour".into(),
            destination: "RU".into(),
            protocol: "ru-labour".into(),
            assessment_date: None,
        };
        let a = NewAssessment::parse(&input, ["ru-labour"], today).unwrap();
        assert_eq!(a.assessment_date, today);
        input.protocol = "xx".into();
        assert_eq!(
            NewAssessment::parse(&input, ["ru-labour"], today)
                .unwrap_err()
                .field,
            "protocol"
        );
        input.protocol = "ru-labour".into();
        input.assessment_date = Some("2026-02-30".into());
        assert_eq!(
            NewAssessment::parse(&input, ["ru-labour"], today)
                .unwrap_err()
                .field,
            "assessment_date"
        );
        input.assessment_date = Some("2026-11-23".into());
        assert!(NewAssessment::parse(&input, ["ru-labour"], today).is_err());
        input.assessment_date = None;
        input.migrant_id = "42".into();
        assert_eq!(
            NewAssessment::parse(&input, ["ru-labour"], today)
                .unwrap_err()
                .field,
            "migrant_id"
        );
    }
}
