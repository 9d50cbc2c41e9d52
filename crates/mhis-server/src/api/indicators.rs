//! Indicator endpoints: the catalogue, and one indicator's cells under
//! filters for every disaggregation and an optional breakdown, as JSON or
//! CSV. Aggregates only, with small cells suppressed; a user limited to
//! some sites sees only theirs.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use mhis_domain::access::Permission;
use mhis_domain::indicator::dims::parse_period;
use mhis_domain::indicator::{AgeGroup, Cell, Dimension, Filter, Indicator};
use serde::{Deserialize, Serialize};

/// Filters and breakdown, as a query string.
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IndicatorParams {
    /// Break down by `site`, `nationality`, `destination`, `sex`,
    /// `age_group`, `day`, `week`, `month`, `quarter` or `year`.
    pub by: Option<String>,
    /// A site code.
    pub site: Option<String>,
    /// Nationality (ISO 3166-1 alpha-2).
    pub nationality: Option<String>,
    /// Destination (ISO 3166-1 alpha-2).
    pub destination: Option<String>,
    /// `female`, `male` or `other`.
    pub sex: Option<String>,
    /// `0-14`, `15-24`, `25-49` or `50+`.
    pub age_group: Option<String>,
    /// A DHIS2 period (`2026Q1`, `202603`, `2026W9`, `20260301`, `2026`);
    /// not with `from`/`to`.
    pub period: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// `json` (the default) or `csv`.
    pub format: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn date(field: &str, raw: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    raw.map(|r| {
        NaiveDate::parse_from_str(r, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid(field, format!("'{r}' is not a date (YYYY-MM-DD)")))
    })
    .transpose()
}

/// Parses filters and breakdown, and limits sites to the user's scope.
pub async fn filter_of(
    state: &AppState,
    user: &CurrentUser,
    p: &IndicatorParams,
) -> ApiResult<(Filter, Option<Dimension>)> {
    let by = blank(&p.by)
        .map(|b| Dimension::parse("by", b))
        .transpose()?;
    let age_group = blank(&p.age_group)
        .map(|a| {
            AgeGroup::ALL
                .into_iter()
                .find(|g| g.as_str() == a)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "age_group",
                        format!("'{a}' is not an age group: 0-14, 15-24, 25-49 or 50+"),
                    )
                })
        })
        .transpose()?;
    let sex = blank(&p.sex)
        .map(|s| match s {
            "female" | "male" | "other" => Ok(s.to_owned()),
            _ => Err(ApiError::invalid(
                "sex",
                format!("'{s}' is not female, male or other"),
            )),
        })
        .transpose()?;
    let country = |field: &str, v: &Option<String>| -> ApiResult<Option<String>> {
        blank(v)
            .map(|c| {
                let upper = c.to_ascii_uppercase();
                if upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(upper)
                } else {
                    Err(ApiError::invalid(
                        field,
                        format!("'{c}' is not a two-letter country code"),
                    ))
                }
            })
            .transpose()
    };
    let (mut from, mut to) = (date("from", blank(&p.from))?, date("to", blank(&p.to))?);
    if let Some(period) = blank(&p.period) {
        if from.is_some() || to.is_some() {
            return Err(ApiError::invalid(
                "period",
                "give a period or from/to, not both",
            ));
        }
        let (_, first, last) = parse_period("period", period)?;
        (from, to) = (Some(first), Some(last));
    }
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::invalid("to", "is before 'from'"));
    }
    // Sites by code, limited to the user's scope.
    let sites = state.store.list_sites().await?;
    let asked = blank(&p.site);
    if let Some(code) = asked
        && !sites.iter().any(|s| s.code.as_str() == code)
    {
        return Err(ApiError::invalid(
            "site",
            format!("no site has the code '{code}'"),
        ));
    }
    let visible: Option<Vec<String>> = user.user.scope.filter().map(|scope| {
        sites
            .iter()
            .filter(|s| scope.contains(&s.id))
            .map(|s| s.code.as_str().to_owned())
            .collect()
    });
    let sites = match (asked, visible) {
        (Some(code), Some(v)) => Some(v.into_iter().filter(|s| s == code).collect()),
        (Some(code), None) => Some(vec![code.to_owned()]),
        (None, v) => v,
    };
    Ok((
        Filter {
            sites,
            nationality: country("nationality", &p.nationality)?,
            destination: country("destination", &p.destination)?,
            sex,
            age_group,
            from,
            to,
            today: Some(state.today()),
        },
        by,
    ))
}

/// One indicator as the catalogue defines it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorInfo {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it measures.
    pub definition: String,
    /// `assessment` or `referral` records.
    pub facts: String,
    /// `count`, `percent`, `per_100000`, `median_days` or `p90_days`.
    pub unit: String,
    /// Flags every numerator row has.
    pub numerator: Vec<String>,
    /// Flags every denominator row has.
    pub denominator: Vec<String>,
    /// The attribute it is split by.
    pub split: Option<String>,
    /// Where the definition comes from.
    pub source: String,
}

impl From<&Indicator> for IndicatorInfo {
    fn from(i: &Indicator) -> Self {
        let text = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        Self {
            id: i.id.clone(),
            name: i.name.clone(),
            definition: i.definition.clone(),
            facts: text(serde_json::to_value(i.facts).unwrap_or_default()),
            unit: text(serde_json::to_value(i.unit).unwrap_or_default()),
            numerator: i.numerator.clone(),
            denominator: i.denominator.clone(),
            split: i.split.clone(),
            source: i.source.clone(),
        }
    }
}

/// The catalogue.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators",
    responses((status = 200, body = [IndicatorInfo])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<IndicatorInfo>>> {
    user.require(Permission::AggregateRead)?;
    Ok(Json(
        state
            .indicators
            .catalogue
            .indicators
            .iter()
            .map(IndicatorInfo::from)
            .collect(),
    ))
}

/// An indicator's cells.
#[derive(Debug, Serialize)]
pub struct IndicatorValues {
    /// The indicator.
    pub indicator: IndicatorInfo,
    /// The breakdown.
    pub by: Option<String>,
    /// Counts from 1 to this minus one are withheld.
    pub suppress_below: u64,
    /// The cells.
    pub cells: Vec<Cell>,
}

/// One indicator's cells, as JSON or (`format=csv`) CSV.
#[utoipa::path(get, path = "/api/v1/indicators/{id}", tag = "indicators",
    params(("id" = String, Path, description = "Indicator id"), IndicatorParams),
    responses((status = 200, description = "cells"), (status = 400), (status = 404)))]
pub async fn values(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<IndicatorParams>,
) -> ApiResult<Response> {
    user.require(Permission::AggregateRead)?;
    let indicator = crate::indicators::indicator(&state, &id)?;
    let (filter, by) = filter_of(&state, &user, &params).await?;
    let cells = crate::indicators::evaluate(&state, indicator, &filter, by).await?;
    match blank(&params.format).unwrap_or("json") {
        "json" => Ok(Json(IndicatorValues {
            indicator: indicator.into(),
            by: by.map(|b| b.as_str().to_owned()),
            suppress_below: state.indicators.catalogue.suppress_below,
            cells,
        })
        .into_response()),
        "csv" => csv_response(&indicator.id, by, &cells),
        other => Err(ApiError::invalid(
            "format",
            format!("'{other}' is not json or csv"),
        )),
    }
}

/// Cells as CSV: one line per cell; suppressed cells have no numbers.
pub fn csv_text(indicator: &str, by: Option<Dimension>, cells: &[Cell]) -> ApiResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let key_header = by.map_or("total", |b| b.as_str());
    let csv_err = |e: csv::Error| ApiError::internal(e.to_string());
    w.write_record([
        "indicator",
        key_header,
        "split",
        "numerator",
        "denominator",
        "value",
        "suppressed",
    ])
    .map_err(csv_err)?;
    let num = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    for c in cells {
        w.write_record([
            indicator.to_owned(),
            c.key.clone().unwrap_or_else(|| "all".to_owned()),
            c.split.clone().unwrap_or_default(),
            num(c.numerator),
            num(c.denominator),
            c.value.map(|v| format!("{v:.2}")).unwrap_or_default(),
            c.suppressed.to_string(),
        ])
        .map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(e.to_string()))
}

/// Cells as a CSV download.
pub fn csv_response(indicator: &str, by: Option<Dimension>, cells: &[Cell]) -> ApiResult<Response> {
    let body = csv_text(indicator, by, cells)?;
    let name = format!(
        "attachment; filename=\"{indicator}{}.csv\"",
        by.map(|b| format!("-by-{}", b.as_str()))
            .unwrap_or_default()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}
