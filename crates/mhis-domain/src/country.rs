//! ISO 3166-1 alpha-2 country codes.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An officially assigned ISO 3166-1 alpha-2 code, upper case (`TJ`, `RU`).
///
/// The list of assigned codes comes from the `isocountry` crate, which
/// follows the ISO 3166 maintenance agency; user-assigned codes (`XK`, `ZZ`)
/// are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a two-letter code, case-insensitively.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let upper = raw.trim().to_ascii_uppercase();
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(
                field,
                format!(
                    "'{}' is not a two-letter ISO 3166-1 country code",
                    raw.trim()
                ),
            ));
        }
        if isocountry::CountryCode::for_alpha2(&upper).is_err() {
            return Err(FieldError::new(
                field,
                format!("'{upper}' is not an assigned ISO 3166-1 country code"),
            ));
        }
        let b = upper.as_bytes();
        Ok(Self([b[0], b[1]]))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // The bytes are checked ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The English short name of the country.
    pub fn name(&self) -> &'static str {
        isocountry::CountryCode::for_alpha2(self.as_str())
            .map(|c| c.name())
            .unwrap_or("")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("country", &value)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_assigned_codes() {
        assert_eq!(CountryCode::parse("c", "tj").unwrap().as_str(), "TJ");
        assert_eq!(
            CountryCode::parse("c", "GB").unwrap().name(),
            "United Kingdom of Great Britain and Northern Ireland"
        );
    }

    #[test]
    fn refuses_unassigned_and_malformed() {
        assert!(CountryCode::parse("c", "ZZ").is_err());
        assert!(CountryCode::parse("c", "TJK").is_err());
        assert!(CountryCode::parse("c", "1A").is_err());
        let err = CountryCode::parse("nationality", "QQ").unwrap_err();
        assert_eq!(err.field, "nationality");
    }
}
