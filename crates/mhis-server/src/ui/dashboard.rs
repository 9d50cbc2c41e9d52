//! The monitoring dashboard: a tile per indicator, a time series and a
//! breakdown of the chosen indicator as server-rendered SVG charts with
//! their tables, filters for every disaggregation, and a CSV download of
//! each table. Aggregates only, suppressed like every other output.

use crate::api::indicators::{IndicatorParams, csv_response, filter_of};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::charts::{self, Bar, format_number};
use crate::ui::i18n::Tr;
use crate::ui::session::{Layout, OrPage, PageError, PageUser, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mhis_domain::access::Permission;
use mhis_domain::indicator::{AgeGroup, Cell, Dimension, Indicator, PeriodKind, Unit};

/// One tile: an indicator's value under the filters.
pub struct Tile {
    /// The indicator id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The value as shown (or why there is none).
    pub value: String,
    /// Numerator over denominator, for ratios.
    pub detail: String,
    /// The chart link for this indicator.
    pub href: String,
    /// Whether it is the chosen indicator.
    pub current: bool,
}

/// A row of a chart's table.
pub struct TableRow {
    /// The key (and split value).
    pub key: String,
    /// Numerator, or empty when suppressed.
    pub numerator: String,
    /// Denominator, for ratios.
    pub denominator: String,
    /// The value as shown.
    pub value: String,
}

/// A chart with its table and CSV link.
pub struct Chart {
    /// The heading.
    pub title: String,
    /// Inline SVG.
    pub svg: String,
    /// The same numbers.
    pub rows: Vec<TableRow>,
    /// Whether the indicator is a ratio (the table shows a denominator).
    pub ratio: bool,
    /// Download link.
    pub csv: String,
}

/// An option of a select.
pub struct Choice {
    /// The value.
    pub value: String,
    /// The label.
    pub label: String,
    /// Selected.
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    tiles: Vec<Tile>,
    charts: Vec<Chart>,
    sites: Vec<Choice>,
    sexes: Vec<Choice>,
    ages: Vec<Choice>,
    breakdowns: Vec<Choice>,
    indicators: Vec<Choice>,
    series_kinds: Vec<Choice>,
    p: IndicatorParams,
    suppress_below: u64,
    error: Option<String>,
}

const SERIES_KINDS: [PeriodKind; 4] = [
    PeriodKind::Week,
    PeriodKind::Month,
    PeriodKind::Quarter,
    PeriodKind::Year,
];

/// A value as shown, in the indicator's unit.
pub fn shown(t: &Tr, unit: Unit, cell: &Cell) -> String {
    if cell.suppressed {
        return t.t("dashboard-suppressed");
    }
    match (cell.value, unit) {
        (None, _) => "—".to_owned(),
        (Some(v), Unit::Percent) => format!("{v:.1} %"),
        (Some(v), Unit::Count) => format!("{v:.0}"),
        (Some(v), _) => format_number(v),
    }
}

fn label(cell: &Cell) -> String {
    match (&cell.key, &cell.split) {
        (Some(k), Some(s)) => format!("{k} · {s}"),
        (Some(k), None) => k.clone(),
        (None, Some(s)) => s.clone(),
        (None, None) => "all".to_owned(),
    }
}

fn chart(
    t: &Tr,
    indicator: &Indicator,
    title: String,
    cells: &[Cell],
    csv: String,
    columns: bool,
) -> Chart {
    let bars: Vec<Bar> = cells
        .iter()
        .map(|c| Bar {
            label: label(c),
            value: c.value.filter(|_| !c.suppressed),
            shown: shown(t, indicator.unit, c),
        })
        .collect();
    let svg = if columns {
        charts::columns(&title, &bars)
    } else {
        charts::bars(&title, &bars)
    };
    let num = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    Chart {
        rows: cells
            .iter()
            .map(|c| TableRow {
                key: label(c),
                numerator: num(c.numerator),
                denominator: num(c.denominator),
                value: shown(t, indicator.unit, c),
            })
            .collect(),
        ratio: matches!(indicator.unit, Unit::Percent | Unit::Per100000),
        title,
        svg,
        csv,
    }
}

fn query_string(p: &IndicatorParams, by: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("site", &p.site),
        ("nationality", &p.nationality),
        ("destination", &p.destination),
        ("sex", &p.sex),
        ("age_group", &p.age_group),
        ("period", &p.period),
        ("from", &p.from),
        ("to", &p.to),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q.append_pair(k, v);
        }
    }
    q.append_pair("by", by);
    q.finish()
}

/// The dashboard's query: the API's filters plus the chosen indicator and
/// the time series' period kind.
type DashboardQuery = std::collections::HashMap<String, String>;

fn split_params(
    mut f: DashboardQuery,
) -> Result<(IndicatorParams, Option<String>, Option<String>), ApiError> {
    let indicator = f.remove("indicator");
    let series = f.remove("series");
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &f {
        q.append_pair(k, v);
    }
    let p: IndicatorParams = serde_urlencoded::from_str(&q.finish())
        .map_err(|e| ApiError::invalid("query", e.to_string()))?;
    Ok((p, indicator, series))
}

/// `GET /dashboard`.
pub async fn page(
    State(state): State<AppState>,
    u: PageUser,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    u.require(Permission::AggregateRead)?;
    let t = u.layout.t;
    let (mut p, chosen, series_kind) = split_params(query).or_page(&u.layout)?;
    let catalogue = state.indicators.catalogue.clone();
    let chosen = chosen
        .filter(|c| catalogue.get(c).is_some())
        .unwrap_or_else(|| "migrants_assessed".to_owned());
    let indicator = catalogue
        .get(&chosen)
        .ok_or_else(|| u.fail(StatusCode::NOT_FOUND))?;
    let series_kind = SERIES_KINDS
        .into_iter()
        .find(|k| Some(k.as_str()) == series_kind.as_deref())
        .unwrap_or(PeriodKind::Month);
    let breakdown_by =
        p.by.clone()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "site".into());
    p.by = None;
    let mut error = None;
    let parsed = filter_of(&state, &u.current, &p).await;
    let (filter, _) = match parsed {
        Ok(f) => f,
        Err(e) => {
            error = Some(match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            });
            // Show the dashboard unfiltered, with the message.
            p = IndicatorParams::default();
            filter_of(&state, &u.current, &p).await.or_page(&u.layout)?
        }
    };
    let breakdown_dim = Dimension::parse("by", &breakdown_by)
        .ok()
        .filter(|d| !matches!(d, Dimension::Period(_)))
        .unwrap_or(Dimension::Site);
    let mut tiles = Vec::new();
    for ind in &catalogue.indicators {
        let cells = crate::indicators::evaluate(&state, ind, &filter, None)
            .await
            .or_page(&u.layout)?;
        let (value, detail) = if ind.split.is_some() {
            let parts: Vec<String> = cells
                .iter()
                .map(|c| format!("{}: {}", label(c), shown(&t, ind.unit, c)))
                .collect();
            (
                parts.len().to_string(),
                if parts.is_empty() {
                    "—".into()
                } else {
                    parts.join(" · ")
                },
            )
        } else {
            match cells.first() {
                Some(c) => (
                    shown(&t, ind.unit, c),
                    match (c.numerator, c.denominator) {
                        (Some(n), Some(d)) => format!("{n} / {d}"),
                        _ => String::new(),
                    },
                ),
                None => ("—".into(), String::new()),
            }
        };
        tiles.push(Tile {
            id: ind.id.clone(),
            name: ind.name.clone(),
            value,
            detail,
            href: format!(
                "/dashboard?{}&indicator={}",
                query_string(&p, breakdown_dim.as_str()),
                ind.id
            ),
            current: ind.id == chosen,
        });
    }
    let series_dim = Dimension::Period(series_kind);
    let series_cells = crate::indicators::evaluate(&state, indicator, &filter, Some(series_dim))
        .await
        .or_page(&u.layout)?;
    let breakdown_cells =
        crate::indicators::evaluate(&state, indicator, &filter, Some(breakdown_dim))
            .await
            .or_page(&u.layout)?;
    let series = chart(
        &t,
        indicator,
        t.t2(
            "dashboard-series-title",
            ("indicator", &indicator.name),
            (
                "period",
                &t.t(&format!("dashboard-by-{}", series_kind.as_str())),
            ),
        ),
        &series_cells,
        format!(
            "/dashboard/csv/{}?{}",
            indicator.id,
            query_string(&p, series_dim.as_str())
        ),
        true,
    );
    let breakdown = chart(
        &t,
        indicator,
        t.t2(
            "dashboard-breakdown-title",
            ("indicator", &indicator.name),
            (
                "by",
                &t.t(&format!("dashboard-by-{}", breakdown_dim.as_str())),
            ),
        ),
        &breakdown_cells,
        format!(
            "/dashboard/csv/{}?{}",
            indicator.id,
            query_string(&p, breakdown_dim.as_str())
        ),
        false,
    );
    let visible_sites = state.store.list_sites().await.or_page(&u.layout)?;
    let scope = u.current.user.scope.filter().map(<[_]>::to_vec);
    let choice = |value: &str, label: String, current: &Option<String>| Choice {
        selected: current.as_deref() == Some(value),
        value: value.to_owned(),
        label,
    };
    let sites = visible_sites
        .iter()
        .filter(|s| scope.as_ref().is_none_or(|sc| sc.contains(&s.id)))
        .map(|s| {
            choice(
                s.code.as_str(),
                format!("{} — {}", s.code.as_str(), s.name),
                &p.site,
            )
        })
        .collect();
    let sexes = ["female", "male", "other"]
        .iter()
        .map(|s| choice(s, t.t(&format!("sex-{s}")), &p.sex))
        .collect();
    let ages = AgeGroup::ALL
        .iter()
        .map(|a| choice(a.as_str(), a.as_str().to_owned(), &p.age_group))
        .collect();
    let by = Some(breakdown_dim.as_str().to_owned());
    let breakdowns = [
        Dimension::Site,
        Dimension::Nationality,
        Dimension::Destination,
        Dimension::Sex,
        Dimension::AgeGroup,
    ]
    .iter()
    .map(|d| {
        choice(
            d.as_str(),
            t.t(&format!("dashboard-by-{}", d.as_str())),
            &by,
        )
    })
    .collect();
    let chosen_opt = Some(chosen.clone());
    let indicators = catalogue
        .indicators
        .iter()
        .map(|i| choice(&i.id, i.name.clone(), &chosen_opt))
        .collect();
    let series_opt = Some(series_kind.as_str().to_owned());
    let series_kinds = SERIES_KINDS
        .iter()
        .map(|k| {
            choice(
                k.as_str(),
                t.t(&format!("dashboard-by-{}", k.as_str())),
                &series_opt,
            )
        })
        .collect();
    u.current
        .audit_read(&state, "indicator.dashboard", "indicator", None)
        .await
        .or_page(&u.layout)?;
    Ok(render(
        StatusCode::OK,
        &DashboardPage {
            l: u.layout,
            tiles,
            charts: vec![series, breakdown],
            sites,
            sexes,
            ages,
            breakdowns,
            indicators,
            series_kinds,
            p,
            suppress_below: catalogue.suppress_below,
            error,
        },
    ))
}

/// `GET /dashboard/csv/{indicator}`: one table as CSV.
pub async fn csv(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(p): Query<IndicatorParams>,
) -> Result<Response, PageError> {
    u.require(Permission::AggregateRead)?;
    let indicator = crate::indicators::indicator(&state, &id).or_page(&u.layout)?;
    let (filter, by) = filter_of(&state, &u.current, &p).await.or_page(&u.layout)?;
    let cells = crate::indicators::evaluate(&state, indicator, &filter, by)
        .await
        .or_page(&u.layout)?;
    csv_response(&indicator.id, by, &cells).or_page(&u.layout)
}
