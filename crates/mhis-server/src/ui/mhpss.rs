//! The MHPSS pages for counsellors and clinicians: the caseload of open
//! cases, a person's MHPSS record, the screening form built from the
//! instrument's data (in the licensed wording when the deployment supplied
//! it), the screening's result with its suggested referrals to confirm, a
//! case with its sessions and closure, and the flag panel of the
//! assessment page.
//!
//! Every read and change goes through the JSON API's handlers
//! ([`crate::api::mhpss`]): the same restricted permissions, site scope and
//! audit entries. The assessment page shows a flag's message only, never
//! the answers, and only to roles that may read MHPSS records.

use crate::api::mhpss::{self as api, ScreeningReferralInput, flags_of};
use crate::api::migrants::visible_migrant;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::ui::forms::{Opt, value};
use crate::ui::i18n::Tr;
use crate::ui::pages::{FormPairs, MigrantRow, see_other};
use crate::ui::session::{Layout, OrPage, PageError, PageUser, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mhis_domain::access::Permission;
use mhis_domain::assessment::Assessment;
use mhis_domain::ids::SiteId;
use mhis_domain::instrument::Form as InstrumentForm;
use mhis_domain::mhpss::{
    CaseStatus, CloseInput, ClosureReason, MhpssCase, Screening, ScreeningContext, ScreeningInput,
    SessionInput, SessionKind,
};
use mhis_domain::referral::Urgency;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The label of a wire value: its translation `prefix-key`, else the key.
fn label(t: &Tr, prefix: &str, key: &str) -> String {
    let id = format!("{prefix}-{key}");
    if t.has(&id) { t.t(&id) } else { key.to_owned() }
}

/// The title of an instrument, or its id.
fn instrument_title(state: &AppState, id: &str) -> String {
    state
        .instruments
        .get(id)
        .map_or_else(|| id.to_owned(), |i| i.title.clone())
}

/// One screening, as a row of a list.
pub struct ScreeningRow {
    /// Link to the screening page.
    pub href: String,
    /// When.
    pub date: String,
    /// The instrument's title.
    pub instrument: String,
    /// Where it was done, translated.
    pub context: String,
    /// The total and band, or "incomplete".
    pub result: String,
    /// Positive screen.
    pub positive: bool,
    /// An immediate flag was raised.
    pub flagged: bool,
}

fn screening_row(state: &AppState, t: &Tr, s: &Screening) -> ScreeningRow {
    let r = &s.result;
    let result = if r.complete {
        let score = r
            .scores
            .get("total")
            .map(|v| v.to_string())
            .unwrap_or_default();
        match &r.band {
            Some(b) => format!("{score} · {}", b.label),
            None => score,
        }
    } else {
        t.t1("mhpss-incomplete", "count", &r.missing.len().to_string())
    };
    ScreeningRow {
        href: format!("/screenings/{}", s.id),
        date: t.date_time(s.screened_at),
        instrument: instrument_title(state, &s.instrument),
        context: label(t, "mhpss-context", s.context.as_str()),
        result,
        positive: r.positive == Some(true),
        flagged: s.has_immediate_flag(),
    }
}

/// One case, as a row of a list.
pub struct CaseRow {
    /// Link to the case page.
    pub href: String,
    /// The person's name and number.
    pub person: String,
    /// Opened on.
    pub opened: String,
    /// Open or closed (with the reason), translated.
    pub status: String,
    /// Whether it is open.
    pub open: bool,
}

fn case_row(t: &Tr, c: &MhpssCase, person: String) -> CaseRow {
    let status = match c.closure_reason {
        Some(r) => format!(
            "{} · {}",
            label(t, "mhpss-status", c.status.as_str()),
            label(t, "mhpss-closure", r.as_str())
        ),
        None => label(t, "mhpss-status", c.status.as_str()),
    };
    CaseRow {
        href: format!("/mhpss-cases/{}", c.id),
        person,
        opened: t.date(c.opened_at.date_naive()),
        status,
        open: c.status == CaseStatus::Open,
    }
}

// ---- Caseload ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "mhpss_caseload.html")]
struct CaseloadPage {
    l: Layout,
    rows: Vec<CaseRow>,
}

/// `GET /mhpss`: the open cases of the user's sites, newest first.
pub async fn caseload(State(state): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    u.require(Permission::MhpssRead)?;
    let t = u.layout.t;
    let cases = state
        .store
        .list_cases(u.user().scope.filter(), true, 200)
        .await
        .or_page(&u.layout)?;
    let mut rows = Vec::new();
    for c in &cases {
        let m = state
            .store
            .get_migrant(c.migrant_id)
            .await
            .or_page(&u.layout)?;
        let m = MigrantRow::new(&t, &m);
        rows.push(case_row(&t, c, format!("{} · {}", m.name, m.number)));
    }
    u.current
        .audit_read(&state, "mhpss.case.list", "case", None)
        .await
        .or_page(&u.layout)?;
    Ok(render(StatusCode::OK, &CaseloadPage { l: u.layout, rows }))
}

// ---- A person's record ---------------------------------------------------------

#[derive(Template)]
#[template(path = "mhpss_record.html")]
struct RecordPage {
    l: Layout,
    m: MigrantRow,
    cases: Vec<CaseRow>,
    screenings: Vec<ScreeningRow>,
    can_screen: bool,
    instruments: Vec<Opt>,
    contexts: Vec<Opt>,
}

fn instrument_options(state: &AppState, current: &str) -> Vec<Opt> {
    state
        .instruments
        .iter()
        .map(|i| Opt::new(i.id.clone(), i.title.clone(), current))
        .collect()
}

fn context_options(t: &Tr, current: &str) -> Vec<Opt> {
    ScreeningContext::ALL
        .iter()
        .filter(|c| **c != ScreeningContext::Assessment)
        .map(|c| Opt::new(c.as_str(), label(t, "mhpss-context", c.as_str()), current))
        .collect()
}

/// `GET /migrants/{id}/mhpss`: the person's cases and screenings at the
/// user's sites, and the choice of an instrument to screen with.
pub async fn record(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    u.require(Permission::MhpssRead)?;
    let t = u.layout.t;
    let migrant = visible_migrant(&state, &u.current, &id)
        .await
        .or_page(&u.layout)?;
    let axum::Json(cases) =
        api::list_cases(State(state.clone()), u.current.clone(), Path(id.clone()))
            .await
            .or_page(&u.layout)?;
    let axum::Json(screenings) =
        api::list_screenings(State(state.clone()), u.current.clone(), Path(id))
            .await
            .or_page(&u.layout)?;
    let m = MigrantRow::new(&t, &migrant);
    let person = format!("{} · {}", m.name, m.number);
    Ok(render(
        StatusCode::OK,
        &RecordPage {
            cases: cases
                .iter()
                .map(|c| case_row(&t, c, person.clone()))
                .collect(),
            screenings: screenings
                .iter()
                .map(|s| screening_row(&state, &t, s))
                .collect(),
            can_screen: u.user().can(Permission::MhpssWrite),
            instruments: instrument_options(&state, ""),
            contexts: context_options(&t, "other"),
            m,
            l: u.layout,
        },
    ))
}

// ---- The screening form ----------------------------------------------------------

/// The query of the screening form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScreenQuery {
    /// The instrument id.
    pub instrument: Option<String>,
    /// The assessment it is part of.
    pub assessment_id: Option<String>,
    /// Where it is done (without an assessment).
    pub context: Option<String>,
    /// A language of licensed wording.
    pub language: Option<String>,
}

/// One answer option as shown.
pub struct OptionView {
    /// The code sent.
    pub code: String,
    /// The text shown.
    pub text: String,
    /// What it counts for.
    pub value: i64,
    /// Checked (the answer given before a refusal).
    pub checked: bool,
}

/// One item as shown.
pub struct ItemView {
    /// The item id, the field name.
    pub id: String,
    /// 1-based position.
    pub n: usize,
    /// The text: licensed wording or our label.
    pub text: String,
    /// Options; empty for a numeric scale.
    pub options: Vec<OptionView>,
    /// Bounds of a numeric scale.
    pub min: i64,
    /// Bounds of a numeric scale.
    pub max: i64,
    /// The hint of a numeric scale ("a whole number from 0 to 10").
    pub range: String,
    /// The number entered before a refusal.
    pub entered: String,
    /// The error on this item.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "mhpss_screen.html")]
struct ScreenPage {
    l: Layout,
    csrf: String,
    m: MigrantRow,
    action: String,
    title: String,
    instrument: String,
    instructions: Option<String>,
    wording_source: Option<String>,
    languages: Vec<Opt>,
    language_href: String,
    assessment_id: String,
    context: String,
    contexts: Vec<Opt>,
    items: Vec<ItemView>,
    error: Option<String>,
}

struct Filled<'a> {
    form: &'a [(String, String)],
    error: Option<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
async fn screen_page(
    state: &AppState,
    u: PageUser,
    id: &str,
    instrument: &str,
    language: Option<&str>,
    assessment_id: &str,
    context: &str,
    filled: Option<Filled<'_>>,
) -> Result<Response, PageError> {
    let t = u.layout.t;
    let migrant = visible_migrant(state, &u.current, id)
        .await
        .or_page(&u.layout)?;
    let lang = language.unwrap_or(t.lang.code());
    let Some(form): Option<InstrumentForm> = state.instruments.form(instrument, Some(lang)) else {
        return Err(u.fail(StatusCode::NOT_FOUND));
    };
    let given = |name: &str| {
        filled
            .as_ref()
            .map_or("", |f| value(f.form, name))
            .to_owned()
    };
    let item_error = |item: &str| {
        filled
            .as_ref()
            .and_then(|f| f.error.as_ref())
            .filter(|(field, _)| field == &format!("answers.{item}"))
            .map(|(_, m)| m.clone())
    };
    let items = form
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let entered = given(&item.id);
            ItemView {
                n: i + 1,
                text: item.text.clone(),
                options: item
                    .options
                    .iter()
                    .map(|o| OptionView {
                        checked: o.code == entered,
                        code: o.code.clone(),
                        text: o.text.clone(),
                        value: o.value,
                    })
                    .collect(),
                min: item.min.unwrap_or(0),
                max: item.max.unwrap_or(0),
                range: t.t2(
                    "mhpss-range",
                    ("min", item.min.unwrap_or(0).to_string().as_str()),
                    ("max", item.max.unwrap_or(0).to_string().as_str()),
                ),
                error: item_error(&item.id),
                entered,
                id: item.id.clone(),
            }
        })
        .collect();
    let error = filled
        .as_ref()
        .and_then(|f| f.error.as_ref())
        .map(|(field, m)| {
            if field.starts_with("answers.") {
                t.t("mhpss-invalid-answers")
            } else {
                format!("{field}: {m}")
            }
        });
    let mut languages: Vec<Opt> = state
        .instruments
        .languages(instrument)
        .into_iter()
        .map(|code| Opt::new(code, code, lang))
        .collect();
    if !languages.is_empty() {
        languages.insert(0, Opt::new("", t.t("mhpss-own-labels"), ""));
    }
    let status = if filled.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let m = MigrantRow::new(&t, &migrant);
    Ok(render(
        status,
        &ScreenPage {
            csrf: u.csrf.clone(),
            action: format!("{}/mhpss/screen", m.href),
            language_href: format!("{}/mhpss/screen", m.href),
            m,
            title: form.title.clone(),
            instrument: form.instrument.clone(),
            instructions: form.instructions.clone(),
            wording_source: form.wording_source.clone(),
            languages,
            assessment_id: assessment_id.to_owned(),
            context: context.to_owned(),
            contexts: context_options(&t, context),
            items,
            error,
            l: u.layout,
        },
    ))
}

/// `GET /migrants/{id}/mhpss/screen?instrument=…`: the instrument's form.
pub async fn screen_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(q): Query<ScreenQuery>,
) -> Result<Response, PageError> {
    u.require(Permission::MhpssWrite)?;
    let instrument = q.instrument.unwrap_or_default();
    screen_page(
        &state,
        u,
        &id,
        &instrument,
        q.language.as_deref().filter(|l| !l.is_empty()),
        q.assessment_id.as_deref().unwrap_or(""),
        q.context.as_deref().unwrap_or("other"),
        None,
    )
    .await
}

/// The answers of a submitted form: an option code, a whole number, or
/// nothing (left blank: unanswered, never zero).
fn answers_of(state: &AppState, instrument: &str, form: &[(String, String)]) -> Value {
    let mut answers = Map::new();
    if let Some(i) = state.instruments.get(instrument) {
        for item in &i.items {
            let raw = value(form, &item.id).trim();
            if raw.is_empty() {
                continue;
            }
            let answer = raw
                .parse::<i64>()
                .map_or_else(|_| Value::String(raw.to_owned()), Value::from);
            answers.insert(item.id.clone(), answer);
        }
    }
    Value::Object(answers)
}

/// `POST /migrants/{id}/mhpss/screen`: scores and stores the screening,
/// then shows its result.
pub async fn screen(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    u.require(Permission::MhpssWrite)?;
    let instrument = value(&form, "instrument").to_owned();
    let assessment_id = value(&form, "assessment_id").trim().to_owned();
    let context = value(&form, "context").trim().to_owned();
    let input = ScreeningInput {
        answers: answers_of(&state, &instrument, &form),
        instrument: instrument.clone(),
        assessment_id: if assessment_id.is_empty() {
            None
        } else {
            Some(
                assessment_id
                    .parse()
                    .map_err(|_| u.fail(StatusCode::NOT_FOUND))?,
            )
        },
        site_id: None,
        context: Some(context.clone()).filter(|c| !c.is_empty() && assessment_id.is_empty()),
    };
    let done = api::screen(
        State(state.clone()),
        u.current.clone(),
        Path(id.clone()),
        ApiJson(input),
    )
    .await;
    match done {
        Ok((_, axum::Json(d))) => Ok(see_other(&format!("/screenings/{}", d.screening.id))),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let error = Some((e.field.clone().unwrap_or_default(), e.message.clone()));
            let language = value(&form, "language").to_owned();
            screen_page(
                &state,
                u,
                &id,
                &instrument,
                Some(language.as_str()).filter(|l| !l.is_empty()),
                &assessment_id,
                &context,
                Some(Filled { form: &form, error }),
            )
            .await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}

// ---- A screening's result ------------------------------------------------------------

/// One answer as shown on the result page.
pub struct AnswerRow {
    /// The item's text.
    pub item: String,
    /// The answer's text, or "not answered".
    pub answer: String,
}

/// A suggested referral with its confirmation form.
pub struct SuggestionView {
    /// The reason code.
    pub reason: String,
    /// Its label.
    pub label: String,
    /// Confirmed already.
    pub already: bool,
    /// Receiving sites.
    pub sites: Vec<Opt>,
    /// Urgencies, the suggested one selected.
    pub urgencies: Vec<Opt>,
    /// The due date.
    pub due_date: String,
}

#[derive(Template)]
#[template(path = "mhpss_screening.html")]
struct ScreeningPage {
    l: Layout,
    csrf: String,
    id: String,
    m: MigrantRow,
    row: ScreeningRow,
    case_href: String,
    assessment_href: Option<String>,
    complete: bool,
    missing: Vec<String>,
    scores: Vec<(String, String)>,
    band: Option<String>,
    result: Option<String>,
    thresholds: Vec<(String, String)>,
    flags: Vec<(String, String)>,
    answers: Vec<AnswerRow>,
    suggestions: Vec<SuggestionView>,
    referrals: Vec<crate::ui::referrals::ReferralRow>,
    can_refer: bool,
    error: Option<String>,
    screened_by: String,
}

async fn screening_page(
    state: &AppState,
    u: PageUser,
    id: &str,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    u.require(Permission::MhpssRead)?;
    let t = u.layout.t;
    let axum::Json(d) =
        api::get_screening(State(state.clone()), u.current.clone(), Path(id.to_owned()))
            .await
            .or_page(&u.layout)?;
    let s = &d.screening;
    let r = &s.result;
    let migrant = state
        .store
        .get_migrant(s.migrant_id)
        .await
        .or_page(&u.layout)?;
    let instrument = state.instruments.get(&s.instrument);
    let form = state.instruments.form(&s.instrument, Some(t.lang.code()));
    let item_text = |item: &str| {
        form.as_ref()
            .and_then(|f| f.items.iter().find(|i| i.id == item))
            .map_or_else(|| item.to_owned(), |i| i.text.clone())
    };
    let answers = form
        .as_ref()
        .map(|f| {
            f.items
                .iter()
                .map(|item| AnswerRow {
                    item: item.text.clone(),
                    answer: match s.answers.get(&item.id) {
                        None => t.t("mhpss-not-answered"),
                        Some(mhis_domain::instrument::Answer::Number(n)) => item
                            .options
                            .iter()
                            .find(|o| o.value == *n)
                            .map_or_else(|| n.to_string(), |o| format!("{} ({n})", o.text)),
                        Some(mhis_domain::instrument::Answer::Code(c)) => item
                            .options
                            .iter()
                            .find(|o| &o.code == c)
                            .map_or_else(|| c.clone(), |o| format!("{} ({})", o.text, o.value)),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let scores = r
        .scores
        .iter()
        .map(|(k, v)| {
            let name = instrument
                .and_then(|i| i.scores.iter().find(|x| &x.id == k))
                .map_or_else(|| k.clone(), |x| x.label.clone());
            (name, v.to_string())
        })
        .collect();
    let result = match (r.positive, instrument.and_then(|i| i.result.as_ref())) {
        (Some(true), Some(rule)) => Some(rule.positive.clone()),
        (Some(false), Some(rule)) => Some(rule.negative.clone()),
        _ => None,
    };
    let sites = state.store.list_sites().await.or_page(&u.layout)?;
    let suggestions = d
        .suggestions
        .iter()
        .map(|x| SuggestionView {
            reason: x.reason.clone(),
            label: crate::ui::referrals::reason_label(state, &t, &x.reason),
            already: x.already_referred,
            sites: sites
                .iter()
                .map(|site| {
                    Opt::new(
                        site.id.to_string(),
                        format!("{} — {}", site.code.as_str(), site.name),
                        "",
                    )
                })
                .collect(),
            urgencies: Urgency::ALL
                .iter()
                .map(|v| {
                    Opt::new(
                        v.as_str(),
                        t.t(&format!("urgency-{}", v.as_str())),
                        x.urgency.as_str(),
                    )
                })
                .collect(),
            due_date: x.due_date.to_string(),
        })
        .collect();
    let referrals = crate::ui::referrals::rows(state, &u.layout, &d.referrals).await?;
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    Ok(render(
        status,
        &ScreeningPage {
            csrf: u.csrf.clone(),
            id: s.id.to_string(),
            m: MigrantRow::new(&t, &migrant),
            row: screening_row(state, &t, s),
            case_href: format!("/mhpss-cases/{}", s.case_id),
            assessment_href: s.assessment_id.map(|a| format!("/assessments/{a}")),
            complete: r.complete,
            missing: r.missing.iter().map(|i| item_text(i)).collect(),
            scores,
            band: r.band.as_ref().map(|b| b.label.clone()),
            result,
            thresholds: r
                .thresholds_met
                .iter()
                .map(|x| (x.label.clone(), x.source.clone()))
                .collect(),
            flags: r
                .flags
                .iter()
                .map(|f| (flag_message(&t, &f.id, &f.message), f.source.clone()))
                .collect(),
            answers,
            suggestions,
            referrals,
            can_refer: u.user().can(Permission::MhpssWrite)
                && u.user().can(Permission::ReferralManage),
            error,
            screened_by: s.screened_by.clone(),
            l: u.layout,
        },
    ))
}

/// A flag's message, translated when the locale has it.
fn flag_message(t: &Tr, id: &str, message: &str) -> String {
    let key = format!("mhpss-flag-{id}");
    if t.has(&key) {
        t.t(&key)
    } else {
        message.to_owned()
    }
}

/// `GET /screenings/{id}`: the answers, score, band, result, thresholds,
/// flags, and the suggested referrals to confirm.
pub async fn screening(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    screening_page(&state, u, &id, None).await
}

/// Whether an API error is a refusal to show on the form's page.
fn is_refusal(e: &ApiError) -> bool {
    matches!(e.status.as_u16(), 409 | 422)
}

fn refusal(t: &Tr, e: &ApiError) -> String {
    match e.field.as_deref() {
        Some(field) => t.t2(
            "mhpss-refused-field",
            ("field", field),
            ("message", e.message.as_str()),
        ),
        None => t.t("error-bad-request-text"),
    }
}

fn filled(form: &[(String, String)], name: &str) -> Option<String> {
    Some(value(form, name).trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /screenings/{id}/referrals`: confirms a suggested referral
/// (`reason`, `to_site_id`, `urgency`, `due_date`, `note`).
pub async fn refer(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    u.require(Permission::MhpssWrite)?;
    let input = ScreeningReferralInput {
        reason: value(&form, "reason").to_owned(),
        to_site_id: value(&form, "to_site_id").parse::<SiteId>().ok(),
        urgency: filled(&form, "urgency"),
        due_date: filled(&form, "due_date"),
        note: filled(&form, "note"),
    };
    let done = api::refer(
        State(state.clone()),
        u.current.clone(),
        Path(id.clone()),
        ApiJson(input),
    )
    .await;
    match done {
        Ok(_) => Ok(see_other(&format!("/screenings/{id}#referrals"))),
        Err(e) if is_refusal(&e) => {
            let message = refusal(&u.layout.t, &e);
            screening_page(&state, u, &id, Some((e.status, message))).await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}

// ---- A case ----------------------------------------------------------------------

/// One session as shown.
pub struct SessionRow {
    /// The day.
    pub date: String,
    /// Its form, translated.
    pub kind: String,
    /// What happened.
    pub notes: String,
    /// What comes next.
    pub next_step: String,
    /// Who recorded it.
    pub by: String,
}

#[derive(Template)]
#[template(path = "mhpss_case.html")]
struct CasePage {
    l: Layout,
    csrf: String,
    id: String,
    m: MigrantRow,
    row: CaseRow,
    closure_note: Option<String>,
    opened_by: String,
    screenings: Vec<ScreeningRow>,
    sessions: Vec<SessionRow>,
    can_write: bool,
    kinds: Vec<Opt>,
    reasons: Vec<Opt>,
    today: String,
    error: Option<String>,
}

async fn case_page(
    state: &AppState,
    u: PageUser,
    id: &str,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    u.require(Permission::MhpssRead)?;
    let t = u.layout.t;
    let axum::Json(d) = api::get_case(State(state.clone()), u.current.clone(), Path(id.to_owned()))
        .await
        .or_page(&u.layout)?;
    let migrant = state
        .store
        .get_migrant(d.case.migrant_id)
        .await
        .or_page(&u.layout)?;
    let m = MigrantRow::new(&t, &migrant);
    let person = format!("{} · {}", m.name, m.number);
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    Ok(render(
        status,
        &CasePage {
            csrf: u.csrf.clone(),
            id: d.case.id.to_string(),
            row: case_row(&t, &d.case, person),
            m,
            closure_note: d.case.closure_note.clone(),
            opened_by: d.case.opened_by.clone(),
            screenings: d
                .screenings
                .iter()
                .map(|s| screening_row(state, &t, s))
                .collect(),
            sessions: d
                .sessions
                .iter()
                .map(|s| SessionRow {
                    date: t.date(s.date),
                    kind: label(&t, "mhpss-session", s.kind.as_str()),
                    notes: s.notes.clone(),
                    next_step: s.next_step.clone().unwrap_or_default(),
                    by: s.recorded_by.clone(),
                })
                .collect(),
            can_write: u.user().can(Permission::MhpssWrite) && d.case.status == CaseStatus::Open,
            kinds: SessionKind::ALL
                .iter()
                .map(|k| {
                    Opt::new(
                        k.as_str(),
                        label(&t, "mhpss-session", k.as_str()),
                        "individual",
                    )
                })
                .collect(),
            reasons: ClosureReason::ALL
                .iter()
                .map(|r| Opt::new(r.as_str(), label(&t, "mhpss-closure", r.as_str()), ""))
                .collect(),
            today: state.today().to_string(),
            error,
            l: u.layout,
        },
    ))
}

/// `GET /mhpss-cases/{id}`: the case, its screenings and sessions, and the
/// forms to record a session or close it.
pub async fn case(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    case_page(&state, u, &id, None).await
}

/// After a change to a case: back to its page, or the page with the
/// refusal.
async fn after_case(
    state: &AppState,
    u: PageUser,
    id: &str,
    done: Result<(), ApiError>,
) -> Result<Response, PageError> {
    match done {
        Ok(()) => Ok(see_other(&format!("/mhpss-cases/{id}"))),
        Err(e) if is_refusal(&e) => {
            let message = refusal(&u.layout.t, &e);
            case_page(state, u, id, Some((e.status, message))).await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}

/// `POST /mhpss-cases/{id}/sessions` (`date`, `kind`, `notes`,
/// `next_step`).
pub async fn add_session(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    u.require(Permission::MhpssWrite)?;
    let input = SessionInput {
        date: filled(&form, "date"),
        kind: value(&form, "kind").to_owned(),
        notes: value(&form, "notes").to_owned(),
        next_step: filled(&form, "next_step"),
    };
    let done = api::add_session(
        State(state.clone()),
        u.current.clone(),
        Path(id.clone()),
        ApiJson(input),
    )
    .await
    .map(|_| ());
    after_case(&state, u, &id, done).await
}

/// `POST /mhpss-cases/{id}/close` (`reason`, `note`).
pub async fn close(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    u.require(Permission::MhpssWrite)?;
    let input = CloseInput {
        reason: value(&form, "reason").to_owned(),
        note: filled(&form, "note"),
    };
    let done = api::close_case(
        State(state.clone()),
        u.current.clone(),
        Path(id.clone()),
        ApiJson(input),
    )
    .await
    .map(|_| ());
    after_case(&state, u, &id, done).await
}

// ---- On the assessment page ---------------------------------------------------------

/// The MHPSS panel of the assessment page: flag messages (never answers)
/// and the link to screen in this assessment.
pub struct AssessmentPanel {
    /// Each raised flag: its message, the instrument and when, and a link
    /// to the screening.
    pub flags: Vec<(String, String, String)>,
    /// The user may screen (counsellors and clinicians).
    pub can_screen: bool,
    /// The screening form of the assessment's person.
    pub screen_action: String,
    /// The assessment.
    pub assessment_id: String,
    /// The instruments to choose from.
    pub instruments: Vec<Opt>,
}

/// The panel for `u`, or `None` for a role that may not read MHPSS
/// records (who then sees nothing, not even that a flag exists).
pub async fn assessment_panel(
    state: &AppState,
    u: &PageUser,
    a: &Assessment,
) -> Result<Option<AssessmentPanel>, PageError> {
    if !u.user().can(Permission::MhpssRead) {
        return Ok(None);
    }
    let t = u.layout.t;
    let notices = flags_of(state, &u.current, a.id).await.or_page(&u.layout)?;
    let flags = notices
        .iter()
        .flat_map(|n| {
            n.flags.iter().map(move |f| {
                (
                    flag_message(&t, &f.id, &f.message),
                    format!(
                        "{}, {}",
                        instrument_title(state, &n.instrument),
                        t.date_time(n.screened_at)
                    ),
                    format!("/screenings/{}", n.screening_id),
                )
            })
        })
        .collect();
    Ok(Some(AssessmentPanel {
        flags,
        can_screen: u.user().can(Permission::MhpssWrite),
        screen_action: format!("/migrants/{}/mhpss/screen", a.migrant_id),
        assessment_id: a.id.to_string(),
        instruments: instrument_options(state, ""),
    }))
}
