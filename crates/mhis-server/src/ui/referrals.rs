//! The referral pages: the inbox, outbox and overdue lists of the user's
//! sites, one referral with its timeline and the actions its state allows,
//! and the referral section of the assessment page (the referrals written
//! from it, and the protocol engine's suggestions to confirm).
//!
//! Every change goes through the JSON API's own handlers
//! ([`crate::api::referrals`]): the same permission, side and state-machine
//! checks, the same audit events and, for a peer, the same signed message.
//! A refusal (403, 409, 422) shows the page again with a message.

use crate::api::migrants::scoped_sites;
use crate::api::referrals::{
    self as api, ActionInput, OutcomeInput, parse_view, referrals_of, suggest, visible_referral,
};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::ui::assessment::{Refused, show_refused, show_value};
use crate::ui::forms::{Opt, value};
use crate::ui::i18n::{Tr, message_id};
use crate::ui::pages::{FormPairs, see_other};
use crate::ui::session::{Layout, OrPage, PageError, PageUser, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use mhis_domain::access::Permission;
use mhis_domain::assessment::Assessment;
use mhis_domain::ids::SiteId;
use mhis_domain::migrant::PartialDate;
use mhis_domain::observation::ObservationValue;
use mhis_domain::page::PageRequest;
use mhis_domain::referral::{
    Referral, ReferralEvent, ReferralInput, ReferralOutcome, SummaryObservation, Urgency,
};
use mhis_domain::site::Site;
use mhis_store::{ReferralFilter, ReferralView};
use serde::Deserialize;
use std::collections::HashMap;

/// Referrals per page of a list.
const PER_PAGE: u32 = 50;

/// The lists, in tab order: query value, message id, view.
const VIEWS: [(&str, &str, ReferralView); 3] = [
    ("inbox", "referrals-inbox", ReferralView::Inbox),
    ("outbox", "referrals-outbox", ReferralView::Outbox),
    ("overdue", "referrals-overdue", ReferralView::Overdue),
];

/// The label of a referral reason: its translation, else the catalogue's
/// (English) label, else the code.
pub fn reason_label(state: &AppState, t: &Tr, code: &str) -> String {
    let id = message_id("referral", code);
    if t.has(&id) {
        t.t(&id)
    } else {
        state
            .reasons
            .get(code)
            .map_or_else(|| code.to_owned(), |r| r.label.clone())
    }
}

/// One referral, as a row of a list.
pub struct ReferralRow {
    /// Link to the referral page.
    pub href: String,
    /// The person's name.
    pub person: String,
    /// The reason, translated.
    pub reason: String,
    /// The urgency, translated.
    pub urgency: String,
    /// Its wire name, for styling.
    pub urgency_key: &'static str,
    /// The due date.
    pub due: String,
    /// Due date passed with no outcome.
    pub overdue: bool,
    /// The state, translated.
    pub state: String,
    /// Its wire name, for styling.
    pub state_key: &'static str,
    /// The latest outcome, translated.
    pub outcome: Option<String>,
    /// The referring organisation.
    pub from: String,
    /// The receiver.
    pub to: String,
}

/// What labelling referrals needs: the translator, the sites' names and
/// today's date.
struct Labels<'a> {
    state: &'a AppState,
    t: Tr,
    sites: HashMap<SiteId, String>,
    today: NaiveDate,
}

impl<'a> Labels<'a> {
    async fn load(state: &'a AppState, layout: &Layout) -> Result<Self, PageError> {
        let sites = state.store.list_sites().await.or_page(layout)?;
        Ok(Self::new(state, layout.t, &sites))
    }

    fn new(state: &'a AppState, t: Tr, sites: &[Site]) -> Self {
        Self {
            state,
            t,
            sites: sites.iter().map(|s| (s.id, site_label(s))).collect(),
            today: state.today(),
        }
    }

    fn site(&self, id: SiteId) -> String {
        self.sites
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn from(&self, r: &Referral) -> String {
        match &r.from_peer {
            Some(peer) => format!("{} · {peer}", r.from_label),
            None => self.site(r.site_id),
        }
    }

    fn to(&self, r: &Referral) -> String {
        match (r.to_site_id, &r.to_peer, &r.to_peer_site_code) {
            (Some(site), _, _) => self.site(site),
            (None, Some(peer), Some(code)) => format!("{peer} · {code}"),
            (None, Some(peer), None) => peer.clone(),
            (None, None, _) => String::new(),
        }
    }

    fn row(&self, r: &Referral) -> ReferralRow {
        let t = &self.t;
        ReferralRow {
            href: format!("/referrals/{}", r.id),
            person: format!("{} {}", r.person.family_name, r.person.given_names),
            reason: reason_label(self.state, t, &r.reason),
            urgency: urgency_label(t, r.urgency),
            urgency_key: r.urgency.as_str(),
            due: t.date(r.due_date),
            overdue: r.is_overdue(self.today),
            state: t.t(&format!("referral-state-{}", r.state.as_str())),
            state_key: r.state.as_str(),
            outcome: r.outcome.map(|o| outcome_label(t, o)),
            from: self.from(r),
            to: self.to(r),
        }
    }
}

/// Referrals as rows of a list, labelled in the page's language.
pub async fn rows(
    state: &AppState,
    layout: &Layout,
    referrals: &[Referral],
) -> Result<Vec<ReferralRow>, PageError> {
    let labels = Labels::load(state, layout).await?;
    Ok(referrals.iter().map(|r| labels.row(r)).collect())
}

fn site_label(s: &Site) -> String {
    format!("{} — {}", s.code.as_str(), s.name)
}

fn urgency_label(t: &Tr, u: Urgency) -> String {
    t.t(&format!("urgency-{}", u.as_str()))
}

fn outcome_label(t: &Tr, o: ReferralOutcome) -> String {
    t.t(&format!("referral-result-{}", o.as_str()))
}

// ---- Lists -------------------------------------------------------------------

/// The query of the lists.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// `inbox` (default), `outbox` or `overdue`.
    pub view: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
}

/// One tab of the lists.
pub struct Tab {
    /// Its link.
    pub href: String,
    /// Its label, with the count.
    pub label: String,
    /// Whether it is the list shown.
    pub current: bool,
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct ListPage {
    l: Layout,
    tabs: Vec<Tab>,
    heading: String,
    overdue_view: bool,
    rows: Vec<ReferralRow>,
    page: u32,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /referrals?view=inbox|outbox|overdue`: the referrals of the user's
/// sites, with the count of each list.
pub async fn list(
    State(state): State<AppState>,
    u: PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    u.require(Permission::ReferralRead)?;
    let t = u.layout.t;
    let key = q.view.as_deref().unwrap_or("inbox");
    let Some(&(key, title, _)) = VIEWS.iter().find(|(k, _, _)| *k == key) else {
        return Err(u.fail(StatusCode::NOT_FOUND));
    };
    let view = parse_view(Some(key)).or_page(&u.layout)?;
    let sites = scoped_sites(&u.current, None).or_page(&u.layout)?;
    let filter = |view| ReferralFilter {
        view,
        sites: sites.clone(),
        assessment_id: None,
        today: state.today(),
        hidden_reasons: crate::api::mhpss::hidden_reasons(&state, &u.current),
    };
    let mut tabs = Vec::new();
    for (k, id, v) in VIEWS {
        let count = state
            .store
            .list_referrals(
                &filter(v),
                PageRequest::parse(Some(1), Some(1)).or_page(&u.layout)?,
            )
            .await
            .or_page(&u.layout)?
            .total;
        tabs.push(Tab {
            href: format!("/referrals?view={k}"),
            label: t.t2(
                "referrals-tab",
                ("name", &t.t(id)),
                ("count", &count.to_string()),
            ),
            current: k == key,
        });
    }
    let page_no = q.page.unwrap_or(1).max(1);
    let found = state
        .store
        .list_referrals(
            &filter(view),
            PageRequest::parse(Some(page_no), Some(PER_PAGE)).or_page(&u.layout)?,
        )
        .await
        .or_page(&u.layout)?;
    u.current
        .audit_read(&state, "referral.list", "referral", None)
        .await
        .or_page(&u.layout)?;
    let labels = Labels::load(&state, &u.layout).await?;
    let rows = found.items.iter().map(|r| labels.row(r)).collect();
    let more = u64::from(page_no) * u64::from(PER_PAGE) < found.total;
    Ok(render(
        StatusCode::OK,
        &ListPage {
            heading: t.t(title),
            overdue_view: view == ReferralView::Overdue,
            l: u.layout,
            tabs,
            rows,
            page: page_no,
            prev: (page_no > 1).then(|| format!("/referrals?view={key}&page={}", page_no - 1)),
            next: more.then(|| format!("/referrals?view={key}&page={}", page_no + 1)),
        },
    ))
}

// ---- One referral ------------------------------------------------------------

/// One step of the timeline, as shown.
pub struct TimelineRow {
    /// When.
    pub at: String,
    /// The event, translated.
    pub event: String,
    /// The state after it, translated.
    pub state: String,
    /// Its wire name, for styling.
    pub state_key: &'static str,
    /// Who.
    pub actor: String,
    /// The note.
    pub detail: String,
}

/// One observation of the clinical summary, as shown.
pub struct SummaryRow {
    /// The code's label.
    pub label: String,
    /// The value, with its unit.
    pub value: String,
    /// When observed.
    pub at: String,
}

/// The actions the user may take on a referral now.
#[derive(Debug, Default, Clone, Copy)]
pub struct Actions {
    /// Send a draft.
    pub send: bool,
    /// Accept it (receiver).
    pub accept: bool,
    /// Cancel it (referrer, before acceptance).
    pub cancel: bool,
    /// Report an outcome (receiver).
    pub report: bool,
    /// Close the loop (referrer).
    pub close: bool,
}

impl Actions {
    /// Whether any action is open.
    pub fn any(&self) -> bool {
        self.send || self.accept || self.cancel || self.report || self.close
    }
}

/// Whether `u` may take `event` on `r` now: the state machine allows it,
/// and the user manages referrals at the site acting for the event's side.
/// Only decides which forms to show; the POST goes through the API's
/// checks all the same.
fn may(u: &PageUser, r: &Referral, event: ReferralEvent) -> bool {
    let side = if event.sent_by_referrer() {
        r.referred_here().then_some(r.site_id)
    } else {
        r.received_here().then_some(r.to_site_id).flatten()
    };
    u.user().can(Permission::ReferralManage)
        && r.state.apply(event).is_ok()
        && side.is_some_and(|s| u.user().scope.covers(s))
}

#[derive(Template)]
#[template(path = "referral.html")]
struct ReferralPage {
    l: Layout,
    csrf: String,
    id: String,
    row: ReferralRow,
    person: Vec<(String, String)>,
    details: Vec<(String, String)>,
    note: Option<String>,
    observations: Vec<SummaryRow>,
    conditions: Vec<String>,
    outcome: Vec<(String, String)>,
    timeline: Vec<TimelineRow>,
    actions: Actions,
    outcomes: Vec<Opt>,
    today: String,
    error: Option<String>,
    assessment: Option<String>,
}

/// A summary observation's value as people read it, typed by the
/// vocabulary when it knows the code.
fn summary_value(state: &AppState, t: &Tr, o: &SummaryObservation) -> String {
    let typed = state
        .vocabulary
        .get(&o.code)
        .and_then(|def| ObservationValue::parse("value", def, &o.value).ok());
    match (typed, &o.value) {
        (Some(v), _) => show_value(t, &v, o.unit.as_deref()),
        (None, serde_json::Value::String(s)) => t.value_label(s),
        (None, other) => match &o.unit {
            Some(unit) => format!("{other} {unit}"),
            None => other.to_string(),
        },
    }
}

/// A condition as the referral carries it (`tb: B1`), its key translated.
fn condition(t: &Tr, c: &str) -> String {
    match c.split_once(": ") {
        Some((key, class)) => format!("{}: {class}", t.label_or_raw("class-key", key)),
        None => c.to_owned(),
    }
}

async fn referral_page(
    state: &AppState,
    u: PageUser,
    id: &str,
    refused: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    u.require(Permission::ReferralRead)?;
    let t = u.layout.t;
    let r = visible_referral(state, &u.current, id)
        .await
        .or_page(&u.layout)?;
    let timeline = state
        .store
        .referral_timeline(r.id)
        .await
        .or_page(&u.layout)?;
    u.current
        .audit_read(state, "referral.read", "referral", Some(r.id.to_string()))
        .await
        .or_page(&u.layout)?;
    let labels = Labels::load(state, &u.layout).await?;
    let p = &r.person;
    let mut person = vec![
        (t.t("field-family_name"), p.family_name.clone()),
        (t.t("field-given_names"), p.given_names.clone()),
        (t.t("field-sex"), t.label_or_raw("sex", &p.sex)),
        (
            t.t("field-birth_date"),
            PartialDate::parse("birth_date", &p.birth_date, state.today())
                .map_or_else(|_| p.birth_date.clone(), |d| t.partial_date(d)),
        ),
        (t.t("field-nationality"), p.nationality.clone()),
    ];
    if let Some(number) = &p.document_number {
        let country = p.document_country.as_deref().unwrap_or("");
        person.push((
            t.t("field-document"),
            format!("{number} {country}").trim().to_owned(),
        ));
    }
    if let Some(contact) = &p.contact {
        person.push((t.t("referral-contact"), contact.clone()));
    }
    let details = vec![
        (
            t.t("referral-kind"),
            t.t(&format!("referral-kind-{}", r.kind.as_str())),
        ),
        (t.t("referral-col-from"), labels.from(&r)),
        (t.t("referral-col-to"), labels.to(&r)),
        (
            t.t("referral-created"),
            format!("{}, {}", r.created_by, t.date_time(r.created_at)),
        ),
    ];
    let observations = r
        .observations
        .iter()
        .map(|o| SummaryRow {
            label: t.code_label(&o.code),
            value: summary_value(state, &t, o),
            at: t.date_time(o.observed_at),
        })
        .collect();
    let mut outcome = Vec::new();
    if let Some(o) = r.outcome {
        outcome.push((t.t("referral-col-outcome"), outcome_label(&t, o)));
        if let Some(d) = r.outcome_date {
            outcome.push((t.t("referral-outcome-date"), t.date(d)));
        }
        if let Some(n) = &r.outcome_note {
            outcome.push((t.t("referral-outcome-note"), n.clone()));
        }
    }
    let timeline = timeline
        .iter()
        .map(|e| TimelineRow {
            at: t.date_time(e.at),
            event: t.t(&format!("referral-event-{}", e.event.as_str())),
            state: t.t(&format!("referral-state-{}", e.state.as_str())),
            state_key: e.state.as_str(),
            actor: e.actor.clone(),
            detail: e.detail.clone().unwrap_or_default(),
        })
        .collect();
    let actions = Actions {
        send: may(&u, &r, ReferralEvent::Send),
        accept: may(&u, &r, ReferralEvent::Accept),
        cancel: may(&u, &r, ReferralEvent::Cancel),
        report: may(&u, &r, ReferralEvent::ReportOutcome),
        close: may(&u, &r, ReferralEvent::Close),
    };
    let outcomes = ReferralOutcome::ALL
        .iter()
        .map(|o| Opt::new(o.as_str(), outcome_label(&t, *o), ""))
        .collect();
    let assessment = r
        .assessment_id
        .filter(|_| {
            r.referred_here()
                && u.user().scope.covers(r.site_id)
                && u.user().can(Permission::AssessmentRead)
        })
        .map(|a| format!("/assessments/{a}"));
    let (status, error) = match refused {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    Ok(render(
        status,
        &ReferralPage {
            csrf: u.csrf.clone(),
            id: r.id.to_string(),
            row: labels.row(&r),
            person,
            details,
            note: r.note.clone(),
            observations,
            conditions: r.conditions.iter().map(|c| condition(&t, c)).collect(),
            outcome,
            timeline,
            actions,
            outcomes,
            today: state.today().to_string(),
            error,
            assessment,
            l: u.layout,
        },
    ))
}

/// `GET /referrals/{id}`: the referral, its timeline and the forms of the
/// actions the user may take now.
pub async fn show(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    referral_page(&state, u, &id, None).await
}

/// The message for a refused change, in the page's language.
fn refusal(t: &Tr, e: &ApiError) -> String {
    match (e.status.as_u16(), e.field.as_deref()) {
        (403, _) => t.t("referral-refused-side"),
        (409, _) => t.t("referral-refused-state"),
        (_, Some("outcome")) => t.t("referral-invalid-outcome"),
        (_, Some("date")) => t.t("referral-invalid-date"),
        (_, Some("note")) => t.t("referral-invalid-note"),
        (_, Some("due_date")) => t.t("referral-invalid-due_date"),
        (_, Some("urgency")) => t.t("referral-invalid-urgency"),
        (_, Some("reason")) => t.t("referral-invalid-reason"),
        (_, Some("to_site_id" | "to_peer" | "to_peer_site_code")) => t.t("referral-invalid-to"),
        _ => t.t("error-bad-request-text"),
    }
}

/// Whether an API error is a refusal to show on the form's page rather
/// than an error page.
fn is_refusal(e: &ApiError) -> bool {
    matches!(e.status.as_u16(), 403 | 409 | 422)
}

/// After a change: back to the referral page, or the page again with the
/// refusal.
async fn after(
    state: &AppState,
    u: PageUser,
    id: &str,
    done: Result<Referral, ApiError>,
) -> Result<Response, PageError> {
    match done {
        Ok(r) => Ok(see_other(&format!("/referrals/{}", r.id))),
        Err(e) if is_refusal(&e) => {
            let message = refusal(&u.layout.t, &e);
            referral_page(state, u, id, Some((e.status, message))).await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}

/// Some text, or `None` when blank.
fn filled(form: &[(String, String)], name: &str) -> Option<String> {
    Some(value(form, name).trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /referrals/{id}/{action}` (`send`, `accept`, `cancel`, `close`),
/// with an optional `note`.
pub async fn act(
    State(state): State<AppState>,
    u: PageUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    u.require(Permission::ReferralManage)?;
    if !matches!(action.as_str(), "send" | "accept" | "cancel" | "close") {
        return Err(u.fail(StatusCode::NOT_FOUND));
    }
    let input = ActionInput {
        note: filled(&form, "note"),
    };
    let done = api::act(
        State(state.clone()),
        u.current.clone(),
        Path((id.clone(), action)),
        ApiJson(input),
    )
    .await
    .map(|axum::Json(r)| r);
    after(&state, u, &id, done).await
}

/// `POST /referrals/{id}/outcome`: the receiver reports an outcome
/// (`outcome`, `date`, `note`).
pub async fn report_outcome(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    u.require(Permission::ReferralManage)?;
    let input = OutcomeInput {
        outcome: value(&form, "outcome").to_owned(),
        date: filled(&form, "date"),
        note: filled(&form, "note"),
    };
    let done = api::outcome(
        State(state.clone()),
        u.current.clone(),
        Path(id.clone()),
        ApiJson(input),
    )
    .await
    .map(|axum::Json(r)| r);
    after(&state, u, &id, done).await
}

// ---- On the assessment page ---------------------------------------------------

/// A refused confirmation of a suggested referral: shown next to its form,
/// with what was entered.
#[derive(Debug, Clone)]
pub struct ReferralRefusal {
    /// The status of the page.
    pub status: StatusCode,
    /// The reason code of the form.
    pub reason: String,
    /// The message.
    pub message: String,
    /// The form as sent.
    pub form: Vec<(String, String)>,
}

/// A suggested referral with its confirmation form.
pub struct SuggestionView {
    /// The reason code (also the forms' id prefix).
    pub reason: String,
    /// Its label.
    pub label: String,
    /// The observations the summary carries, labelled.
    pub summary: String,
    /// A referral for this reason exists already.
    pub already: bool,
    /// Receiving sites of this deployment.
    pub sites: Vec<Opt>,
    /// Configured peer deployments.
    pub peers: Vec<Opt>,
    /// Urgencies, the suggested one selected.
    pub urgencies: Vec<Opt>,
    /// The due date, `YYYY-MM-DD`.
    pub due_date: String,
    /// The note.
    pub note: String,
    /// Why the last confirmation was refused.
    pub error: Option<String>,
}

/// The referral section of the assessment page.
pub struct ReferralSection {
    /// The referrals written from the assessment, newest first.
    pub rows: Vec<ReferralRow>,
    /// The engine's suggestions, with forms (for those who manage
    /// referrals).
    pub suggestions: Vec<SuggestionView>,
    /// The user may write referrals.
    pub can_refer: bool,
    /// A refusal that belongs to no suggestion shown.
    pub error: Option<String>,
}

/// The referral section of assessment `a` for `u`: its referrals with
/// their state and outcome, and the suggestions to confirm.
pub async fn section(
    state: &AppState,
    u: &PageUser,
    a: &Assessment,
    refused: Option<&ReferralRefusal>,
) -> Result<ReferralSection, PageError> {
    let t = u.layout.t;
    let sites = state.store.list_sites().await.or_page(&u.layout)?;
    let labels = Labels::new(state, t, &sites);
    let rows = referrals_of(state, a)
        .await
        .or_page(&u.layout)?
        .iter()
        .filter(|r| mhis_domain::mhpss::may_see_referral(u.user(), &state.reasons, r))
        .map(|r| labels.row(r))
        .collect();
    let can_refer = u.user().can(Permission::ReferralManage);
    let mut suggestions = Vec::new();
    if can_refer {
        // No decision (a protocol not loaded) means no suggestion; the
        // decision panel says so.
        let suggested = suggest(state, a).await.unwrap_or_default();
        let peers = state.store.list_peers().await.or_page(&u.layout)?;
        for s in suggested {
            let (error, form) = match refused.filter(|r| r.reason == s.reason) {
                Some(r) => (Some(r.message.clone()), Some(r.form.as_slice())),
                None => (None, None),
            };
            let v = |name: &str, default: &str| {
                form.map_or_else(|| default.to_owned(), |f| value(f, name).to_owned())
            };
            let to = v("to", "");
            let urgency = v("urgency", s.urgency.as_str());
            suggestions.push(SuggestionView {
                label: reason_label(state, &t, &s.reason),
                summary: s
                    .summary_codes
                    .iter()
                    .map(|c| t.code_label(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                already: s.already_referred,
                sites: sites
                    .iter()
                    .map(|site| Opt::new(format!("site:{}", site.id), site_label(site), &to))
                    .collect(),
                peers: peers
                    .iter()
                    .map(|p| {
                        let label = match &p.country {
                            Some(c) => format!("{} ({c})", p.name),
                            None => p.name.clone(),
                        };
                        Opt::new(format!("peer:{}", p.name), label, &to)
                    })
                    .collect(),
                urgencies: Urgency::ALL
                    .iter()
                    .map(|x| Opt::new(x.as_str(), urgency_label(&t, *x), &urgency))
                    .collect(),
                due_date: v("due_date", &s.due_date.to_string()),
                note: v("note", ""),
                error,
                reason: s.reason,
            });
        }
    }
    let error = refused
        .filter(|r| !suggestions.iter().any(|s| s.reason == r.reason))
        .map(|r| r.message.clone());
    Ok(ReferralSection {
        rows,
        suggestions,
        can_refer,
        error,
    })
}

/// `POST /assessments/{id}/referrals`: confirms a suggested referral
/// (`reason`, `to` = `site:<id>` or `peer:<name>`, `urgency`, `due_date`,
/// `note`) and sends it at once.
pub async fn refer(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    u.require(Permission::ReferralManage)?;
    let (to_site_id, to_peer) = match value(&form, "to").split_once(':') {
        Some(("site", site)) => (site.parse::<SiteId>().ok(), None),
        Some(("peer", peer)) => (None, Some(peer.to_owned())),
        _ => (None, None),
    };
    let input = ReferralInput {
        reason: value(&form, "reason").to_owned(),
        urgency: filled(&form, "urgency"),
        due_date: filled(&form, "due_date"),
        to_site_id,
        to_peer,
        note: filled(&form, "note"),
        send: Some(true),
        ..Default::default()
    };
    let done = api::create(
        State(state.clone()),
        u.current.clone(),
        Path(id.clone()),
        ApiJson(input),
    )
    .await;
    match done {
        Ok((_, axum::Json(r))) => Ok(see_other(&format!(
            "/assessments/{}#referrals",
            r.assessment_id.map_or(id, |a| a.to_string())
        ))),
        Err(e) if is_refusal(&e) => {
            let refused = Refused {
                referral: Some(ReferralRefusal {
                    status: e.status,
                    reason: value(&form, "reason").to_owned(),
                    message: refusal(&u.layout.t, &e),
                    form: form.into_iter().filter(|(k, _)| k != "csrf").collect(),
                }),
                ..Default::default()
            };
            show_refused(&state, u, &id, refused).await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}
