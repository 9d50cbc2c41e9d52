//! The mhis certificate payload: minimal by design, no diagnoses and no
//! test results (see `shared/design/certificates.md`).
//!
//! Keys are short, in the style of the EU DCC schema, to keep the QR code
//! small. The `t` field discriminates the certificate type, so that other
//! certificates (e.g. training attendance) reuse the same stack.

use serde::{Deserialize, Serialize};

use crate::error::{CertError, Result};

/// Current payload schema version.
pub const PAYLOAD_VERSION: &str = "1.0.0";

/// A person's name as in the travel document, with its machine-readable
/// (ICAO 9303 MRZ) transliteration, like the DCC `nam` group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// Family name(s) as in the travel document.
    #[serde(rename = "fn", default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Family name(s) transliterated (ICAO 9303 MRZ characters).
    #[serde(rename = "fnt")]
    pub family_name_mrz: String,
    /// Given name(s) as in the travel document.
    #[serde(rename = "gn", default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Given name(s) transliterated.
    #[serde(rename = "gnt", default, skip_serializing_if = "Option::is_none")]
    pub given_name_mrz: Option<String>,
}

/// Outcome of a health assessment. Conditions never travel in the
/// certificate; follow-up goes through referrals to health authorities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Cleared for travel.
    Cleared,
    /// Cleared, with follow-up arranged at destination.
    ClearedWithFollowUp,
}

/// A migration health clearance certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthClearance {
    /// Holder's name.
    #[serde(rename = "nam")]
    pub name: PersonName,
    /// Date of birth, `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (may be partial, as
    /// in the DCC `dob`).
    #[serde(rename = "dob")]
    pub date_of_birth: String,
    /// Unique certificate identifier, never reused.
    #[serde(rename = "ci")]
    pub certificate_id: String,
    /// Date of the health assessment, `YYYY-MM-DD`.
    #[serde(rename = "ad")]
    pub assessment_date: String,
    /// Destination country, ISO 3166-1 alpha-2.
    #[serde(rename = "dc")]
    pub destination_country: String,
    /// Assessment protocol identifier.
    #[serde(rename = "pi")]
    pub protocol_id: String,
    /// Assessment protocol version.
    #[serde(rename = "pv")]
    pub protocol_version: String,
    /// Outcome.
    #[serde(rename = "o")]
    pub outcome: Outcome,
    /// Last day of validity, `YYYY-MM-DD`, inclusive.
    #[serde(rename = "vu")]
    pub valid_until: String,
    /// Issuing site identifier.
    #[serde(rename = "is")]
    pub issuing_site: String,
}

/// A training attendance certificate (e.g. for staff trained on a
/// protocol), reusing the same stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingAttendance {
    /// Attendee's name.
    #[serde(rename = "nam")]
    pub name: PersonName,
    /// Unique certificate identifier, never reused.
    #[serde(rename = "ci")]
    pub certificate_id: String,
    /// Training (course) identifier.
    #[serde(rename = "pi")]
    pub course_id: String,
    /// Training (course) version.
    #[serde(rename = "pv")]
    pub course_version: String,
    /// Date the training was completed, `YYYY-MM-DD`.
    #[serde(rename = "ad")]
    pub completion_date: String,
    /// Last day of validity, `YYYY-MM-DD`, inclusive.
    #[serde(rename = "vu")]
    pub valid_until: String,
    /// Issuing site identifier.
    #[serde(rename = "is")]
    pub issuing_site: String,
    /// Title of the session attended.
    #[serde(rename = "ti", default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Modules taught (catalogue ids).
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
}

/// The payload of an mhis certificate, discriminated by `t`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum MhcPayload {
    /// `t = "hc"`: migration health clearance.
    #[serde(rename = "hc")]
    HealthClearance(HealthClearance),
    /// `t = "ta"`: training attendance.
    #[serde(rename = "ta")]
    TrainingAttendance(TrainingAttendance),
}

impl MhcPayload {
    /// Certificate identifier.
    pub fn certificate_id(&self) -> &str {
        match self {
            MhcPayload::HealthClearance(c) => &c.certificate_id,
            MhcPayload::TrainingAttendance(c) => &c.certificate_id,
        }
    }

    /// Protocol (or course) the certificate attests; trust-list keys are
    /// restricted to the protocols they may sign.
    pub fn protocol_id(&self) -> &str {
        match self {
            MhcPayload::HealthClearance(c) => &c.protocol_id,
            MhcPayload::TrainingAttendance(c) => &c.course_id,
        }
    }

    /// Last valid day, `YYYY-MM-DD`.
    pub fn valid_until(&self) -> &str {
        match self {
            MhcPayload::HealthClearance(c) => &c.valid_until,
            MhcPayload::TrainingAttendance(c) => &c.valid_until,
        }
    }

    /// Issuing site identifier.
    pub fn issuing_site(&self) -> &str {
        match self {
            MhcPayload::HealthClearance(c) => &c.issuing_site,
            MhcPayload::TrainingAttendance(c) => &c.issuing_site,
        }
    }

    /// Checks the fields this layer relies on (dates well formed, required
    /// identifiers present).
    pub fn validate(&self) -> Result<()> {
        if self.certificate_id().is_empty() {
            return Err(CertError::InvalidPayload("empty certificate id".into()));
        }
        parse_date(self.valid_until())?;
        match self {
            MhcPayload::HealthClearance(c) => {
                parse_date(&c.assessment_date)?;
                check_partial_date(&c.date_of_birth)?;
                if c.destination_country.len() != 2 {
                    return Err(CertError::InvalidPayload(
                        "destination country must be ISO 3166-1 alpha-2".into(),
                    ));
                }
            }
            MhcPayload::TrainingAttendance(c) => {
                parse_date(&c.completion_date)?;
            }
        }
        Ok(())
    }

    /// Encodes to a CBOR value.
    pub fn to_cbor(&self) -> Result<ciborium::Value> {
        ciborium::Value::serialized(self).map_err(|e| CertError::Encoding(e.to_string()))
    }

    /// Decodes from a CBOR value.
    pub fn from_cbor(v: &ciborium::Value) -> Result<Self> {
        v.deserialized()
            .map_err(|e| CertError::InvalidPayload(e.to_string()))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Parses a full `YYYY-MM-DD` date (ISO 8601) into days since the Unix
/// epoch.
pub fn parse_date(s: &str) -> Result<i64> {
    let bad = || CertError::InvalidPayload(format!("not a YYYY-MM-DD date: {s:?}"));
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32> {
        let part = &s[r];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (y, m, d) = (num(0..4)? as i64, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d))
}

/// Unix seconds of the last second of the given `YYYY-MM-DD` day (UTC).
pub fn end_of_day(s: &str) -> Result<i64> {
    Ok(parse_date(s)? * 86_400 + 86_399)
}

/// Accepts `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (partial dates of birth, as
/// in the DCC schema).
fn check_partial_date(s: &str) -> Result<()> {
    let ok = match s.len() {
        4 => s.bytes().all(|c| c.is_ascii_digit()),
        7 => parse_date(&format!("{s}-01")).is_ok(),
        10 => parse_date(s).is_ok(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(CertError::InvalidPayload(format!(
            "date of birth must be YYYY, YYYY-MM or YYYY-MM-DD: {s:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2000-03-01").unwrap(), 11_017);
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2024-2-29").is_err());
        assert_eq!(end_of_day("1970-01-01").unwrap(), 86_399);
        assert!(check_partial_date("1980").is_ok());
        assert!(check_partial_date("1980-13").is_err());
    }
}
