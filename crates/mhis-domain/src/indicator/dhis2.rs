//! DHIS2 export: a mapping file from indicators and disaggregations to
//! DHIS2 identifiers, and the two payload formats DHIS2 imports.
//!
//! - **dataValueSets JSON** (DHIS2 Web API, "Data values" → "Sending data
//!   values"): `{"dataValues": [{"dataElement", "period", "orgUnit",
//!   "categoryOptionCombo", "value"}]}`, periods as DHIS2 identifiers
//!   (`2026Q1`).
//! - **ADX XML** (IHE QRPH ADX, namespace `urn:ihe:qrph:adx:2015`, as DHIS2
//!   imports it): `<group orgUnit period dataSet>` holding `<dataValue
//!   dataElement value>` with the disaggregation as an attribute named by
//!   the category code (`SEX="F"`); the period is an ISO 8601 start and
//!   duration (`2026-01-01/P3M`).
//!
//! A mapping is checked before anything is exported: every indicator it
//! names exists, and every site and disaggregation value that has data is
//! mapped. Suppressed cells are never exported.

use super::catalogue::{Catalogue, Indicator, Unit};
use super::dims::{Dimension, PeriodKind, parse_period};
use super::evaluate::{Cell, Filter, evaluate};
use super::facts::FactRow;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Computes an indicator's cells under a filter and breakdown: the
/// reference over rows, or the live cube.
pub type Evaluator<'a> = dyn FnMut(&Indicator, &Filter, Option<Dimension>) -> Vec<Cell> + 'a;

/// One indicator mapped to a DHIS2 data element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataMapping {
    /// The indicator id.
    pub indicator: String,
    /// The DHIS2 data element uid.
    pub data_element: String,
    /// The disaggregation sent as category option combos (`sex`,
    /// `age_group`); none: the default combo.
    pub disaggregate_by: Option<Dimension>,
    /// Category option combo uid per disaggregation value; `default` when
    /// not disaggregated.
    pub category_option_combos: BTreeMap<String, String>,
    /// The ADX category code for the disaggregation (`SEX`).
    pub adx_category: Option<String>,
    /// The ADX option code per disaggregation value (`female` → `F`).
    #[serde(default)]
    pub adx_options: BTreeMap<String, String>,
}

/// The mapping file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The DHIS2 data set uid (ADX groups name it).
    pub data_set: String,
    /// Org unit uid per site code.
    pub org_units: BTreeMap<String, String>,
    /// Mapped indicators.
    #[serde(rename = "data")]
    pub data: Vec<DataMapping>,
}

/// One exported value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataValue {
    /// Data element uid.
    pub data_element: String,
    /// DHIS2 period identifier.
    pub period: String,
    /// Org unit uid.
    pub org_unit: String,
    /// Category option combo uid.
    pub category_option_combo: String,
    /// The value, as DHIS2 takes it (text).
    pub value: String,
    /// For ADX: the category code and option code, when disaggregated.
    #[serde(skip)]
    pub adx: Option<(String, String)>,
}

/// A dataValueSets payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataValueSet {
    /// The values.
    pub data_values: Vec<DataValue>,
}

impl Mapping {
    /// Parses a mapping file.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        toml::from_str(text).map_err(|e| FieldError::new("mapping", e.to_string()))
    }

    /// Every problem that would stop an export of `rows`: unknown
    /// indicators, counts that are not plain numbers, sites and
    /// disaggregation values without a DHIS2 identifier.
    pub fn problems(&self, catalogue: &Catalogue, rows: &[FactRow]) -> Vec<FieldError> {
        self.problems_with(catalogue, &Filter::default(), &mut |i, f, by| {
            evaluate(catalogue, i, rows, f, by)
        })
    }

    /// [`Mapping::problems`] over any evaluator (the live cube, or the
    /// reference over rows), for the records `filter` selects.
    pub fn problems_with(
        &self,
        catalogue: &Catalogue,
        filter: &Filter,
        eval: &mut Evaluator<'_>,
    ) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut sites = std::collections::BTreeSet::new();
        for (i, d) in self.data.iter().enumerate() {
            let field = format!("data[{i}]");
            let Some(indicator) = catalogue.get(&d.indicator) else {
                problems.push(FieldError::new(
                    format!("{field}.indicator"),
                    format!("no indicator is named '{}'", d.indicator),
                ));
                continue;
            };
            if indicator.split.is_some() {
                problems.push(FieldError::new(
                    format!("{field}.indicator"),
                    format!(
                        "'{}' is split into several values; map one value per data element",
                        d.indicator
                    ),
                ));
            }
            // Every key with records gets a cell, suppressed or not.
            let values: std::collections::BTreeSet<String> =
                eval(indicator, filter, d.disaggregate_by)
                    .into_iter()
                    .map(|c| c.key.unwrap_or_else(|| "default".to_owned()))
                    .collect();
            sites.extend(
                eval(indicator, filter, Some(Dimension::Site))
                    .into_iter()
                    .filter_map(|c| c.key),
            );
            for v in values {
                if !d.category_option_combos.contains_key(&v) {
                    problems.push(FieldError::new(
                        format!("{field}.category_option_combos"),
                        format!("'{v}' has data but no category option combo"),
                    ));
                }
                if d.adx_category.is_some()
                    && d.disaggregate_by.is_some()
                    && !d.adx_options.contains_key(&v)
                {
                    problems.push(FieldError::new(
                        format!("{field}.adx_options"),
                        format!("'{v}' has data but no ADX option code"),
                    ));
                }
            }
        }
        for site in sites {
            if !self.org_units.contains_key(&site) {
                problems.push(FieldError::new(
                    "org_units",
                    format!("site '{site}' has data but no org unit"),
                ));
            }
        }
        problems
    }

    /// The values of `period` (a DHIS2 period identifier) for every mapped
    /// indicator and site; suppressed cells are left out. Call
    /// [`Mapping::problems`] first: unmapped items are skipped here.
    pub fn export(
        &self,
        catalogue: &Catalogue,
        rows: &[FactRow],
        period: &str,
    ) -> Result<DataValueSet, FieldError> {
        self.export_with(catalogue, period, &mut |i, f, by| {
            evaluate(catalogue, i, rows, f, by)
        })
    }

    /// [`Mapping::export`] over any evaluator.
    pub fn export_with(
        &self,
        catalogue: &Catalogue,
        period: &str,
        eval: &mut Evaluator<'_>,
    ) -> Result<DataValueSet, FieldError> {
        let (_, from, to) = parse_period("period", period)?;
        let mut data_values = Vec::new();
        for d in &self.data {
            let Some(indicator) = catalogue.get(&d.indicator) else {
                continue;
            };
            for (site, org_unit) in &self.org_units {
                let filter = Filter {
                    sites: Some(vec![site.clone()]),
                    from: Some(from),
                    to: Some(to),
                    today: Some(to),
                    ..Filter::default()
                };
                for cell in eval(indicator, &filter, d.disaggregate_by) {
                    let Some(value) = cell.value.filter(|_| !cell.suppressed) else {
                        continue;
                    };
                    let key = cell.key.clone().unwrap_or_else(|| "default".to_owned());
                    let Some(combo) = d.category_option_combos.get(&key) else {
                        continue;
                    };
                    let value = match indicator.unit {
                        Unit::Count => format!("{value:.0}"),
                        _ => format!("{value:.2}"),
                    };
                    data_values.push(DataValue {
                        data_element: d.data_element.clone(),
                        period: period.to_owned(),
                        org_unit: org_unit.clone(),
                        category_option_combo: combo.clone(),
                        value,
                        adx: d.adx_category.clone().zip(d.adx_options.get(&key).cloned()),
                    });
                }
            }
        }
        Ok(DataValueSet { data_values })
    }
}

/// The ISO 8601 start and duration of a DHIS2 period (`2026Q1` →
/// `2026-01-01/P3M`), as ADX writes periods.
pub fn adx_period(period: &str) -> Result<String, FieldError> {
    let (kind, from, _) = parse_period("period", period)?;
    let duration = match kind {
        PeriodKind::Day => "P1D",
        PeriodKind::Week => "P7D",
        PeriodKind::Month => "P1M",
        PeriodKind::Quarter => "P3M",
        PeriodKind::Year => "P1Y",
    };
    Ok(format!("{}/{duration}", from.format("%Y-%m-%d")))
}

fn xml_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The values as an ADX document, one group per org unit and period.
pub fn to_adx(set: &DataValueSet, data_set: &str) -> Result<String, FieldError> {
    let mut groups: BTreeMap<(&str, &str), Vec<&DataValue>> = BTreeMap::new();
    for v in &set.data_values {
        groups.entry((&v.org_unit, &v.period)).or_default().push(v);
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<adx xmlns=\"urn:ihe:qrph:adx:2015\">\n",
    );
    for ((org_unit, period), values) in groups {
        xml.push_str(&format!(
            "  <group orgUnit=\"{}\" period=\"{}\" dataSet=\"{}\">\n",
            xml_attr(org_unit),
            xml_attr(&adx_period(period)?),
            xml_attr(data_set)
        ));
        for v in values {
            let category = v
                .adx
                .as_ref()
                .map(|(c, o)| format!(" {}=\"{}\"", xml_attr(c), xml_attr(o)))
                .unwrap_or_default();
            xml.push_str(&format!(
                "    <dataValue dataElement=\"{}\"{category} value=\"{}\"/>\n",
                xml_attr(&v.data_element),
                xml_attr(&v.value)
            ));
        }
        xml.push_str("  </group>\n");
    }
    xml.push_str("</adx>\n");
    Ok(xml)
}
