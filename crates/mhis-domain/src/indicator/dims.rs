//! Disaggregations: the dimensions an indicator is broken down by, age
//! groups, and periods written as DHIS2 period identifiers
//! (<https://docs.dhis2.org/en/develop/using-the-api/dhis-core-version-master/data.html>,
//! "Date and period format": `20260301` day, `2026W9` ISO week, `202603`
//! month, `2026Q1` quarter, `2026` year).

use crate::error::FieldError;
use crate::site::one_of;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A dimension of disaggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The site (its code).
    Site,
    /// Nationality (ISO 3166-1 alpha-2).
    Nationality,
    /// Destination country.
    Destination,
    /// Sex.
    Sex,
    /// Age group.
    AgeGroup,
    /// Period, of a [`PeriodKind`].
    Period(PeriodKind),
}

impl Dimension {
    /// Every dimension but periods, then the periods.
    pub const ALL: [Dimension; 10] = [
        Self::Site,
        Self::Nationality,
        Self::Destination,
        Self::Sex,
        Self::AgeGroup,
        Self::Period(PeriodKind::Day),
        Self::Period(PeriodKind::Week),
        Self::Period(PeriodKind::Month),
        Self::Period(PeriodKind::Quarter),
        Self::Period(PeriodKind::Year),
    ];

    /// The wire name (`site`, `age_group`, `month`…).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Site => "site",
            Self::Nationality => "nationality",
            Self::Destination => "destination",
            Self::Sex => "sex",
            Self::AgeGroup => "age_group",
            Self::Period(p) => p.as_str(),
        }
    }

    /// Parses a wire name.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(field, one_of(raw, Self::ALL.iter().map(|d| d.as_str())))
            })
    }
}

/// A kind of period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// A day.
    Day,
    /// An ISO 8601 week (Monday to Sunday, week 1 holds the first Thursday).
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

impl PeriodKind {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    /// The DHIS2 period identifier of the period holding `date`.
    pub fn period_of(&self, date: NaiveDate) -> String {
        match self {
            Self::Day => date.format("%Y%m%d").to_string(),
            Self::Week => {
                let w = date.iso_week();
                format!("{}W{}", w.year(), w.week())
            }
            Self::Month => date.format("%Y%m").to_string(),
            Self::Quarter => format!("{}Q{}", date.year(), date.month0() / 3 + 1),
            Self::Year => date.year().to_string(),
        }
    }
}

/// Parses a DHIS2 period identifier into its kind and first and last day.
pub fn parse_period(
    field: &str,
    raw: &str,
) -> Result<(PeriodKind, NaiveDate, NaiveDate), FieldError> {
    let bad = || {
        FieldError::new(
            field,
            format!("'{raw}' is not a period: 2026, 2026Q1, 202603, 2026W9 or 20260301"),
        )
    };
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad);
    let last_of_month = |y: i32, m: u32| -> Result<NaiveDate, FieldError> {
        let next = if m == 12 {
            ymd(y + 1, 1, 1)?
        } else {
            ymd(y, m + 1, 1)?
        };
        next.pred_opt().ok_or_else(bad)
    };
    if let Some((y, q)) = raw.split_once('Q') {
        let (y, q) = (num(y)? as i32, num(q)?);
        if !(1..=4).contains(&q) {
            return Err(bad());
        }
        let first = ymd(y, (q - 1) * 3 + 1, 1)?;
        return Ok((PeriodKind::Quarter, first, last_of_month(y, q * 3)?));
    }
    if let Some((y, w)) = raw.split_once('W') {
        let first = NaiveDate::from_isoywd_opt(num(y)? as i32, num(w)?, chrono::Weekday::Mon)
            .ok_or_else(bad)?;
        return Ok((PeriodKind::Week, first, first + chrono::Days::new(6)));
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match raw.len() {
        4 => {
            let y = num(raw)? as i32;
            Ok((PeriodKind::Year, ymd(y, 1, 1)?, ymd(y, 12, 31)?))
        }
        6 => {
            let (y, m) = (num(&raw[..4])? as i32, num(&raw[4..])?);
            Ok((PeriodKind::Month, ymd(y, m, 1)?, last_of_month(y, m)?))
        }
        8 => {
            let d = ymd(num(&raw[..4])? as i32, num(&raw[4..6])?, num(&raw[6..])?)?;
            Ok((PeriodKind::Day, d, d))
        }
        _ => Err(bad()),
    }
}

/// The age groups of the monitoring framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AgeGroup {
    /// 0–14 years.
    #[serde(rename = "0-14")]
    Child,
    /// 15–24 years.
    #[serde(rename = "15-24")]
    Youth,
    /// 25–49 years.
    #[serde(rename = "25-49")]
    Adult,
    /// 50 years and over.
    #[serde(rename = "50+")]
    Older,
}

impl AgeGroup {
    /// Every group, youngest first.
    pub const ALL: [AgeGroup; 4] = [Self::Child, Self::Youth, Self::Adult, Self::Older];

    /// The group of an age in whole years.
    pub fn of(age: u32) -> Self {
        match age {
            0..=14 => Self::Child,
            15..=24 => Self::Youth,
            25..=49 => Self::Adult,
            _ => Self::Older,
        }
    }

    /// The label (`0-14`, `50+`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Child => "0-14",
            Self::Youth => "15-24",
            Self::Adult => "25-49",
            Self::Older => "50+",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_group_boundaries() {
        let cases = [
            (0, "0-14"),
            (14, "0-14"),
            (15, "15-24"),
            (24, "15-24"),
            (25, "25-49"),
            (49, "25-49"),
            (50, "50+"),
            (99, "50+"),
        ];
        for (age, group) in cases {
            assert_eq!(AgeGroup::of(age).as_str(), group, "{age}");
        }
    }

    #[test]
    fn periods_are_dhis2_identifiers_and_parse_back() {
        // 2026-01-01 is a Thursday: ISO week 1 of 2026. 2027-01-01 is a
        // Friday: it belongs to week 53 of 2026.
        let cases = [
            (PeriodKind::Day, "2026-03-01", "20260301"),
            (PeriodKind::Week, "2026-01-01", "2026W1"),
            (PeriodKind::Week, "2027-01-01", "2026W53"),
            (PeriodKind::Week, "2026-03-01", "2026W9"),
            (PeriodKind::Month, "2026-03-31", "202603"),
            (PeriodKind::Quarter, "2026-03-31", "2026Q1"),
            (PeriodKind::Quarter, "2026-04-01", "2026Q2"),
            (PeriodKind::Year, "2026-12-31", "2026"),
        ];
        for (kind, date, id) in cases {
            assert_eq!(kind.period_of(d(date)), id, "{date}");
            let (k, first, last) = parse_period("period", id).unwrap();
            assert_eq!(k, kind);
            assert!(first <= d(date) && d(date) <= last, "{id} holds {date}");
        }
        assert_eq!(parse_period("p", "2026Q1").unwrap().2, d("2026-03-31"));
        assert_eq!(parse_period("p", "202602").unwrap().2, d("2026-02-28"));
        assert_eq!(parse_period("p", "2026W9").unwrap().1, d("2026-02-23"));
        for bad in [
            "2026Q5", "202613", "2026W54", "20260230", "26", "2026-03", "Q1",
        ] {
            assert_eq!(
                parse_period("period", bad).unwrap_err().field,
                "period",
                "{bad}"
            );
        }
    }
}
