//! Migrants: the people assessed. Names are kept as written in the travel
//! document and in Latin transliteration, because the same person is spelled
//! differently in Cyrillic and Latin documents.

use crate::country::CountryCode;
use crate::error::FieldError;
use crate::ids::{MigrantId, SiteId};
use crate::site::one_of;
use crate::text;
use crate::transliteration;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest name part accepted (ICAO 9303 allows 39 characters in the MRZ
/// name field, but the visual zone may be longer).
pub const MAX_NAME_CHARS: usize = 100;

/// Sex as recorded in the travel document (ICAO 9303: F, M or X).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// F in the document.
    Female,
    /// M in the document.
    Male,
    /// X, unspecified, in the document.
    Other,
}

impl Sex {
    /// All values.
    pub const ALL: [Sex; 3] = [Sex::Female, Sex::Male, Sex::Other];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
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

/// A birth date that may be known only to the year or the month, as in many
/// travel documents (`1990`, `1990-06`, `1990-06-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartialDate {
    /// Only the year is known.
    Year(i32),
    /// Year and month are known.
    YearMonth(i32, u32),
    /// The full date is known.
    Full(NaiveDate),
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, refusing impossible dates,
    /// dates after `today` and years before 1900.
    pub fn parse(field: &str, raw: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let bad = || {
            FieldError::new(
                field,
                format!("'{raw}' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD"),
            )
        };
        let parts: Vec<&str> = raw.split('-').collect();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let date = match parts.as_slice() {
            [y] if digits(y, 4) => Self::Year(y.parse().map_err(|_| bad())?),
            [y, m] if digits(y, 4) && digits(m, 2) => {
                let (y, m) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
                if !(1..=12).contains(&m) {
                    return Err(FieldError::new(field, format!("'{raw}' has no month {m}")));
                }
                Self::YearMonth(y, m)
            }
            [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
                let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| FieldError::new(field, format!("'{raw}' is not a real date")))?;
                Self::Full(date)
            }
            _ => return Err(bad()),
        };
        if date.year() < 1900 {
            return Err(FieldError::new(field, "must not be before 1900"));
        }
        if date.earliest() > today {
            return Err(FieldError::new(field, "must not be in the future"));
        }
        Ok(date)
    }

    /// Reads back a stored date, written by `Display`; no range checks.
    pub fn from_stored(raw: &str) -> Result<Self, FieldError> {
        Self::parse("birth_date", raw, NaiveDate::MAX)
    }

    /// The year.
    pub fn year(&self) -> i32 {
        match *self {
            Self::Year(y) | Self::YearMonth(y, _) => y,
            Self::Full(d) => d.year(),
        }
    }

    /// The first day the date can stand for.
    pub fn earliest(&self) -> NaiveDate {
        match *self {
            Self::Year(y) => NaiveDate::from_ymd_opt(y, 1, 1),
            Self::YearMonth(y, m) => NaiveDate::from_ymd_opt(y, m, 1),
            Self::Full(d) => Some(d),
        }
        .unwrap_or(NaiveDate::MIN)
    }

    /// The last day the date can stand for.
    pub fn latest(&self) -> NaiveDate {
        match *self {
            Self::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31),
            Self::YearMonth(y, m) => NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                .and_then(|d| d.pred_opt()),
            Self::Full(d) => Some(d),
        }
        .unwrap_or(NaiveDate::MAX)
    }

    /// Age in completed years on `on`. For a partial date the person is
    /// taken to be born on the *last* day the date can stand for, so that a
    /// rule with an age threshold never applies before it is certain to.
    pub fn age_on(&self, on: NaiveDate) -> Option<u32> {
        on.years_since(self.latest())
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Year(y) => write!(f, "{y:04}"),
            Self::YearMonth(y, m) => write!(f, "{y:04}-{m:02}"),
            Self::Full(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The kind of travel document.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A passport (ICAO 9303 type P).
    Passport,
    /// A national identity card.
    NationalId,
    /// A refugee or stateless person's travel document.
    RefugeeTravelDocument,
    /// Any other identity document.
    Other,
}

impl DocumentKind {
    /// All values.
    pub const ALL: [DocumentKind; 4] = [
        Self::Passport,
        Self::NationalId,
        Self::RefugeeTravelDocument,
        Self::Other,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Passport => "passport",
            Self::NationalId => "national_id",
            Self::RefugeeTravelDocument => "refugee_travel_document",
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

/// A travel document: kind, number and issuing country.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TravelDocument {
    /// Passport, identity card…
    pub kind: DocumentKind,
    /// The document number, upper case, without spaces: 1–20 letters or
    /// digits (ICAO 9303 document numbers are up to 9 characters, national
    /// documents sometimes longer).
    pub number: String,
    /// The issuing state (ISO 3166-1 alpha-2).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub issuing_country: CountryCode,
}

/// The raw fields of a travel document.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DocumentInput {
    /// See [`TravelDocument::kind`].
    pub kind: String,
    /// See [`TravelDocument::number`].
    pub number: String,
    /// See [`TravelDocument::issuing_country`].
    pub issuing_country: String,
}

/// Normalises a document number: upper case, spaces and hyphens removed.
pub fn normalise_document_number(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

impl TravelDocument {
    /// Parses the document fields.
    pub fn parse(input: &DocumentInput) -> Result<Self, FieldError> {
        let kind = DocumentKind::parse("kind", &input.kind)?;
        let number = normalise_document_number(&input.number);
        if number.is_empty() {
            return Err(FieldError::new("number", "is required"));
        }
        if number.len() > 20 || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FieldError::new(
                "number",
                "must be 1 to 20 Latin letters or digits",
            ));
        }
        Ok(Self {
            kind,
            number,
            issuing_country: CountryCode::parse("issuing_country", &input.issuing_country)?,
        })
    }
}

/// A phone number in international form: `+` and 7 to 15 digits
/// (ITU-T E.164); spaces, hyphens and brackets are dropped.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "must be in international form: + then 7 to 15 digits",
            ));
        }
        Ok(Self(compact))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A language tag: an ISO 639 code of two or three lower-case letters,
/// optionally with a region (`ru`, `tg`, `uz`, `ky`, `pt-BR`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Language(String);

impl Language {
    /// Parses a language tag.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let (lang, region) = match raw.split_once('-') {
            Some((l, r)) => (l, Some(r)),
            None => (raw, None),
        };
        let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
        let region_ok =
            region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()));
        if !lang_ok || !region_ok {
            return Err(FieldError::new(
                field,
                format!("'{raw}' is not a language tag such as 'ru', 'tg' or 'pt-BR'"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Names of a person, as written in the document and in Latin letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonName {
    /// Family name as written in the travel document.
    pub family: String,
    /// Given names as written in the travel document.
    pub given: String,
    /// Family name in Latin letters.
    pub family_latin: String,
    /// Given names in Latin letters.
    pub given_latin: String,
}

impl PersonName {
    /// Parses names; when a Latin form is not given it is computed by
    /// ICAO 9303 transliteration.
    pub fn parse(
        family: &str,
        given: &str,
        family_latin: Option<&str>,
        given_latin: Option<&str>,
    ) -> Result<Self, FieldError> {
        let family = text::required("family_name", family, MAX_NAME_CHARS)?;
        let given = text::required("given_names", given, MAX_NAME_CHARS)?;
        let latin = |field: &str, written: &str, supplied: Option<&str>| match text::optional(
            field,
            supplied,
            MAX_NAME_CHARS,
        )? {
            Some(l) if transliteration::has_cyrillic(&l) => {
                Err(FieldError::new(field, "must be in Latin letters"))
            }
            Some(l) => Ok(l),
            None => Ok(transliteration::to_latin(written)),
        };
        Ok(Self {
            family_latin: latin("family_name_latin", &family, family_latin)?,
            given_latin: latin("given_names_latin", &given, given_latin)?,
            family,
            given,
        })
    }

    /// The loose key the registry searches by (see
    /// [`transliteration::search_key`]): family then given names.
    pub fn search_key(&self) -> String {
        transliteration::search_key(&format!("{} {}", self.family_latin, self.given_latin))
    }
}

/// A migrant as submitted, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMigrant {
    /// Names.
    pub name: PersonName,
    /// Sex as in the document.
    pub sex: Sex,
    /// Birth date, possibly partial.
    pub birth_date: PartialDate,
    /// Nationality.
    pub nationality: CountryCode,
    /// Travel document, when one was seen.
    pub document: Option<TravelDocument>,
    /// Phone.
    pub phone: Option<Phone>,
    /// Preferred language for letters and certificates.
    pub preferred_language: Option<Language>,
}

/// The raw fields of a migrant form or request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MigrantInput {
    /// Family name as written in the travel document.
    pub family_name: String,
    /// Given names as written in the travel document.
    pub given_names: String,
    /// Family name in Latin letters; computed when absent.
    #[serde(default)]
    pub family_name_latin: Option<String>,
    /// Given names in Latin letters; computed when absent.
    #[serde(default)]
    pub given_names_latin: Option<String>,
    /// `female`, `male` or `other`.
    pub sex: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub birth_date: String,
    /// ISO 3166-1 alpha-2.
    pub nationality: String,
    /// The travel document, if any.
    #[serde(default)]
    pub document: Option<DocumentInput>,
    /// Phone, international form.
    #[serde(default)]
    pub phone: Option<String>,
    /// Language tag.
    #[serde(default)]
    pub preferred_language: Option<String>,
}

impl NewMigrant {
    /// Parses every field against `today` (birth dates may not be in the
    /// future), reporting the first problem with its field.
    pub fn parse(input: &MigrantInput, today: NaiveDate) -> Result<Self, FieldError> {
        Ok(Self {
            name: PersonName::parse(
                &input.family_name,
                &input.given_names,
                input.family_name_latin.as_deref(),
                input.given_names_latin.as_deref(),
            )?,
            sex: Sex::parse("sex", &input.sex)?,
            birth_date: PartialDate::parse("birth_date", &input.birth_date, today)?,
            nationality: CountryCode::parse("nationality", &input.nationality)?,
            document: input
                .document
                .as_ref()
                .map(|d| TravelDocument::parse(d).map_err(|e| e.under("document")))
                .transpose()?,
            phone: text::optional("phone", input.phone.as_deref(), 40)?
                .map(|p| Phone::parse("phone", &p))
                .transpose()?,
            preferred_language: text::optional(
                "preferred_language",
                input.preferred_language.as_deref(),
                10,
            )?
            .map(|l| Language::parse("preferred_language", &l))
            .transpose()?,
        })
    }
}

/// A stored migrant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migrant {
    /// Identifier.
    pub id: MigrantId,
    /// Human-readable number, unique within the registering site
    /// (`TJ-DYU-01-000042`).
    pub registration_number: String,
    /// The site that registered the person.
    pub registered_at: SiteId,
    /// The parsed details.
    #[serde(flatten)]
    pub details: MigrantDetails,
    /// Incremented by every update; an update must name the version it read.
    pub version: i64,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The fields of a migrant that a client sends and reads back, flattened
/// for the wire.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrantDetails {
    /// Family name as written.
    pub family_name: String,
    /// Given names as written.
    pub given_names: String,
    /// Family name in Latin letters.
    pub family_name_latin: String,
    /// Given names in Latin letters.
    pub given_names_latin: String,
    /// Sex.
    pub sex: Sex,
    /// Birth date, possibly partial: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1990-06"))]
    pub birth_date: PartialDate,
    /// Nationality (ISO 3166-1 alpha-2).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "TJ"))]
    pub nationality: CountryCode,
    /// Travel document.
    pub document: Option<TravelDocument>,
    /// Phone.
    pub phone: Option<Phone>,
    /// Preferred language.
    pub preferred_language: Option<Language>,
}

impl From<NewMigrant> for MigrantDetails {
    fn from(m: NewMigrant) -> Self {
        Self {
            family_name: m.name.family,
            given_names: m.name.given,
            family_name_latin: m.name.family_latin,
            given_names_latin: m.name.given_latin,
            sex: m.sex,
            birth_date: m.birth_date,
            nationality: m.nationality,
            document: m.document,
            phone: m.phone,
            preferred_language: m.preferred_language,
        }
    }
}

impl MigrantDetails {
    /// The loose name key (see [`transliteration::search_key`]).
    pub fn search_key(&self) -> String {
        transliteration::search_key(&format!(
            "{} {}",
            self.family_name_latin, self.given_names_latin
        ))
    }
}

/// Why an existing record may be the same person as a new one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Same document number and issuing country.
    SameDocument,
    /// Same transliterated names and compatible birth date.
    SameNameAndBirthDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn input() -> MigrantInput {
        MigrantInput {
            family_name: "Рахимов".into(),
            given_names: "Шухрат".into(),
            sex: "male".into(),
            birth_date: "1990-06".into(),
            nationality: "tj".into(),
            document: Some(DocumentInput {
                kind: "passport".into(),
                number: "4001 23456".into(),
                issuing_country: "TJ".into(),
            }),
            phone: Some("+992 93 123-45-67".into()),
            preferred_language: Some("tg".into()),
            ..Default::default()
        }
    }

    #[test]
    fn parses_and_transliterates() {
        let m = NewMigrant::parse(&input(), today()).unwrap();
        assert_eq!(m.name.family_latin, "Rakhimov");
        assert_eq!(m.name.given_latin, "Shukhrat");
        assert_eq!(m.birth_date, PartialDate::YearMonth(1990, 6));
        assert_eq!(m.document.unwrap().number, "400123456");
        assert_eq!(m.phone.unwrap().as_str(), "+992931234567");
    }

    #[test]
    fn names_the_bad_nested_field() {
        let mut bad = input();
        bad.document.as_mut().unwrap().issuing_country = "XX".into();
        assert_eq!(
            NewMigrant::parse(&bad, today()).unwrap_err().field,
            "document.issuing_country"
        );
        let mut bad = input();
        bad.family_name_latin = Some("Рахимов".into());
        assert_eq!(
            NewMigrant::parse(&bad, today()).unwrap_err().field,
            "family_name_latin"
        );
    }

    #[test]
    fn partial_dates() {
        let p = |s| PartialDate::parse("birth_date", s, today());
        assert_eq!(p("1990").unwrap().to_string(), "1990");
        assert_eq!(p("1990-02").unwrap().latest().to_string(), "1990-02-28");
        assert!(
            p("1990-02-30")
                .unwrap_err()
                .message
                .contains("not a real date")
        );
        assert!(p("1990-13").is_err());
        assert!(p("2027").unwrap_err().message.contains("future"));
        assert!(p("1899-12-31").is_err());
        assert!(p("90-01-01").is_err());
        assert!(p("1990/01/01").is_err());
        // A partial date counts from its last possible day.
        let d = p("2011").unwrap();
        assert_eq!(
            d.age_on(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
            Some(14)
        );
        assert_eq!(
            d.age_on(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            Some(15)
        );
    }

    #[test]
    fn phone_and_language() {
        assert!(Phone::parse("phone", "12345").is_err());
        assert!(Phone::parse("phone", "992931234567").is_err());
        assert!(Language::parse("l", "RU").is_err());
        assert!(Language::parse("l", "pt-BR").is_ok());
    }
}
