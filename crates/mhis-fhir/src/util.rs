//! Small constructors and readers of FHIR datatypes shared by the mappings.

use crate::error::FhirError;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use fhir::r4::types::{self, CodeableConcept, Coding, Reference};
use std::fmt::Display;

pub(crate) fn string(v: impl Into<String>) -> types::String {
    types::String(v.into())
}

pub(crate) fn uri(v: impl Into<String>) -> types::Uri {
    types::Uri(v.into())
}

pub(crate) fn code(v: impl Into<String>) -> types::Code {
    types::Code(v.into())
}

pub(crate) fn coding(system: &str, code_: &str, display: Option<&str>) -> Coding {
    Coding {
        system: Some(uri(system)),
        code: Some(code(code_)),
        display: display.map(string),
        ..Default::default()
    }
}

pub(crate) fn concept(coding: Vec<Coding>, text: Option<&str>) -> CodeableConcept {
    CodeableConcept {
        coding,
        text: text.map(string),
        ..Default::default()
    }
}

/// A relative reference `Type/id`.
pub(crate) fn reference<T>(resource_type: &str, id: impl Display) -> Reference<T> {
    Reference {
        reference: Some(string(format!("{resource_type}/{id}"))),
        ..Default::default()
    }
}

pub(crate) fn instant(at: &DateTime<Utc>) -> types::Instant {
    types::Instant(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub(crate) fn date_time(at: &DateTime<Utc>) -> types::DateTime {
    types::DateTime(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub(crate) fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Reads a FHIR `dateTime` or `instant` as a point in time: a full
/// timestamp with its zone, or a full date (taken as midnight UTC). Partial
/// dates (`2013`, `2013-04`) are refused: mhis records when a fact was
/// observed to the day at least.
pub(crate) fn read_date_time(path: &str, raw: &str) -> Result<DateTime<Utc>, FhirError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(FhirError::value(
        path,
        format!("'{raw}' is not a date-time with a time zone nor a full date (YYYY-MM-DD)"),
    ))
}

/// The first coding of `concept` in `system`, with its index.
pub(crate) fn find_coding<'a>(
    concept: &'a CodeableConcept,
    system: &str,
) -> Option<(usize, &'a Coding)> {
    concept
        .coding
        .iter()
        .enumerate()
        .find(|(_, c)| c.system.as_ref().is_some_and(|s| s.0 == system))
}

/// The code of a coding, or "".
pub(crate) fn code_of(c: &Coding) -> &str {
    c.code.as_ref().map_or("", |c| c.0.as_str())
}

/// The system of a coding, or "".
pub(crate) fn system_of(c: &Coding) -> &str {
    c.system.as_ref().map_or("", |s| s.0.as_str())
}
