//! A training session as scheduled: title, place, dates, trainers, modules
//! and partner organisations, checked against the catalogue; and who may
//! receive an attendance certificate.

use super::Training;
use super::needs::short_text;
use crate::FieldError;
use chrono::NaiveDate;

/// The longest session, in days.
pub const MAX_SESSION_DAYS: i64 = 31;

/// Validity of an attendance certificate, in years from the last day
/// (a programme parameter; never beyond the signing key's own validity).
pub const CERTIFICATE_VALIDITY_YEARS: u32 = 3;

/// The course id attendance certificates carry (`pi`): a site key is
/// allowed to sign it beside the protocols it signs.
pub const ATTENDANCE_COURSE_ID: &str = "mhis-training";

/// A session to schedule, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Title.
    pub title: String,
    /// Place.
    pub place: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day, inclusive.
    pub ends_on: NaiveDate,
    /// Trainers' names.
    pub trainers: Vec<String>,
    /// Module ids, in catalogue order.
    pub modules: Vec<String>,
    /// Partner organisations.
    pub organisations: Vec<String>,
}

/// The raw fields of a session form.
#[derive(Debug, Clone, Default)]
pub struct SessionInput<'a> {
    /// Title.
    pub title: &'a str,
    /// Place.
    pub place: &'a str,
    /// `YYYY-MM-DD`.
    pub starts_on: &'a str,
    /// `YYYY-MM-DD`.
    pub ends_on: &'a str,
    /// Comma-separated names.
    pub trainers: &'a str,
    /// Module ids.
    pub modules: Vec<&'a str>,
    /// One organisation per line.
    pub organisations: &'a str,
}

fn date(field: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date, YYYY-MM-DD"))
}

impl NewSession {
    /// Parses a session form, returning every error.
    pub fn parse(training: &Training, input: &SessionInput<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = short_text("title", input.title, 200).map_err(|e| errors.push(e));
        let place = short_text("place", input.place, 200).map_err(|e| errors.push(e));
        let starts = date("starts_on", input.starts_on).map_err(|e| errors.push(e));
        let ends = date("ends_on", input.ends_on).map_err(|e| errors.push(e));
        if let (Ok(s), Ok(e)) = (starts, ends) {
            if e < s {
                errors.push(FieldError::new(
                    "ends_on",
                    "must not be before the first day",
                ));
            } else if (e - s).num_days() >= MAX_SESSION_DAYS {
                errors.push(FieldError::new(
                    "ends_on",
                    format!("a session lasts at most {MAX_SESSION_DAYS} days"),
                ));
            }
        }
        let trainers: Vec<String> = input
            .trainers
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        if trainers.is_empty() {
            errors.push(FieldError::new("trainers", "name at least one trainer"));
        } else if trainers.iter().any(|t| t.chars().count() > 100) {
            errors.push(FieldError::new(
                "trainers",
                "each name must be at most 100 characters",
            ));
        }
        let mut modules = Vec::new();
        for raw in &input.modules {
            match training.parse_module("modules", raw) {
                Ok(m) if !modules.contains(&m) => modules.push(m),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        if input.modules.is_empty() {
            errors.push(FieldError::new("modules", "choose at least one module"));
        }
        modules.sort_by_key(|m| training.modules.iter().position(|c| &c.id == m));
        let organisations: Vec<String> = input
            .organisations
            .lines()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(String::from)
            .collect();
        if organisations.iter().any(|o| o.chars().count() > 200) {
            errors.push(FieldError::new(
                "organisations",
                "each organisation must be at most 200 characters",
            ));
        }
        match (title, place, starts, ends) {
            (Ok(title), Ok(place), Ok(starts_on), Ok(ends_on)) if errors.is_empty() => Ok(Self {
                title,
                place,
                starts_on,
                ends_on,
                trainers,
                modules,
                organisations,
            }),
            _ => Err(errors),
        }
    }
}

/// Whether a participant present on `present_days` of a session of
/// `session_days` days receives an attendance certificate: present on
/// every day.
pub fn certificate_eligible(present_days: usize, session_days: usize) -> bool {
    session_days > 0 && present_days >= session_days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SessionInput<'static> {
        SessionInput {
            title: "TB for primary care",
            place: "Dushanbe",
            starts_on: "2026-12-01",
            ends_on: "2026-12-03",
            trainers: "N. Saidov, M. Petrova",
            modules: vec!["tb", "migration_health_basics", "tb"],
            organisations: "PHC 3\n\nBorder committee\n",
        }
    }

    #[test]
    fn a_session_parses_in_catalogue_order() {
        let t = Training::built_in();
        let s = NewSession::parse(&t, &input()).unwrap();
        assert_eq!(s.modules, ["migration_health_basics", "tb"]);
        assert_eq!(s.trainers.len(), 2);
        assert_eq!(s.organisations, ["PHC 3", "Border committee"]);
    }

    #[test]
    fn bad_fields_are_each_named() {
        let t = Training::built_in();
        let bad = SessionInput {
            title: " ",
            ends_on: "2026-11-30",
            trainers: "",
            modules: vec!["surgery"],
            ..input()
        };
        let fields: Vec<String> = NewSession::parse(&t, &bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "ends_on", "trainers", "modules"]);
    }

    #[test]
    fn certificates_need_every_day() {
        assert!(certificate_eligible(3, 3));
        assert!(!certificate_eligible(2, 3));
        assert!(!certificate_eligible(0, 0));
    }
}
