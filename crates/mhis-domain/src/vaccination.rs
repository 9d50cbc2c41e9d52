//! Vaccinations: the vaccine catalogue read from `vaccines/vaccines.toml`
//! (each vaccine with its CVX code and source), and vaccination records
//! parsed at the edge: who was vaccinated, with what, when, where, the lot,
//! the dose number and who recorded it. A record's version counts its
//! updates, as a migrant's does.

use crate::FieldError;
use crate::ids::{AssessmentId, MigrantId, SiteId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use uuid::Uuid;

/// The vaccine catalogue shipped with mhis.
pub const BUILT_IN_VACCINES: &str = include_str!("../../../vaccines/vaccines.toml");

/// The FHIR code system of CVX codes.
pub const CVX_SYSTEM: &str = "http://hl7.org/fhir/sid/cvx";

/// One vaccine mhis records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Vaccine {
    /// mhis's stable name (`mmr`).
    pub code: String,
    /// CDC CVX code (`03`).
    pub cvx: String,
    /// A verified SNOMED CT code, if any.
    #[serde(default)]
    pub snomed: Option<String>,
    /// The CVX name.
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VaccineFile {
    #[serde(rename = "vaccine")]
    vaccines: Vec<Vaccine>,
}

/// Every vaccine mhis records, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaccineCatalogue {
    vaccines: Vec<Vaccine>,
}

impl VaccineCatalogue {
    /// The catalogue shipped with mhis, parsed once.
    pub fn built_in() -> &'static Self {
        static CATALOGUE: OnceLock<VaccineCatalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            Self::parse(BUILT_IN_VACCINES).expect("the built-in vaccine catalogue parses")
        })
    }

    /// Parses a catalogue; mhis codes, CVX codes and SNOMED CT codes must
    /// each be unique and not blank.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let file: VaccineFile =
            toml::from_str(text).map_err(|e| FieldError::new("vaccines", e.message()))?;
        for (i, v) in file.vaccines.iter().enumerate() {
            let earlier = &file.vaccines[..i];
            let checks: [(&str, bool, bool); 3] = [
                (
                    "code",
                    v.code.trim().is_empty(),
                    earlier.iter().any(|o| o.code == v.code),
                ),
                (
                    "cvx",
                    v.cvx.trim().is_empty(),
                    earlier.iter().any(|o| o.cvx == v.cvx),
                ),
                (
                    "snomed",
                    v.snomed.as_deref().is_some_and(|s| s.trim().is_empty()),
                    v.snomed.is_some() && earlier.iter().any(|o| o.snomed == v.snomed),
                ),
            ];
            for (field, blank, twice) in checks {
                if blank {
                    return Err(FieldError::new(format!("vaccine[{i}].{field}"), "is blank"));
                }
                if twice {
                    return Err(FieldError::new(
                        format!("vaccine[{i}].{field}"),
                        "is listed twice",
                    ));
                }
            }
        }
        Ok(Self {
            vaccines: file.vaccines,
        })
    }

    /// The vaccine with this mhis code.
    pub fn get(&self, code: &str) -> Option<&Vaccine> {
        self.vaccines.iter().find(|v| v.code == code)
    }

    /// The vaccine with this CVX code.
    pub fn by_cvx(&self, cvx: &str) -> Option<&Vaccine> {
        self.vaccines.iter().find(|v| v.cvx == cvx)
    }

    /// The vaccine with this SNOMED CT code.
    pub fn by_snomed(&self, snomed: &str) -> Option<&Vaccine> {
        self.vaccines
            .iter()
            .find(|v| v.snomed.as_deref() == Some(snomed))
    }

    /// Every vaccine, in file order.
    pub fn all(&self) -> &[Vaccine] {
        &self.vaccines
    }
}

/// Identifies a vaccination record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VaccinationId(pub Uuid);

impl VaccinationId {
    /// A fresh, time-ordered identifier.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for VaccinationId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for VaccinationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether the vaccine was given: FHIR R4 `Immunization.status`
/// (<https://hl7.org/fhir/R4/valueset-immunization-status.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VaccinationStatus {
    /// Given.
    Completed,
    /// Recorded in error.
    EnteredInError,
    /// Not given.
    NotDone,
}

impl VaccinationStatus {
    /// The wire name (`completed`, `entered-in-error`, `not-done`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::EnteredInError => "entered-in-error",
            Self::NotDone => "not-done",
        }
    }

    /// Parses a wire name.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "completed" => Ok(Self::Completed),
            "entered-in-error" => Ok(Self::EnteredInError),
            "not-done" => Ok(Self::NotDone),
            other => Err(FieldError::new(
                field,
                format!("'{other}' is not one of: completed, entered-in-error, not-done"),
            )),
        }
    }
}

/// The longest lot number kept.
pub const MAX_LOT: usize = 64;
/// The highest dose number accepted.
pub const MAX_DOSE: u32 = 20;

/// A vaccination to record or the new content of one, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVaccination {
    /// Who was vaccinated.
    pub migrant_id: MigrantId,
    /// The assessment it was given or recorded at, if any.
    pub assessment_id: Option<AssessmentId>,
    /// The site that recorded it.
    pub site_id: SiteId,
    /// The vaccine's mhis code (in the catalogue).
    pub vaccine: String,
    /// When it was given.
    pub date: NaiveDate,
    /// Given, not given, or recorded in error.
    pub status: VaccinationStatus,
    /// The manufacturer's lot number.
    pub lot_number: Option<String>,
    /// The dose number in its series.
    pub dose_number: Option<u32>,
}

/// The raw parts of a vaccination before checking.
#[derive(Debug, Clone, Default)]
pub struct VaccinationInput {
    /// The vaccine's mhis code.
    pub vaccine: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// Status wire name.
    pub status: String,
    /// Lot number.
    pub lot_number: Option<String>,
    /// Dose number.
    pub dose_number: Option<i64>,
}

impl NewVaccination {
    /// Checks the parts of a vaccination of `migrant` recorded at `site`:
    /// the vaccine must be in `catalogue`; the date a real day, not after
    /// `today` and not before 1900; the lot at most 64 characters; the dose
    /// number 1 to 20. Errors name the field (`vaccine`, `date`, `status`,
    /// `lot_number`, `dose_number`).
    pub fn parse(
        input: &VaccinationInput,
        migrant_id: MigrantId,
        assessment_id: Option<AssessmentId>,
        site_id: SiteId,
        catalogue: &VaccineCatalogue,
        today: NaiveDate,
    ) -> Result<Self, FieldError> {
        let vaccine = input.vaccine.trim();
        if catalogue.get(vaccine).is_none() {
            return Err(FieldError::new(
                "vaccine",
                format!(
                    "'{vaccine}' is not a vaccine mhis records (one of: {})",
                    catalogue
                        .all()
                        .iter()
                        .map(|v| v.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let date = NaiveDate::parse_from_str(input.date.trim(), "%Y-%m-%d").map_err(|_| {
            FieldError::new(
                "date",
                format!("'{}' is not a date (YYYY-MM-DD)", input.date),
            )
        })?;
        if date > today {
            return Err(FieldError::new("date", "is in the future"));
        }
        if date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(date) {
            return Err(FieldError::new("date", "is before 1900"));
        }
        let status = VaccinationStatus::parse("status", &input.status)?;
        let lot_number = input
            .lot_number
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned);
        if lot_number
            .as_ref()
            .is_some_and(|l| l.chars().count() > MAX_LOT)
        {
            return Err(FieldError::new(
                "lot_number",
                format!("is longer than {MAX_LOT} characters"),
            ));
        }
        let dose_number = match input.dose_number {
            None => None,
            Some(n) if (1..=i64::from(MAX_DOSE)).contains(&n) => u32::try_from(n).ok(),
            Some(n) => {
                return Err(FieldError::new(
                    "dose_number",
                    format!("{n} is not a dose number from 1 to {MAX_DOSE}"),
                ));
            }
        };
        Ok(Self {
            migrant_id,
            assessment_id,
            site_id,
            vaccine: vaccine.to_owned(),
            date,
            status,
            lot_number,
            dose_number,
        })
    }
}

/// A stored vaccination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vaccination {
    /// Identifier.
    pub id: VaccinationId,
    /// What was recorded.
    pub content: NewVaccination,
    /// Who recorded it (user name).
    pub recorded_by: String,
    /// Counts updates, from 1.
    pub version: i64,
    /// First recorded.
    pub recorded_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> VaccinationInput {
        VaccinationInput {
            vaccine: "mmr".into(),
            date: "2024-03-01".into(),
            status: "completed".into(),
            lot_number: Some(" AB123 ".into()),
            dose_number: Some(2),
        }
    }

    fn parse(i: &VaccinationInput) -> Result<NewVaccination, FieldError> {
        NewVaccination::parse(
            i,
            MigrantId::new(),
            None,
            SiteId::new(),
            VaccineCatalogue::built_in(),
            NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        )
    }

    #[test]
    fn the_built_in_catalogue_parses_with_unique_codes() {
        let c = VaccineCatalogue::built_in();
        assert_eq!(c.get("mmr").unwrap().cvx, "03");
        assert_eq!(c.by_cvx("19").unwrap().code, "bcg");
        assert!(c.all().len() >= 10);
    }

    #[test]
    fn a_catalogue_with_a_code_twice_is_refused_naming_it() {
        let text = "[[vaccine]]\ncode = \"a\"\ncvx = \"03\"\nname = \"x\"\n\
                    [[vaccine]]\ncode = \"b\"\ncvx = \"03\"\nname = \"y\"\n";
        let e = VaccineCatalogue::parse(text).unwrap_err();
        assert_eq!(e.field, "vaccine[1].cvx");
    }

    #[test]
    fn a_good_vaccination_parses_and_trims() {
        let v = parse(&input()).unwrap();
        assert_eq!(v.lot_number.as_deref(), Some("AB123"));
        assert_eq!(v.dose_number, Some(2));
        assert_eq!(v.status, VaccinationStatus::Completed);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Change = fn(&mut VaccinationInput);
        let cases: [(Change, &str); 6] = [
            (|i| i.vaccine = "smallpox".into(), "vaccine"),
            (|i| i.date = "2024-13-01".into(), "date"),
            (|i| i.date = "2024-07-01".into(), "date"),
            (|i| i.status = "done".into(), "status"),
            (|i| i.lot_number = Some("L".repeat(65)), "lot_number"),
            (|i| i.dose_number = Some(0), "dose_number"),
        ];
        for (change, field) in cases {
            let mut i = input();
            change(&mut i);
            assert_eq!(parse(&i).unwrap_err().field, field);
        }
    }
}
