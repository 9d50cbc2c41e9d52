//! Search parameters: the query string read strictly (an unknown parameter
//! is refused, never ignored), paging, tokens, references and date
//! prefixes.

use super::{Base, Failure, FhirResult};
use chrono::NaiveDate;
use mhis_domain::page::{MAX_PER_PAGE, PageRequest};

/// Parameters every search accepts and that change nothing mhis returns.
const IGNORED: [&str; 2] = ["_format", "_pretty"];

/// A search's parameters, in the order sent.
pub(super) struct Params {
    pairs: Vec<(String, String)>,
    /// The page asked for (`_count`, `_page`).
    pub page: PageRequest,
}

impl Params {
    /// Reads the query of `base`, allowing only `allowed` (plus `_count`,
    /// `_page`, `_format` and `_pretty`).
    pub fn parse(base: &Base, allowed: &[&str]) -> FhirResult<Self> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(base.query.as_deref().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let mut count = None;
        let mut page = None;
        for (name, value) in &pairs {
            match name.as_str() {
                "_count" => count = Some(number(name, value)?),
                "_page" => page = Some(number(name, value)?),
                n if IGNORED.contains(&n) || allowed.contains(&n) => {}
                n => {
                    return Err(Failure::param(
                        n,
                        &format!(
                            "'{n}' is not a search parameter mhis supports here (supported: {})",
                            allowed.join(", ")
                        ),
                    ));
                }
            }
        }
        let page = PageRequest::parse(page, count).map_err(|e| {
            let name = if e.field == "page" { "_page" } else { "_count" };
            Failure::param(
                name,
                &format!("{} ({name} may be 1 to {MAX_PER_PAGE})", e.message),
            )
        })?;
        Ok(Self { pairs, page })
    }

    /// The first value of `name`, when given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether `_include` asks for `what` (`Observation:patient`).
    pub fn includes(&self, what: &str) -> bool {
        self.all("_include").contains(&what)
    }

    /// Refuses an `_include` other than `supported`.
    pub fn check_includes(&self, supported: &[&str]) -> FhirResult<()> {
        for v in self.all("_include") {
            if !supported.contains(&v) {
                return Err(Failure::param(
                    "_include",
                    &format!(
                        "'{v}' cannot be included here (supported: {})",
                        supported.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The `patient` or `subject` reference, as a migrant id.
    pub fn patient(&self) -> FhirResult<Option<uuid::Uuid>> {
        for name in ["patient", "subject"] {
            if let Some(v) = self.get(name) {
                return super::reference_id(v, "Patient").map(Some).ok_or_else(|| {
                    Failure::param(name, &format!("'{v}' is not a reference to a Patient"))
                });
            }
        }
        Ok(None)
    }

    /// The link to the same search at page `page`.
    pub fn page_url(&self, base: &Base, page: u32) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (n, v) in &self.pairs {
            if n != "_page" {
                query.append_pair(n, v);
            }
        }
        query.append_pair("_page", &page.to_string());
        format!("{}{}?{}", base.url, base.path, query.finish())
    }

    /// The URL of this search as asked.
    pub fn self_url(&self, base: &Base) -> String {
        match &base.query {
            Some(q) if !q.is_empty() => format!("{}{}?{q}", base.url, base.path),
            _ => format!("{}{}", base.url, base.path),
        }
    }

    /// The link to the next page, when `total` matches go beyond this one.
    pub fn next_url(&self, base: &Base, total: u64) -> Option<String> {
        let shown = u64::from(self.page.page()) * u64::from(self.page.per_page());
        (shown < total).then(|| self.page_url(base, self.page.page() + 1))
    }
}

fn number(name: &str, value: &str) -> FhirResult<u32> {
    value
        .trim()
        .parse()
        .map_err(|_| Failure::param(name, &format!("'{value}' is not a whole number")))
}

/// A token (`system|code`, `|code` or `code`): the system when given.
pub(super) fn token(raw: &str) -> (Option<&str>, &str) {
    match raw.split_once('|') {
        Some((system, code)) => (Some(system).filter(|s| !s.is_empty()), code),
        None => (None, raw),
    }
}

/// A date search (`date=ge2024-01`): a prefix and the range of days the
/// (partial) date covers.
#[derive(Debug, Clone, Copy)]
pub(super) struct DateFilter {
    prefix: Prefix,
    first: NaiveDate,
    last: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl DateFilter {
    /// Reads `raw`, a value of the parameter `name`.
    pub fn parse(name: &str, raw: &str) -> FhirResult<Self> {
        let (prefix, rest) = match raw.get(..2) {
            Some("eq") => (Prefix::Eq, &raw[2..]),
            Some("ge") => (Prefix::Ge, &raw[2..]),
            Some("gt") => (Prefix::Gt, &raw[2..]),
            Some("le") => (Prefix::Le, &raw[2..]),
            Some("lt") => (Prefix::Lt, &raw[2..]),
            _ => (Prefix::Eq, raw),
        };
        let bad = || {
            Failure::param(
                name,
                &format!(
                    "'{raw}' is not a date search (eq, ge, gt, le or lt, then YYYY, YYYY-MM or YYYY-MM-DD)"
                ),
            )
        };
        let day = rest.get(..10).unwrap_or(rest);
        let (first, last) = match day.len() {
            4 => {
                let y: i32 = day.parse().map_err(|_| bad())?;
                (
                    NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(bad)?,
                    NaiveDate::from_ymd_opt(y, 12, 31).ok_or_else(bad)?,
                )
            }
            7 => {
                let first = NaiveDate::parse_from_str(&format!("{day}-01"), "%Y-%m-%d")
                    .map_err(|_| bad())?;
                let next = first
                    .checked_add_months(chrono::Months::new(1))
                    .ok_or_else(bad)?;
                (first, next.pred_opt().ok_or_else(bad)?)
            }
            10 => {
                let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())?;
                (d, d)
            }
            _ => return Err(bad()),
        };
        Ok(Self {
            prefix,
            first,
            last,
        })
    }

    /// Every filter of `name` in `params`.
    pub fn all(params: &Params, name: &str) -> FhirResult<Vec<Self>> {
        params
            .all(name)
            .into_iter()
            .map(|v| Self::parse(name, v))
            .collect()
    }

    /// Whether `day` satisfies the filter.
    pub fn matches(&self, day: NaiveDate) -> bool {
        match self.prefix {
            Prefix::Eq => self.first <= day && day <= self.last,
            Prefix::Ge => day >= self.first,
            Prefix::Gt => day > self.last,
            Prefix::Le => day <= self.last,
            Prefix::Lt => day < self.first,
        }
    }
}
