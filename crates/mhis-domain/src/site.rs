//! Sites: the places where mhis is used (assessment centres, laboratories,
//! points of entry, health authorities, treatment centres).

use crate::country::CountryCode;
use crate::error::FieldError;
use crate::ids::SiteId;
use crate::text;
use serde::{Deserialize, Serialize};

/// What a site does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// Runs migration health assessments.
    AssessmentCentre,
    /// Performs laboratory tests.
    Laboratory,
    /// Takes and reads radiographs.
    Radiology,
    /// An airport, port or ground crossing with health screening.
    PointOfEntry,
    /// A public-health authority that receives notifications.
    HealthAuthority,
    /// Treats referred conditions.
    TreatmentCentre,
}

impl SiteKind {
    /// All kinds, in the order forms list them.
    pub const ALL: [SiteKind; 6] = [
        Self::AssessmentCentre,
        Self::Laboratory,
        Self::Radiology,
        Self::PointOfEntry,
        Self::HealthAuthority,
        Self::TreatmentCentre,
    ];

    /// The wire name (`assessment_centre`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AssessmentCentre => "assessment_centre",
            Self::Laboratory => "laboratory",
            Self::Radiology => "radiology",
            Self::PointOfEntry => "point_of_entry",
            Self::HealthAuthority => "health_authority",
            Self::TreatmentCentre => "treatment_centre",
        }
    }

    /// Parses a wire name.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, one_of(raw, Self::ALL.map(|k| k.as_str()))))
    }
}

/// The message for a value outside a closed list.
pub(crate) fn one_of<'a>(raw: &str, allowed: impl IntoIterator<Item = &'a str>) -> String {
    let allowed: Vec<&str> = allowed.into_iter().collect();
    format!("'{raw}' is not one of: {}", allowed.join(", "))
}

/// A short code that people use for a site (`TJ-DYU-01`): 2–16 upper-case
/// letters, digits or hyphens. It prefixes the site's registration numbers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SiteCode(String);

impl SiteCode {
    /// Parses a site code; lower case is accepted and upper-cased.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let upper = raw.trim().to_ascii_uppercase();
        let ok_len = (2..=16).contains(&upper.len());
        let ok_chars = upper
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !ok_len || !ok_chars || upper.starts_with('-') || upper.ends_with('-') {
            return Err(FieldError::new(
                field,
                "must be 2 to 16 letters, digits or inner hyphens",
            ));
        }
        Ok(Self(upper))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A site as submitted, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSite {
    /// Short code, unique across the deployment.
    pub code: SiteCode,
    /// What the site does.
    pub kind: SiteKind,
    /// Where it is.
    pub country: CountryCode,
    /// Its name.
    pub name: String,
}

/// The raw fields of a site form or request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteInput {
    /// See [`NewSite::code`].
    pub code: String,
    /// See [`NewSite::kind`].
    pub kind: String,
    /// See [`NewSite::country`].
    pub country: String,
    /// See [`NewSite::name`].
    pub name: String,
}

impl NewSite {
    /// Parses every field, reporting the first problem.
    pub fn parse(input: &SiteInput) -> Result<Self, FieldError> {
        Ok(Self {
            code: SiteCode::parse("code", &input.code)?,
            kind: SiteKind::parse("kind", &input.kind)?,
            country: CountryCode::parse("country", &input.country)?,
            name: text::required("name", &input.name, 200)?,
        })
    }
}

/// A stored site.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// Its identifier.
    pub id: SiteId,
    /// Short code.
    pub code: SiteCode,
    /// What the site does.
    pub kind: SiteKind,
    /// Where it is (ISO 3166-1 alpha-2).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub country: CountryCode,
    /// Its name.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_site() {
        let site = NewSite::parse(&SiteInput {
            code: "tj-dyu-01".into(),
            kind: "assessment_centre".into(),
            country: "TJ".into(),
            name: " Dushanbe Migration Health Centre ".into(),
        })
        .unwrap();
        assert_eq!(site.code.as_str(), "TJ-DYU-01");
        assert_eq!(site.name, "Dushanbe Migration Health Centre");
    }

    #[test]
    fn names_the_bad_field() {
        let mut input = SiteInput {
            code: "X1".into(),
            kind: "hospital".into(),
            country: "TJ".into(),
            name: "A".into(),
        };
        let err = NewSite::parse(&input).unwrap_err();
        assert_eq!(err.field, "kind");
        assert!(err.message.contains("point_of_entry"));
        input.kind = "laboratory".into();
        input.code = "-".into();
        assert_eq!(NewSite::parse(&input).unwrap_err().field, "code");
    }
}
