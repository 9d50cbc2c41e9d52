//! The assessment page: results grouped by section, the form to record
//! them (only the sections the user's role may record), and the protocol
//! engine's decision over the current results — due tests, provisional
//! outcome, classes, referrals and the reasons behind them.

use crate::api::assessments::visible_assessment;
use crate::state::AppState;
use crate::ui::forms::{Errors, Field, Opt};
use crate::ui::i18n::{Lang, Tr};
use crate::ui::pages::{FormPairs, MigrantRow, see_other};
use crate::ui::referrals::{ReferralRefusal, ReferralSection};
use crate::ui::session::{Layout, OrPage, PageError, PageUser, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mhis_domain::access::{Permission, permission_to_record};
use mhis_domain::assessment::Assessment;
use mhis_domain::observation::{NewObservation, Observation, ObservationInput, ObservationValue};
use mhis_domain::protocol::Case;
use mhis_domain::vocabulary::{CodeDefinition, Section, ValueType};
use mhis_store::Actor;
use serde_json::Value as Json;
use std::collections::HashMap;

/// The sections, in the order of the form.
const SECTIONS: [Section; 5] = [
    Section::History,
    Section::Examination,
    Section::Radiology,
    Section::Laboratory,
    Section::Context,
];

fn section_key(section: Section) -> &'static str {
    match section {
        Section::History => "history",
        Section::Examination => "examination",
        Section::Radiology => "radiology",
        Section::Laboratory => "laboratory",
        Section::Context => "context",
    }
}

/// A recorded result, as shown.
pub struct ResultRow {
    /// The code's label.
    pub label: String,
    /// The value, with its unit.
    pub value: String,
    /// Who recorded it.
    pub by: String,
    /// When.
    pub at: String,
}

/// One section of the page: its results and its inputs.
pub struct SectionView {
    /// The heading.
    pub title: String,
    /// Anchor id.
    pub id: &'static str,
    /// Recorded results.
    pub rows: Vec<ResultRow>,
    /// Inputs for results not yet recorded (empty when the user may not
    /// record this section).
    pub fields: Vec<Field>,
}

/// Why the decision is what it is: one rule.
pub struct ReasonView {
    /// Rule id.
    pub rule: String,
    /// The facts it read, labelled.
    pub facts: String,
    /// The published source (English).
    pub source: String,
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    l: Layout,
    csrf: String,
    m: MigrantRow,
    summary: Vec<(String, String)>,
    sections: Vec<SectionView>,
    can_record: bool,
    errors: Errors,
    message: Option<String>,
    outcome: String,
    outcome_key: &'static str,
    due: Vec<String>,
    classes: Vec<(String, String)>,
    referrals: Vec<String>,
    reasons: Vec<ReasonView>,
    valid_until: Option<String>,
    signoff: SignoffView,
    referral_section: Option<ReferralSection>,
    id: String,
    /// MHPSS flags and the screening link, for counsellors and clinicians.
    mhpss: Option<crate::ui::mhpss::AssessmentPanel>,
}

/// A refusal to show next to the form that caused it.
#[derive(Debug, Default)]
pub struct Refused {
    /// The sign-off panel's.
    pub signoff: Option<String>,
    /// A referral confirmation's.
    pub referral: Option<ReferralRefusal>,
}

impl Refused {
    /// A sign-off refusal, if any.
    fn signoff(message: Option<String>) -> Self {
        Self {
            signoff: message,
            referral: None,
        }
    }
}

/// The physician's sign-off and the certificates, as shown.
pub struct SignoffView {
    /// The user may finalise (and the assessment is not finalised).
    pub can_finalise: bool,
    /// The user may amend (and the assessment is finalised).
    pub can_amend: bool,
    /// Final outcome options: (wire name, label, selected).
    pub outcomes: Vec<(String, String, bool)>,
    /// The sign-off, once finalised: (label, value) pairs.
    pub finalised: Vec<(String, String)>,
    /// A refusal to show next to the sign-off form.
    pub error: Option<String>,
    /// The user may issue a certificate now.
    pub can_issue: bool,
    /// Issued certificates.
    pub certificates: Vec<CertificateRow>,
}

/// An issued certificate, as listed.
pub struct CertificateRow {
    /// Its id.
    pub id: String,
    /// Last day of validity.
    pub valid_until: String,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A number in the language's form (decimal comma in Russian and French).
fn number(t: &Tr, n: f64) -> String {
    let s = format!("{n}");
    match t.lang {
        Lang::En => s,
        Lang::Ru | Lang::Fr => s.replace('.', ","),
    }
}

/// A unit as people write it.
fn unit_label(t: &Tr, unit: &str) -> String {
    match unit {
        "Cel" => "°C".into(),
        "mm[Hg]" => t.t("unit-mmhg"),
        "/10*5" => t.t("unit-per-100k"),
        "mm" => t.t("unit-mm"),
        "cm" => t.t("unit-cm"),
        "kg" => t.t("unit-kg"),
        other => other.into(),
    }
}

/// A value as people read it.
pub fn show_value(t: &Tr, value: &ObservationValue, unit: Option<&str>) -> String {
    let unit = unit
        .map(|u| format!(" {}", unit_label(t, u)))
        .unwrap_or_default();
    match value {
        ObservationValue::Boolean(true) => t.t("yes"),
        ObservationValue::Boolean(false) => t.t("no"),
        ObservationValue::Coded(v) => t.value_label(v),
        ObservationValue::Integer(i) => format!("{i}{unit}"),
        ObservationValue::Decimal(d) => format!("{}{unit}", number(t, *d)),
        ObservationValue::Text(s) => s.clone(),
        ObservationValue::Date(d) => t.date(*d),
    }
}

/// The input for one code.
fn field(t: &Tr, def: &CodeDefinition, raw: &str, errors: &Errors) -> Field {
    let label = t.code_label(&def.code);
    let range_hint = |min: String, max: String| {
        let mut hint = t.t2("hint-range", ("min", &min), ("max", &max));
        if let Some(u) = &def.unit {
            hint = format!("{hint} ({})", unit_label(t, u));
        }
        hint
    };
    let f = match &def.value_type {
        ValueType::Boolean => Field::select(
            &def.code,
            label,
            vec![
                Opt::new("yes", t.t("yes"), raw),
                Opt::new("no", t.t("no"), raw),
            ],
            Some(t.t("not-recorded")),
        ),
        ValueType::Coded { values } => Field::select(
            &def.code,
            label,
            values
                .iter()
                .map(|v| Opt::new(v.as_str(), t.value_label(v), raw))
                .collect(),
            Some(t.t("not-recorded")),
        ),
        ValueType::Integer { min, max } => Field::new(&def.code, label, "integer", raw)
            .hint(range_hint(min.to_string(), max.to_string())),
        ValueType::Decimal { min, max } => Field::new(&def.code, label, "decimal", raw)
            .hint(range_hint(number(t, *min), number(t, *max))),
        ValueType::Text { .. } => Field::new(&def.code, label, "textarea", raw),
        ValueType::Date => Field::new(&def.code, label, "date", raw),
    };
    f.errors(errors)
}

/// The message for a value `def` does not accept.
fn invalid_message(t: &Tr, def: &CodeDefinition) -> String {
    match &def.value_type {
        ValueType::Boolean => t.t("invalid-boolean"),
        ValueType::Coded { .. } => t.t("invalid-coded"),
        ValueType::Integer { min, max } => t.t2(
            "invalid-integer",
            ("min", &min.to_string()),
            ("max", &max.to_string()),
        ),
        ValueType::Decimal { min, max } => t.t2(
            "invalid-decimal",
            ("min", &number(t, *min)),
            ("max", &number(t, *max)),
        ),
        ValueType::Text { max_length } => t.t1("invalid-text", "max", &max_length.to_string()),
        ValueType::Date => t.t("invalid-date"),
    }
}

/// The JSON value of a form entry, typed per the code; `None` when it is
/// not of the right form.
fn form_value(def: &CodeDefinition, raw: &str) -> Option<Json> {
    let raw = raw.trim();
    match &def.value_type {
        ValueType::Boolean => match raw {
            "yes" => Some(Json::Bool(true)),
            "no" => Some(Json::Bool(false)),
            _ => None,
        },
        ValueType::Integer { .. } => raw.parse::<i64>().ok().map(Json::from),
        ValueType::Decimal { .. } => raw
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number),
        ValueType::Coded { .. } | ValueType::Text { .. } | ValueType::Date => {
            Some(Json::String(raw.to_owned()))
        }
    }
}

/// Everything the page shows, loaded for `id`.
struct Loaded {
    assessment: Assessment,
    migrant: mhis_domain::migrant::Migrant,
    observations: Vec<Observation>,
}

async fn load(state: &AppState, u: &PageUser, id: &str) -> Result<Loaded, PageError> {
    u.require(Permission::AssessmentRead)?;
    let assessment = visible_assessment(state, &u.current, id)
        .await
        .or_page(&u.layout)?;
    let migrant = state
        .store
        .get_migrant(assessment.migrant_id)
        .await
        .or_page(&u.layout)?;
    let observations = state
        .store
        .list_observations(assessment.id, false)
        .await
        .or_page(&u.layout)?;
    Ok(Loaded {
        assessment,
        migrant,
        observations,
    })
}

fn may_record(u: &PageUser, section: Section) -> bool {
    u.user().can(permission_to_record(section))
}

async fn page(
    state: &AppState,
    u: PageUser,
    loaded: Loaded,
    form: &[(String, String)],
    errors: Errors,
    message: Option<String>,
    refused: Refused,
) -> Result<Response, PageError> {
    let t = u.layout.t;
    let Loaded {
        assessment: a,
        migrant,
        observations,
    } = loaded;
    u.current
        .audit_read(
            state,
            "assessment.read",
            "assessment",
            Some(a.id.to_string()),
        )
        .await
        .or_page(&u.layout)?;
    let current: HashMap<&str, &Observation> = observations
        .iter()
        .filter(|o| o.is_current())
        .map(|o| (o.code.as_str(), o))
        .collect();
    let accepts = a.status.accepts_results();
    let raw: HashMap<&str, &str> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sections: Vec<SectionView> = SECTIONS
        .into_iter()
        .map(|section| {
            let in_section: Vec<&CodeDefinition> = state
                .vocabulary
                .iter()
                .filter(|d| d.section == section)
                .collect();
            let defs = || in_section.iter().copied();
            let rows = defs()
                .filter_map(|d| current.get(d.code.as_str()).map(|o| (d, o)))
                .map(|(d, o)| ResultRow {
                    label: t.code_label(&d.code),
                    value: show_value(&t, &o.value, o.unit.as_deref()),
                    by: o.recorded_by.clone(),
                    at: t.date_time(o.recorded_at),
                })
                .collect();
            let fields = if accepts && may_record(&u, section) {
                defs()
                    .filter(|d| !current.contains_key(d.code.as_str()))
                    .map(|d| {
                        field(
                            &t,
                            d,
                            raw.get(d.code.as_str()).copied().unwrap_or(""),
                            &errors,
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            SectionView {
                title: t.t(&format!("section-{}", section_key(section))),
                id: section_key(section),
                rows,
                fields,
            }
        })
        .collect();
    let can_record = sections.iter().any(|s| !s.fields.is_empty());

    let case = Case::new(
        a.assessment_date,
        migrant.details.birth_date,
        migrant.details.sex,
        observations
            .iter()
            .filter(|o| o.is_current())
            .map(|o| (o.code.clone(), o.value.clone())),
    );
    let decision = state.protocols.classify(a.protocol.as_str(), &case).ok();
    let label_fact = |f: &str| {
        if state.vocabulary.get(f).is_some() {
            t.code_label(f)
        } else {
            t.label_or_raw("fact", f)
        }
    };
    let (outcome, outcome_key, due, classes, referrals, reasons, valid_until) = match &decision {
        Some(d) => (
            t.t(&format!("outcome-{}", d.outcome.as_str())),
            d.outcome.as_str(),
            d.due.iter().map(|c| label_fact(c)).collect(),
            d.classes
                .0
                .iter()
                .map(|(k, v)| (t.label_or_raw("class-key", k), (*v).to_owned()))
                .collect(),
            d.referrals
                .iter()
                .map(|r| crate::ui::referrals::reason_label(state, &t, r))
                .collect(),
            d.reasons
                .iter()
                .map(|r| ReasonView {
                    rule: r.rule.to_owned(),
                    facts: r
                        .facts
                        .iter()
                        .map(|f| label_fact(f))
                        .collect::<Vec<_>>()
                        .join(", "),
                    source: r.source.to_owned(),
                })
                .collect(),
            d.certificate_valid_until.map(|v| t.date(v)),
        ),
        None => (
            t.t("outcome-unavailable"),
            "pending",
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            None,
        ),
    };
    let protocol = state
        .protocols
        .get(a.protocol.as_str())
        .map(|p| p.title().to_owned())
        .unwrap_or_else(|_| a.protocol.as_str().to_owned());
    let site = state
        .store
        .get_site(a.site_id)
        .await
        .map(|s| format!("{} — {}", s.code.as_str(), s.name))
        .unwrap_or_default();
    let summary = vec![
        (t.t("field-assessment_date"), t.date(a.assessment_date)),
        (
            t.t("field-purpose"),
            t.t(&format!("purpose-{}", a.purpose.as_str())),
        ),
        (t.t("field-destination"), a.destination.to_string()),
        (t.t("field-protocol"), protocol),
        (t.t("field-site"), site),
        (
            t.t("field-status"),
            t.t(&format!("status-{}", a.status.as_str())),
        ),
    ];
    let mhpss = crate::ui::mhpss::assessment_panel(state, &u, &a).await?;
    let referral_section = if u.user().can(Permission::ReferralRead) {
        let section =
            crate::ui::referrals::section(state, &u, &a, refused.referral.as_ref()).await?;
        Some(section)
    } else {
        None
    };
    let status = match &refused.referral {
        Some(r) => r.status,
        None if errors.is_empty() && message.is_none() && refused.signoff.is_none() => {
            StatusCode::OK
        }
        None => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let signoff = signoff_view(
        state,
        &u,
        &a,
        decision.as_ref().map(|d| d.outcome),
        refused.signoff,
    )
    .await
    .or_page(&u.layout)?;
    Ok(render(
        status,
        &AssessmentPage {
            csrf: u.csrf.clone(),
            m: MigrantRow::new(&t, &migrant),
            l: u.layout,
            summary,
            sections,
            can_record,
            errors,
            message,
            outcome,
            outcome_key,
            due,
            classes,
            referrals,
            reasons,
            valid_until,
            signoff,
            referral_section,
            id: a.id.to_string(),
            mhpss,
        },
    ))
}

/// `GET /assessments/{id}`.
pub async fn show(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = load(&state, &u, &id).await?;
    page(
        &state,
        u,
        loaded,
        &[],
        Errors::default(),
        None,
        Refused::default(),
    )
    .await
}

/// The assessment page again, with a refusal next to the form that caused
/// it.
pub async fn show_refused(
    state: &AppState,
    u: PageUser,
    id: &str,
    refused: Refused,
) -> Result<Response, PageError> {
    let loaded = load(state, &u, id).await?;
    page(state, u, loaded, &[], Errors::default(), None, refused).await
}

/// `POST /assessments/{id}`: records the filled-in results, all or none,
/// then shows the page again with the decision updated.
pub async fn record(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(crate::ui::forms::value(&form, "csrf"))?;
    let loaded = load(&state, &u, &id).await?;
    let t = u.layout.t;
    if !loaded.assessment.status.accepts_results() {
        return Err(u.fail(StatusCode::CONFLICT));
    }
    let recorded: Vec<&str> = loaded
        .observations
        .iter()
        .filter(|o| o.is_current())
        .map(|o| o.code.as_str())
        .collect();
    let mut errors = Errors::default();
    let mut inputs = Vec::new();
    for (code, raw) in &form {
        let Some(def) = state.vocabulary.get(code) else {
            continue;
        };
        if raw.trim().is_empty() {
            continue;
        }
        if !may_record(&u, def.section) {
            return Err(u.fail(StatusCode::FORBIDDEN));
        }
        if recorded.contains(&code.as_str()) {
            errors.add(code.clone(), t.t("invalid-already-recorded"));
            continue;
        }
        match form_value(def, raw) {
            Some(json) if ObservationValue::parse(code, def, &json).is_ok() => {
                inputs.push(ObservationInput {
                    code: code.clone(),
                    value: json,
                    unit: None,
                    observed_at: None,
                });
            }
            _ => errors.add(code.clone(), invalid_message(&t, def)),
        }
    }
    if !errors.is_empty() {
        return page(&state, u, loaded, &form, errors, None, Refused::default()).await;
    }
    if inputs.is_empty() {
        let message = Some(t.t("record-nothing"));
        return page(
            &state,
            u,
            loaded,
            &form,
            errors,
            message,
            Refused::default(),
        )
        .await;
    }
    let now = state.now();
    let batch = match NewObservation::parse_batch(&state.vocabulary, &inputs, now) {
        Ok(batch) => batch,
        Err(_) => {
            let message = Some(t.t("error-bad-request-text"));
            return page(
                &state,
                u,
                loaded,
                &form,
                errors,
                message,
                Refused::default(),
            )
            .await;
        }
    };
    let id = loaded.assessment.id;
    let audit = u
        .current
        .event("observation.record", "assessment", Some(id.to_string()));
    match state
        .store
        .record_observations(id, &batch, &Actor(u.user().username.clone()), now, &audit)
        .await
    {
        Ok(_) => {
            crate::api::assessments::refresh_progress(&state, id).await;
            Ok(see_other(&format!("/assessments/{id}")))
        }
        Err(mhis_store::StoreError::Conflict { .. }) => {
            let loaded = load(&state, &u, &id.to_string()).await?;
            let message = Some(t.t("record-conflict"));
            page(
                &state,
                u,
                loaded,
                &form,
                errors,
                message,
                Refused::default(),
            )
            .await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}

/// The sign-off panel: who finalised with what, the forms to finalise or
/// amend, and the certificates.
async fn signoff_view(
    state: &AppState,
    u: &PageUser,
    a: &Assessment,
    engine: Option<mhis_domain::protocol::Outcome>,
    error: Option<String>,
) -> Result<SignoffView, crate::error::ApiError> {
    let t = u.layout.t;
    let may = u.user().can(Permission::Finalise);
    let finalised = a.status == mhis_domain::assessment::AssessmentStatus::Finalised;
    let suggested = engine
        .filter(|o| *o != mhis_domain::protocol::Outcome::Pending)
        .map(|o| o.as_str());
    let outcomes = ["cleared", "cleared_with_follow_up", "not_cleared"]
        .into_iter()
        .map(|o| {
            (
                o.to_owned(),
                t.t(&format!("outcome-{o}")),
                Some(o) == suggested,
            )
        })
        .collect();
    let mut shown = Vec::new();
    if finalised {
        if let Some(o) = &a.final_outcome {
            shown.push((t.t("signoff-final"), t.t(&format!("outcome-{o}"))));
        }
        if let Some(o) = &a.engine_outcome {
            shown.push((t.t("signoff-engine"), t.t(&format!("outcome-{o}"))));
        }
        if let Some(by) = &a.finalised_by {
            let at = a.finalised_at.map(|at| t.date_time(at)).unwrap_or_default();
            shown.push((t.t("signoff-by"), format!("{by}, {at}")));
        }
        if let Some(reason) = &a.final_reason {
            shown.push((t.t("signoff-reason"), reason.clone()));
        }
    }
    let certificates: Vec<CertificateRow> = state
        .store
        .certificates_of(a.id)
        .await?
        .into_iter()
        .map(|c| CertificateRow {
            valid_until: t.date(c.valid_until),
            revoked: c.revoked_at.is_some(),
            id: c.id,
        })
        .collect();
    let cleared = matches!(
        a.final_outcome.as_deref(),
        Some("cleared" | "cleared_with_follow_up")
    );
    Ok(SignoffView {
        can_finalise: may && !finalised,
        can_amend: may && finalised,
        outcomes,
        finalised: shown,
        error,
        can_issue: may && finalised && cleared,
        certificates,
    })
}

/// What every sign-off form checks first: its CSRF token, the physician's
/// permission, and that the assessment is visible to the user.
async fn signoff_request(
    state: &AppState,
    u: &PageUser,
    id: &str,
    form: &[(String, String)],
) -> Result<Loaded, PageError> {
    u.check_csrf(crate::ui::forms::value(form, "csrf"))?;
    u.require(Permission::Finalise)?;
    load(state, u, id).await
}

/// `POST /assessments/{id}/finalise`: the physician's outcome, never less
/// severe than the protocol's; raising it needs a reason.
pub async fn finalise(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    let loaded = signoff_request(&state, &u, &id, &form).await?;
    let t = u.layout.t;
    let input = mhis_domain::finalisation::FinaliseInput {
        outcome: crate::ui::forms::value(&form, "outcome").to_owned(),
        reason: Some(crate::ui::forms::value(&form, "reason").to_owned()),
    };
    let refuse = |key: &str| Some(t.t(key));
    let decision = crate::api::assessments::decide(&state, &loaded.assessment)
        .await
        .or_page(&u.layout)?;
    let engine = decision["outcome"]
        .as_str()
        .and_then(mhis_domain::protocol::Outcome::parse)
        .unwrap_or(mhis_domain::protocol::Outcome::Pending);
    let finalisation = match mhis_domain::finalisation::Finalisation::parse(engine, &input) {
        Ok(f) => f,
        Err(e) => {
            let key = if e.field == "reason" {
                "signoff-needs-reason"
            } else if engine == mhis_domain::protocol::Outcome::Pending {
                "signoff-pending"
            } else {
                "signoff-too-low"
            };
            return page(
                &state,
                u,
                loaded,
                &[],
                Errors::default(),
                None,
                Refused::signoff(refuse(key)),
            )
            .await;
        }
    };
    let a = loaded.assessment.id;
    let audit = u
        .current
        .event("assessment.finalise", "assessment", Some(a.to_string()));
    match state
        .store
        .finalise_assessment(a, &finalisation, &u.user().username, state.now(), &audit)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/assessments/{a}"))),
        Err(mhis_store::StoreError::Conflict { .. }) => {
            let loaded = load(&state, &u, &id).await?;
            page(
                &state,
                u,
                loaded,
                &[],
                Errors::default(),
                None,
                Refused::signoff(refuse("signoff-already")),
            )
            .await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}

/// `POST /assessments/{id}/amend`: re-opens a finalised assessment, with a
/// reason; audited.
pub async fn amend(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    let loaded = signoff_request(&state, &u, &id, &form).await?;
    let reason = crate::ui::forms::value(&form, "reason").trim().to_owned();
    if reason.is_empty() {
        let message = Some(u.layout.t.t("signoff-needs-reason"));
        return page(
            &state,
            u,
            loaded,
            &[],
            Errors::default(),
            None,
            Refused::signoff(message),
        )
        .await;
    }
    let a = loaded.assessment.id;
    let audit = u
        .current
        .event("assessment.amend", "assessment", Some(a.to_string()));
    state
        .store
        .amend_assessment(a, &reason, &u.user().username, state.now(), &audit)
        .await
        .or_page(&u.layout)?;
    crate::api::assessments::refresh_progress(&state, a).await;
    Ok(see_other(&format!("/assessments/{a}")))
}

/// `POST /assessments/{id}/certificates`: issues a certificate.
pub async fn issue_certificate(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    let loaded = signoff_request(&state, &u, &id, &form).await?;
    match crate::certificates::issue(&state, &u.current, &loaded.assessment).await {
        Ok(_) => Ok(see_other(&format!("/assessments/{}", loaded.assessment.id))),
        Err(e) if e.status == StatusCode::CONFLICT => {
            let message = Some(e.message);
            page(
                &state,
                u,
                loaded,
                &[],
                Errors::default(),
                None,
                Refused::signoff(message),
            )
            .await
        }
        Err(e) => Err(e).or_page(&u.layout),
    }
}

/// `GET /certificates/{id}/certificate.pdf`: the printable certificate.
pub async fn certificate_pdf(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let certificate = crate::api::certificates::visible_certificate(&state, &u.current, &id)
        .await
        .or_page(&u.layout)?;
    let bytes = crate::api::certificates::render_pdf(&state, &certificate)
        .await
        .or_page(&u.layout)?;
    Ok(axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/pdf")],
        bytes,
    )))
}
