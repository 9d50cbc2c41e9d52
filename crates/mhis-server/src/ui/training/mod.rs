//! Training and capacity building pages: the needs assessment form and
//! its summary with charts, the modules catalogue and its tests, sessions
//! (scheduled from the needs summary), participants (one at a time or
//! imported from CSV with row-level errors), attendance per day, pre/post
//! test scores, results (mean gain with its 95% confidence interval and
//! paired tests, with charts) and attendance certificates.
//!
//! Every page needs `TrainingRead`, every change `TrainingManage` (the
//! trainer role). Sessions and needs assessments belong to a site: one
//! outside the user's sites answers 404 like a missing one. Nothing here
//! reads or writes health records. The rules, questionnaire and question
//! banks are the data files of `training/`, read by
//! `mhis_domain::training`.

pub mod cert;
pub mod demo;
mod svg;

use crate::state::AppState;
use crate::ui::forms::{Errors, Field, Group, Opt, value, values};
use crate::ui::i18n::Tr;
use crate::ui::pages::{FormPairs, see_other};
use crate::ui::session::{Layout, OrPage, PageError, PageUser, render};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use mhis_domain::access::Permission;
use mhis_domain::ids::SiteId;
use mhis_domain::site::Site;
use mhis_domain::training::needs::QuestionKind;
use mhis_domain::training::participant::{NewParticipant, RowError, parse_csv};
use mhis_domain::training::session::{NewSession, SessionInput, certificate_eligible};
use mhis_domain::training::stats::{Gain, PrimaryTest, paired_gain};
use mhis_domain::training::{ParticipantId, SessionId, Training};
use mhis_store::{AttendanceMark, NeedsResponse, Participant, Phase, TestScore, TrainingSession};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// The training data of `training/`, loaded once.
pub static TRAINING: LazyLock<Training> = LazyLock::new(Training::built_in);

/// Largest CSV file accepted, in bytes.
pub const MAX_CSV_BYTES: usize = 1024 * 1024;

/// The routes of the training pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/training", get(home))
        .route("/training/modules", get(modules))
        .route("/training/modules/{id}/test", get(module_test))
        .route("/training/needs", get(needs_summary).post(needs_submit))
        .route("/training/needs/new", get(needs_form))
        .route("/training/sessions", post(session_create))
        .route("/training/sessions/new", get(session_form))
        .route("/training/sessions/{id}", get(session_page))
        .route(
            "/training/sessions/{id}/participants",
            post(participant_add),
        )
        .route(
            "/training/sessions/{id}/participants/import",
            post(participant_import).layer(axum::extract::DefaultBodyLimit::max(
                MAX_CSV_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/training/sessions/{id}/attendance",
            get(attendance_page).post(attendance_submit),
        )
        .route(
            "/training/sessions/{id}/tests",
            get(tests_page).post(tests_submit),
        )
        .route("/training/sessions/{id}/results", get(results_page))
        .route(
            "/training/sessions/{id}/certificates",
            post(cert::issue_all),
        )
        .route(
            "/training/certificates/{id}/certificate.pdf",
            get(cert::pdf),
        )
}

fn lang(u: &PageUser) -> &'static str {
    u.layout.t.lang.code()
}

fn module_title(id: &str, lang: &str) -> String {
    TRAINING
        .module(id)
        .map_or_else(|| id.to_owned(), |m| m.title.get(lang).to_owned())
}

fn topic_title(id: &str, lang: &str) -> String {
    TRAINING
        .questionnaire
        .topic(id)
        .map_or_else(|| id.to_owned(), |t| t.title.get(lang).to_owned())
}

fn org_type_label(t: &Tr, id: &str) -> String {
    t.label_or_raw("training-orgtype", id)
}

/// The sites the user works at (every site for national scope).
async fn user_sites(state: &AppState, u: &PageUser) -> Result<Vec<Site>, PageError> {
    let sites = state.store.list_sites().await.or_page(&u.layout)?;
    Ok(sites
        .into_iter()
        .filter(|s| u.user().scope.covers(s.id))
        .collect())
}

fn site_field(t: &Tr, sites: &[Site], current: &str, errors: &Errors) -> Field {
    let current = if current.is_empty() && sites.len() == 1 {
        sites[0].id.to_string()
    } else {
        current.to_owned()
    };
    Field::select(
        "site",
        t.t("training-field-site"),
        sites
            .iter()
            .map(|s| {
                Opt::new(
                    s.id.to_string(),
                    format!("{} — {}", s.code.as_str(), s.name),
                    &current,
                )
            })
            .collect(),
        Some(t.t("choose")),
    )
    .required(t)
    .errors(errors)
}

fn parse_site(sites: &[Site], raw: &str, t: &Tr, errors: &mut Errors) -> Option<SiteId> {
    let found = sites
        .iter()
        .find(|s| s.id.to_string() == raw.trim())
        .map(|s| s.id);
    if found.is_none() {
        errors.add("site", t.t("training-invalid-site"));
    }
    found
}

/// A session the user may see, or 404.
async fn visible_session(
    state: &AppState,
    u: &PageUser,
    id: &str,
) -> Result<TrainingSession, PageError> {
    let id: SessionId = id.parse().map_err(|_| u.fail(StatusCode::NOT_FOUND))?;
    let session = state.store.training_session(id).await.or_page(&u.layout)?;
    if !u.user().scope.covers(session.site_id) {
        return Err(u.fail(StatusCode::NOT_FOUND));
    }
    Ok(session)
}

fn status_of(errors: &Errors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

fn message(t: &Tr, field: &str, detail: &str) -> String {
    t.t2(
        "training-invalid-field",
        ("field", field),
        ("message", detail),
    )
}

fn name_of(p: &Participant) -> String {
    format!("{} {}", p.details.family_name, p.details.given_names)
}

// ---- Home and catalogue ---------------------------------------------------------

struct SessionRow {
    href: String,
    title: String,
    dates: String,
    place: String,
    modules: String,
}

#[derive(Template)]
#[template(path = "training_home.html")]
struct HomePage {
    l: Layout,
    manage: bool,
    sessions: Vec<SessionRow>,
}

fn session_row(t: &Tr, lang: &str, s: &TrainingSession) -> SessionRow {
    SessionRow {
        href: format!("/training/sessions/{}", s.id),
        title: s.title.clone(),
        dates: format!("{} – {}", t.date(s.starts_on), t.date(s.ends_on)),
        place: s.place.clone(),
        modules: s
            .modules
            .iter()
            .map(|m| module_title(m, lang))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `GET /training`: the sessions of the user's sites.
pub async fn home(State(state): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let sessions = state
        .store
        .training_sessions(u.user().scope.filter())
        .await
        .or_page(&u.layout)?;
    let t = u.layout.t;
    let lang = lang(&u);
    Ok(render(
        StatusCode::OK,
        &HomePage {
            manage: u.user().can(Permission::TrainingManage),
            sessions: sessions.iter().map(|s| session_row(&t, lang, s)).collect(),
            l: u.layout,
        },
    ))
}

struct ModuleRow {
    id: String,
    title: String,
    hours: u32,
    topics: String,
    questions: u32,
}

#[derive(Template)]
#[template(path = "training_modules.html")]
struct ModulesPage {
    l: Layout,
    version: String,
    modules: Vec<ModuleRow>,
}

/// `GET /training/modules`: the catalogue.
pub async fn modules(u: PageUser) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let lang = lang(&u);
    let rows = TRAINING
        .modules
        .iter()
        .map(|m| ModuleRow {
            id: m.id.clone(),
            title: m.title.get(lang).to_owned(),
            hours: m.hours,
            topics: m
                .topics
                .iter()
                .map(|t| topic_title(t, lang))
                .collect::<Vec<_>>()
                .join(", "),
            questions: TRAINING.bank_of(&m.id).map_or(0, |b| b.max_score()),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &ModulesPage {
            version: TRAINING.catalogue_version.clone(),
            modules: rows,
            l: u.layout,
        },
    ))
}

struct QuestionView {
    text: String,
    options: Vec<String>,
}

#[derive(Template)]
#[template(path = "training_test.html")]
struct TestPage {
    l: Layout,
    title: String,
    version: String,
    questions: Vec<QuestionView>,
}

/// `GET /training/modules/{id}/test`: the knowledge test, printable (no
/// answers shown).
pub async fn module_test(u: PageUser, Path(id): Path<String>) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let bank = TRAINING
        .bank_of(&id)
        .ok_or_else(|| u.fail(StatusCode::NOT_FOUND))?;
    let lang = lang(&u);
    Ok(render(
        StatusCode::OK,
        &TestPage {
            title: module_title(&id, lang),
            version: bank.version.clone(),
            questions: bank
                .questions
                .iter()
                .map(|q| QuestionView {
                    text: q.text.get(lang).to_owned(),
                    options: q.options.iter().map(|o| o.get(lang).to_owned()).collect(),
                })
                .collect(),
            l: u.layout,
        },
    ))
}

// ---- Needs assessment -----------------------------------------------------------

#[derive(Template)]
#[template(path = "training_needs_form.html")]
struct NeedsFormPage {
    l: Layout,
    csrf: String,
    groups: Vec<Group>,
    errors: Errors,
}

async fn needs_form_page(
    state: &AppState,
    u: PageUser,
    form: &[(String, String)],
    errors: Errors,
) -> Result<Response, PageError> {
    let t = u.layout.t;
    let lang = lang(&u);
    let q = &TRAINING.questionnaire;
    let sites = user_sites(state, &u).await?;
    let v = |name: &str| value(form, name);
    let about = Group {
        legend: t.t("training-needs-about"),
        fields: vec![
            site_field(&t, &sites, v("site"), &errors),
            Field::new(
                "organisation",
                t.t("training-field-organisation"),
                "text",
                v("organisation"),
            )
            .required(&t)
            .errors(&errors),
            Field::select(
                "organisation_type",
                t.t("training-field-organisation-type"),
                q.organisation_types
                    .iter()
                    .map(|o| Opt::new(o.as_str(), org_type_label(&t, o), v("organisation_type")))
                    .collect(),
                Some(t.t("choose")),
            )
            .required(&t)
            .errors(&errors),
            Field::new(
                "respondent",
                t.t("training-field-respondent"),
                "text",
                v("respondent"),
            )
            .hint(t.t("training-hint-respondent"))
            .required(&t)
            .errors(&errors),
        ],
    };
    let scale: Vec<Opt> = (q.scale.min..=q.scale.max)
        .map(|n| {
            let label = t.t1("training-need-level", "level", &n.to_string());
            let label = if n == q.scale.min {
                format!("{label} — {}", t.t("training-need-lowest"))
            } else if n == q.scale.max {
                format!("{label} — {}", t.t("training-need-highest"))
            } else {
                label
            };
            Opt::new(n.to_string(), label, "")
        })
        .collect();
    let questions = q
        .questions
        .iter()
        .map(|question| {
            let label = question.text.get(lang).to_owned();
            let current = v(&question.id);
            let field = match question.kind {
                QuestionKind::Need => Field::select(
                    &question.id,
                    label,
                    scale
                        .iter()
                        .map(|o| Opt::new(o.value.clone(), o.label.clone(), current))
                        .collect(),
                    Some(t.t("choose")),
                ),
                QuestionKind::Choice => Field::select(
                    &question.id,
                    label,
                    question
                        .options
                        .iter()
                        .map(|o| Opt::new(o.id.as_str(), o.label.get(lang), current))
                        .collect(),
                    Some(t.t("choose")),
                ),
                QuestionKind::Number => Field::new(&question.id, label, "integer", current),
                QuestionKind::Text => Field::new(&question.id, label, "textarea", current),
            };
            let field = if question.required {
                field.required(&t)
            } else {
                field
            };
            field.errors(&errors)
        })
        .collect();
    let groups = vec![
        about,
        Group {
            legend: t.t("training-needs-questions"),
            fields: questions,
        },
    ];
    Ok(render(
        status_of(&errors),
        &NeedsFormPage {
            csrf: u.csrf.clone(),
            l: u.layout,
            groups,
            errors,
        },
    ))
}

/// `GET /training/needs/new`: the needs questionnaire.
pub async fn needs_form(State(state): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    needs_form_page(&state, u, &[], Errors::default()).await
}

/// `POST /training/needs`: stores an answered questionnaire.
pub async fn needs_submit(
    State(state): State<AppState>,
    u: PageUser,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let t = u.layout.t;
    let sites = user_sites(&state, &u).await?;
    let mut errors = Errors::default();
    let site = parse_site(&sites, value(&form, "site"), &t, &mut errors);
    let parsed = TRAINING.questionnaire.parse_answers(&form);
    if let Err(list) = &parsed {
        for e in list {
            errors.add(e.field.clone(), message(&t, &e.field, &e.message));
        }
    }
    let (Some(site), Ok(answers), true) = (site, parsed, errors.is_empty()) else {
        return needs_form_page(&state, u, &form, errors).await;
    };
    let response = NeedsResponse {
        id: mhis_domain::training::NeedsResponseId::new(),
        site_id: site,
        organisation: answers.organisation,
        organisation_type: answers.organisation_type,
        respondent: answers.respondent,
        answers: answers.answers,
        questionnaire_version: TRAINING.questionnaire.version.clone(),
        created_by: u.user().username.clone(),
        created_at: state.now(),
    };
    let audit = u
        .current
        .event("training_needs.create", "training_needs_response", None);
    state
        .store
        .add_needs_response(&response, &audit)
        .await
        .or_page(&u.layout)?;
    Ok(see_other("/training/needs"))
}

struct TopicRow {
    title: String,
    ratings: usize,
    mean: String,
    high_share: String,
    priority: bool,
    by_type: Vec<String>,
}

struct ResponseRow {
    organisation: String,
    organisation_type: String,
    respondent: String,
    date: String,
}

#[derive(Template)]
#[template(path = "training_needs.html")]
struct NeedsPage {
    l: Layout,
    manage: bool,
    responses: usize,
    types: Vec<(String, usize)>,
    type_names: Vec<String>,
    topics: Vec<TopicRow>,
    chart: String,
    chart_by_type: String,
    schedule_href: Option<String>,
    priority_modules: Vec<String>,
    covered: String,
    rows: Vec<ResponseRow>,
}

/// `GET /training/needs`: the summary of answered questionnaires of the
/// user's sites, by topic and organisation type, with charts.
pub async fn needs_summary(
    State(state): State<AppState>,
    u: PageUser,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let scope = u.user().scope.filter();
    let responses = state
        .store
        .needs_responses(scope)
        .await
        .or_page(&u.layout)?;
    u.current
        .audit_read(
            &state,
            "training_needs.read",
            "training_needs_response",
            None,
        )
        .await
        .or_page(&u.layout)?;
    let sessions = state
        .store
        .training_sessions(scope)
        .await
        .or_page(&u.layout)?;
    let t = u.layout.t;
    let lang = lang(&u);
    let q = &TRAINING.questionnaire;
    let summary = q.summarise(
        responses
            .iter()
            .map(|r| (r.organisation_type.as_str(), &r.answers)),
    );
    let types: Vec<String> = summary
        .responses_by_organisation_type
        .keys()
        .cloned()
        .collect();
    let topics = summary
        .topics
        .iter()
        .map(|tn| TopicRow {
            title: topic_title(&tn.topic, lang),
            ratings: tn.ratings,
            mean: tn.mean_need.map_or("—".into(), |m| format!("{m:.2}")),
            high_share: tn
                .high_need_share
                .map_or("—".into(), |s| format!("{:.0}%", s * 100.0)),
            priority: tn.priority,
            by_type: types
                .iter()
                .map(|ty| {
                    tn.by_organisation_type
                        .get(ty)
                        .map_or("—".into(), |m| format!("{m:.2}"))
                })
                .collect(),
        })
        .collect();
    let chart = svg::bar_chart(
        &t.t("training-needs-chart"),
        &[t.t("training-mean-need")],
        &summary
            .topics
            .iter()
            .map(|tn| svg::Bars {
                label: topic_title(&tn.topic, lang),
                values: vec![tn.mean_need],
            })
            .collect::<Vec<_>>(),
        f64::from(q.scale.max),
        2,
    );
    let chart_by_type = if types.len() > 1 {
        svg::bar_chart(
            &t.t("training-needs-chart-by-type"),
            &types
                .iter()
                .map(|ty| org_type_label(&t, ty))
                .collect::<Vec<_>>(),
            &summary
                .topics
                .iter()
                .map(|tn| svg::Bars {
                    label: topic_title(&tn.topic, lang),
                    values: types
                        .iter()
                        .map(|ty| tn.by_organisation_type.get(ty).copied())
                        .collect(),
                })
                .collect::<Vec<_>>(),
            f64::from(q.scale.max),
            1,
        )
    } else {
        String::new()
    };
    let priority = summary.priority_topics();
    let modules = TRAINING.modules_for_topics(&priority);
    let schedule_href = (!modules.is_empty()).then(|| {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(modules.iter().map(|m| ("modules", m.id.as_str())))
            .finish();
        format!("/training/sessions/new?{query}")
    });
    let scheduled: Vec<&mhis_domain::training::Module> = sessions
        .iter()
        .flat_map(|s| s.modules.iter())
        .filter_map(|m| TRAINING.module(m))
        .collect();
    let (covered, total) = summary.needs_covered(&scheduled);
    Ok(render(
        StatusCode::OK,
        &NeedsPage {
            manage: u.user().can(Permission::TrainingManage),
            responses: summary.responses,
            types: summary
                .responses_by_organisation_type
                .iter()
                .map(|(k, v)| (org_type_label(&t, k), *v))
                .collect(),
            type_names: types.iter().map(|ty| org_type_label(&t, ty)).collect(),
            topics,
            chart,
            chart_by_type,
            schedule_href,
            priority_modules: modules
                .iter()
                .map(|m| m.title.get(lang).to_owned())
                .collect(),
            covered: t.t2(
                "training-needs-covered",
                ("covered", &covered.to_string()),
                ("total", &total.to_string()),
            ),
            rows: responses
                .iter()
                .rev()
                .map(|r| ResponseRow {
                    organisation: r.organisation.clone(),
                    organisation_type: org_type_label(&t, &r.organisation_type),
                    respondent: r.respondent.clone(),
                    date: t.date(r.created_at.date_naive()),
                })
                .collect(),
            l: u.layout,
        },
    ))
}

// ---- Sessions -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "training_session_form.html")]
struct SessionFormPage {
    l: Layout,
    csrf: String,
    groups: Vec<Group>,
    errors: Errors,
}

async fn session_form_page(
    state: &AppState,
    u: PageUser,
    form: &[(String, String)],
    errors: Errors,
) -> Result<Response, PageError> {
    let t = u.layout.t;
    let lang = lang(&u);
    let sites = user_sites(state, &u).await?;
    let v = |name: &str| value(form, name);
    let chosen = values(form, "modules");
    let mut modules = Field::new("modules", t.t("training-field-modules"), "checkboxes", "");
    modules.options = TRAINING
        .modules
        .iter()
        .map(|m| Opt {
            value: m.id.clone(),
            label: m.title.get(lang).to_owned(),
            selected: chosen.contains(&m.id.as_str()),
        })
        .collect();
    let groups = vec![Group {
        legend: t.t("training-session-new"),
        fields: vec![
            site_field(&t, &sites, v("site"), &errors),
            Field::new("title", t.t("training-field-title"), "text", v("title"))
                .required(&t)
                .errors(&errors),
            Field::new("place", t.t("training-field-place"), "text", v("place"))
                .required(&t)
                .errors(&errors),
            Field::new(
                "starts_on",
                t.t("training-field-starts"),
                "date",
                v("starts_on"),
            )
            .required(&t)
            .errors(&errors),
            Field::new("ends_on", t.t("training-field-ends"), "date", v("ends_on"))
                .required(&t)
                .errors(&errors),
            Field::new(
                "trainers",
                t.t("training-field-trainers"),
                "text",
                v("trainers"),
            )
            .hint(t.t("training-hint-trainers"))
            .required(&t)
            .errors(&errors),
            modules.required(&t).errors(&errors),
            Field::new(
                "organisations",
                t.t("training-field-organisations"),
                "textarea",
                v("organisations"),
            )
            .hint(t.t("training-hint-organisations"))
            .errors(&errors),
        ],
    }];
    Ok(render(
        status_of(&errors),
        &SessionFormPage {
            csrf: u.csrf.clone(),
            l: u.layout,
            groups,
            errors,
        },
    ))
}

/// `GET /training/sessions/new[?modules=…]`: the session form, with the
/// modules chosen from the needs summary ticked.
pub async fn session_form(
    State(state): State<AppState>,
    u: PageUser,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    let form: Vec<(String, String)> = query.into_iter().filter(|(k, _)| k == "modules").collect();
    session_form_page(&state, u, &form, Errors::default()).await
}

/// `POST /training/sessions`: schedules a session.
pub async fn session_create(
    State(state): State<AppState>,
    u: PageUser,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let t = u.layout.t;
    let sites = user_sites(&state, &u).await?;
    let mut errors = Errors::default();
    let site = parse_site(&sites, value(&form, "site"), &t, &mut errors);
    let input = SessionInput {
        title: value(&form, "title"),
        place: value(&form, "place"),
        starts_on: value(&form, "starts_on"),
        ends_on: value(&form, "ends_on"),
        trainers: value(&form, "trainers"),
        modules: values(&form, "modules"),
        organisations: value(&form, "organisations"),
    };
    let parsed = NewSession::parse(&TRAINING, &input);
    if let Err(list) = &parsed {
        for e in list {
            errors.add(e.field.clone(), message(&t, &e.field, &e.message));
        }
    }
    let (Some(site), Ok(s), true) = (site, parsed, errors.is_empty()) else {
        return session_form_page(&state, u, &form, errors).await;
    };
    let session = TrainingSession {
        id: SessionId::new(),
        site_id: site,
        title: s.title,
        place: s.place,
        starts_on: s.starts_on,
        ends_on: s.ends_on,
        trainers: s.trainers,
        modules: s.modules,
        organisations: s.organisations,
        created_by: u.user().username.clone(),
        created_at: state.now(),
    };
    let audit = u
        .current
        .event("training_session.create", "training_session", None);
    state
        .store
        .add_training_session(&session, &audit)
        .await
        .or_page(&u.layout)?;
    Ok(see_other(&format!("/training/sessions/{}", session.id)))
}

struct ParticipantRow {
    name: String,
    organisation: String,
    organisation_type: String,
    role: String,
    sex: String,
    contact: String,
    days_present: String,
    eligible: bool,
    certificate: Option<String>,
}

#[derive(Template)]
#[template(path = "training_session.html")]
struct SessionPage {
    l: Layout,
    csrf: String,
    manage: bool,
    id: String,
    title: String,
    dates: String,
    place: String,
    trainers: String,
    modules: Vec<String>,
    organisations: String,
    participants: Vec<ParticipantRow>,
    groups: Vec<Group>,
    errors: Errors,
    import_errors: Vec<RowError>,
    import_message: Option<String>,
    to_issue: usize,
    issued_note: Option<String>,
}

#[derive(Default)]
struct SessionExtras {
    form: Vec<(String, String)>,
    errors: Errors,
    import_errors: Vec<RowError>,
    import_message: Option<String>,
    issued_note: Option<String>,
}

async fn session_view(
    state: &AppState,
    u: PageUser,
    session: &TrainingSession,
    extras: SessionExtras,
) -> Result<Response, PageError> {
    let t = u.layout.t;
    let lang = lang(&u);
    let participants = state
        .store
        .participants(session.id)
        .await
        .or_page(&u.layout)?;
    u.current
        .audit_read(
            state,
            "training_session.read",
            "training_session",
            Some(session.id.to_string()),
        )
        .await
        .or_page(&u.layout)?;
    let attendance = state
        .store
        .attendance(session.id)
        .await
        .or_page(&u.layout)?;
    let certificates = state
        .store
        .attendance_certificates(session.id)
        .await
        .or_page(&u.layout)?;
    let days = session.days().len();
    let present = present_days(&attendance);
    let mut to_issue = 0;
    let rows = participants
        .iter()
        .map(|p| {
            let n = present.get(&p.id).copied().unwrap_or(0);
            let eligible = certificate_eligible(n, days);
            let certificate = certificates
                .iter()
                .find(|c| c.participant_id == p.id)
                .map(|c| format!("/training/certificates/{}/certificate.pdf", c.id));
            if eligible && certificate.is_none() {
                to_issue += 1;
            }
            ParticipantRow {
                name: name_of(p),
                organisation: p.details.organisation.clone(),
                organisation_type: org_type_label(&t, &p.details.organisation_type),
                role: p.details.role.clone(),
                sex: t.t(&format!("sex-{}", p.details.sex.as_str())),
                contact: p.details.contact.clone().unwrap_or_default(),
                days_present: format!("{n}/{days}"),
                eligible,
                certificate,
            }
        })
        .collect();
    let form = &extras.form;
    let errors = extras.errors;
    let v = |name: &str| value(form, name);
    let q = &TRAINING.questionnaire;
    let groups = vec![Group {
        legend: t.t("training-participant-new"),
        fields: vec![
            Field::new(
                "family_name",
                t.t("field-family_name"),
                "text",
                v("family_name"),
            )
            .required(&t)
            .errors(&errors),
            Field::new(
                "given_names",
                t.t("field-given_names"),
                "text",
                v("given_names"),
            )
            .required(&t)
            .errors(&errors),
            Field::new(
                "organisation",
                t.t("training-field-organisation"),
                "text",
                v("organisation"),
            )
            .required(&t)
            .errors(&errors),
            Field::select(
                "organisation_type",
                t.t("training-field-organisation-type"),
                q.organisation_types
                    .iter()
                    .map(|o| Opt::new(o.as_str(), org_type_label(&t, o), v("organisation_type")))
                    .collect(),
                Some(t.t("choose")),
            )
            .required(&t)
            .errors(&errors),
            Field::new("role", t.t("training-field-role"), "text", v("role"))
                .required(&t)
                .errors(&errors),
            Field::select(
                "sex",
                t.t("field-sex"),
                ["female", "male", "other"]
                    .iter()
                    .map(|s| Opt::new(*s, t.t(&format!("sex-{s}")), v("sex")))
                    .collect(),
                Some(t.t("choose")),
            )
            .required(&t)
            .errors(&errors),
            Field::new(
                "contact",
                t.t("training-field-contact"),
                "text",
                v("contact"),
            )
            .errors(&errors),
        ],
    }];
    let status = if errors.is_empty() && extras.import_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        &SessionPage {
            csrf: u.csrf.clone(),
            manage: u.user().can(Permission::TrainingManage),
            id: session.id.to_string(),
            title: session.title.clone(),
            dates: format!(
                "{} – {}",
                t.date(session.starts_on),
                t.date(session.ends_on)
            ),
            place: session.place.clone(),
            trainers: session.trainers.join(", "),
            modules: session
                .modules
                .iter()
                .map(|m| module_title(m, lang))
                .collect(),
            organisations: session.organisations.join("; "),
            participants: rows,
            groups,
            errors,
            import_errors: extras.import_errors,
            import_message: extras.import_message,
            to_issue,
            issued_note: extras.issued_note,
            l: u.layout,
        },
    ))
}

fn present_days(marks: &[AttendanceMark]) -> BTreeMap<ParticipantId, usize> {
    let mut out = BTreeMap::new();
    for m in marks.iter().filter(|m| m.present) {
        *out.entry(m.participant_id).or_insert(0) += 1;
    }
    out
}

/// `GET /training/sessions/{id}`: the session, its participants and
/// certificates.
pub async fn session_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let session = visible_session(&state, &u, &id).await?;
    let t = u.layout.t;
    let extras = SessionExtras {
        import_message: query
            .iter()
            .find(|(k, _)| k == "imported")
            .map(|(_, n)| t.t1("training-imported", "count", n)),
        issued_note: query
            .iter()
            .find(|(k, _)| k == "issued")
            .map(|(_, n)| t.t1("training-issued", "count", n)),
        ..SessionExtras::default()
    };
    session_view(&state, u, &session, extras).await
}

/// `POST /training/sessions/{id}/participants`: adds one participant.
pub async fn participant_add(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let session = visible_session(&state, &u, &id).await?;
    let t = u.layout.t;
    let fields = mhis_domain::training::participant::CSV_COLUMNS.map(|c| value(&form, c));
    match NewParticipant::parse(&TRAINING.questionnaire, fields) {
        Ok(details) => {
            let p = Participant {
                id: ParticipantId::new(),
                session_id: session.id,
                details,
                created_at: state.now(),
            };
            let audit = u
                .current
                .event("training_participant.create", "training_session", None);
            state
                .store
                .add_participants(&[p], &audit)
                .await
                .or_page(&u.layout)?;
            Ok(see_other(&format!("/training/sessions/{}", session.id)))
        }
        Err(list) => {
            let mut errors = Errors::default();
            for e in list {
                errors.add(e.field.clone(), message(&t, &e.field, &e.message));
            }
            session_view(
                &state,
                u,
                &session,
                SessionExtras {
                    form,
                    errors,
                    ..SessionExtras::default()
                },
            )
            .await
        }
    }
}

/// `POST /training/sessions/{id}/participants/import` (multipart: `csrf`
/// and `file`): imports participants from CSV, all rows or none; a file
/// with bad rows is refused with every row's errors.
pub async fn participant_import(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    let mut csrf = String::new();
    let mut file: Option<Vec<u8>> = None;
    let mut too_large = false;
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => match field.bytes().await {
                Ok(b) if b.len() <= MAX_CSV_BYTES => file = Some(b.to_vec()),
                _ => too_large = true,
            },
            _ => {}
        }
    }
    u.check_csrf(&csrf)?;
    let session = visible_session(&state, &u, &id).await?;
    let t = u.layout.t;
    let refuse = |message: String| RowError {
        line: 0,
        field: "file".into(),
        message,
    };
    let result = match file {
        _ if too_large => Err(vec![refuse(t.t("training-import-too-large"))]),
        None => Err(vec![refuse(t.t("training-import-no-file"))]),
        Some(bytes) => match std::str::from_utf8(&bytes) {
            Err(_) => Err(vec![refuse(t.t("training-import-not-utf8"))]),
            Ok(_) => parse_csv(&TRAINING.questionnaire, &bytes),
        },
    };
    match result {
        Ok(people) => {
            let now = state.now();
            let count = people.len();
            let rows: Vec<Participant> = people
                .into_iter()
                .map(|details| Participant {
                    id: ParticipantId::new(),
                    session_id: session.id,
                    details,
                    created_at: now,
                })
                .collect();
            let audit = u
                .current
                .event("training_participant.import", "training_session", None);
            state
                .store
                .add_participants(&rows, &audit)
                .await
                .or_page(&u.layout)?;
            Ok(see_other(&format!(
                "/training/sessions/{}?imported={count}",
                session.id
            )))
        }
        Err(import_errors) => {
            session_view(
                &state,
                u,
                &session,
                SessionExtras {
                    import_errors,
                    ..SessionExtras::default()
                },
            )
            .await
        }
    }
}

// ---- Attendance -----------------------------------------------------------------

struct AttendanceRow {
    id: String,
    name: String,
    present_today: bool,
    marks: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "training_attendance.html")]
struct AttendancePage {
    l: Layout,
    csrf: String,
    manage: bool,
    id: String,
    title: String,
    day: String,
    day_label: String,
    days: Vec<(String, String, bool)>,
    day_labels: Vec<String>,
    rows: Vec<AttendanceRow>,
}

fn chosen_day(session: &TrainingSession, raw: &str) -> Option<chrono::NaiveDate> {
    if raw.is_empty() {
        return Some(session.starts_on);
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| (session.starts_on..=session.ends_on).contains(d))
}

/// `GET /training/sessions/{id}/attendance[?day=YYYY-MM-DD]`: who was
/// present, by day.
pub async fn attendance_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let session = visible_session(&state, &u, &id).await?;
    let day =
        chosen_day(&session, value(&query, "day")).ok_or_else(|| u.fail(StatusCode::NOT_FOUND))?;
    let participants = state
        .store
        .participants(session.id)
        .await
        .or_page(&u.layout)?;
    u.current
        .audit_read(
            &state,
            "training_attendance.read",
            "training_session",
            Some(session.id.to_string()),
        )
        .await
        .or_page(&u.layout)?;
    let marks = state
        .store
        .attendance(session.id)
        .await
        .or_page(&u.layout)?;
    let t = u.layout.t;
    let days = session.days();
    let rows = participants
        .iter()
        .map(|p| {
            let mark = |d: chrono::NaiveDate| {
                marks
                    .iter()
                    .find(|m| m.participant_id == p.id && m.day == d)
                    .map(|m| m.present)
            };
            AttendanceRow {
                id: p.id.to_string(),
                name: name_of(p),
                present_today: mark(day).unwrap_or(false),
                marks: days
                    .iter()
                    .map(|d| match mark(*d) {
                        Some(true) => "✓",
                        Some(false) => "✗",
                        None => "·",
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &AttendancePage {
            csrf: u.csrf.clone(),
            manage: u.user().can(Permission::TrainingManage),
            id: session.id.to_string(),
            title: session.title.clone(),
            day: day.to_string(),
            day_label: t.date(day),
            days: days
                .iter()
                .map(|d| (d.to_string(), t.date(*d), *d == day))
                .collect(),
            day_labels: days.iter().map(|d| t.date(*d)).collect(),
            rows,
            l: u.layout,
        },
    ))
}

/// `POST /training/sessions/{id}/attendance` (`day`, and `present` once
/// per participant present): records the day's attendance; every
/// participant not ticked is recorded absent.
pub async fn attendance_submit(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let session = visible_session(&state, &u, &id).await?;
    let day = chosen_day(&session, value(&form, "day"))
        .filter(|_| !value(&form, "day").is_empty())
        .ok_or_else(|| u.fail(StatusCode::UNPROCESSABLE_ENTITY))?;
    let participants = state
        .store
        .participants(session.id)
        .await
        .or_page(&u.layout)?;
    let present: BTreeSet<&str> = values(&form, "present").into_iter().collect();
    let known: BTreeSet<String> = participants.iter().map(|p| p.id.to_string()).collect();
    if present.iter().any(|p| !known.contains(*p)) {
        return Err(u.fail(StatusCode::UNPROCESSABLE_ENTITY));
    }
    let marks: Vec<AttendanceMark> = participants
        .iter()
        .map(|p| AttendanceMark {
            participant_id: p.id,
            day,
            present: present.contains(p.id.to_string().as_str()),
        })
        .collect();
    let audit = u
        .current
        .event("training_attendance.record", "training_session", None);
    state
        .store
        .record_attendance(session.id, &marks, &audit)
        .await
        .or_page(&u.layout)?;
    Ok(see_other(&format!(
        "/training/sessions/{}/attendance?day={day}",
        session.id
    )))
}

// ---- Tests ----------------------------------------------------------------------

struct ScoreRow {
    id: String,
    name: String,
    pre: String,
    post: String,
    pre_error: Option<String>,
    post_error: Option<String>,
}

#[derive(Template)]
#[template(path = "training_tests.html")]
struct TestsPage {
    l: Layout,
    csrf: String,
    manage: bool,
    id: String,
    title: String,
    module: String,
    help: String,
    modules: Vec<(String, String, bool)>,
    rows: Vec<ScoreRow>,
    errors: Errors,
}

fn chosen_module(session: &TrainingSession, raw: &str) -> Option<String> {
    if raw.is_empty() {
        return session.modules.first().cloned();
    }
    session.modules.iter().find(|m| *m == raw).cloned()
}

async fn tests_view(
    state: &AppState,
    u: PageUser,
    session: &TrainingSession,
    module: &str,
    form: Option<&[(String, String)]>,
    errors: Errors,
) -> Result<Response, PageError> {
    let lang = lang(&u);
    let bank = TRAINING
        .bank_of(module)
        .ok_or_else(|| u.fail(StatusCode::NOT_FOUND))?;
    let participants = state
        .store
        .participants(session.id)
        .await
        .or_page(&u.layout)?;
    u.current
        .audit_read(
            state,
            "training_scores.read",
            "training_session",
            Some(session.id.to_string()),
        )
        .await
        .or_page(&u.layout)?;
    let scores = state.store.scores(session.id).await.or_page(&u.layout)?;
    let stored = |p: ParticipantId, phase: Phase| {
        scores
            .iter()
            .find(|s| s.participant_id == p && s.module == module && s.phase == phase)
            .map_or(String::new(), |s| s.score.to_string())
    };
    let rows = participants
        .iter()
        .map(|p| {
            let pre_name = format!("pre-{}", p.id);
            let post_name = format!("post-{}", p.id);
            let (pre, post) = match form {
                Some(f) => (
                    value(f, &pre_name).to_owned(),
                    value(f, &post_name).to_owned(),
                ),
                None => (stored(p.id, Phase::Pre), stored(p.id, Phase::Post)),
            };
            ScoreRow {
                id: p.id.to_string(),
                name: name_of(p),
                pre,
                post,
                pre_error: errors.get(&pre_name).map(str::to_owned),
                post_error: errors.get(&post_name).map(str::to_owned),
            }
        })
        .collect();
    Ok(render(
        status_of(&errors),
        &TestsPage {
            csrf: u.csrf.clone(),
            manage: u.user().can(Permission::TrainingManage),
            id: session.id.to_string(),
            title: session.title.clone(),
            module: module.to_owned(),
            help: u.layout.t.t2(
                "training-tests-help",
                ("module", &module_title(module, lang)),
                ("max", &bank.max_score().to_string()),
            ),
            modules: session
                .modules
                .iter()
                .map(|m| (m.clone(), module_title(m, lang), m == module))
                .collect(),
            rows,
            errors,
            l: u.layout,
        },
    ))
}

/// `GET /training/sessions/{id}/tests[?module=…]`: pre and post scores of
/// one module.
pub async fn tests_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let session = visible_session(&state, &u, &id).await?;
    let module = chosen_module(&session, value(&query, "module"))
        .ok_or_else(|| u.fail(StatusCode::NOT_FOUND))?;
    tests_view(&state, u, &session, &module, None, Errors::default()).await
}

/// `POST /training/sessions/{id}/tests` (`module`, `pre-ID`, `post-ID`):
/// records scores; an empty box records nothing. One bad score refuses the
/// whole form.
pub async fn tests_submit(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let session = visible_session(&state, &u, &id).await?;
    let module = chosen_module(&session, value(&form, "module"))
        .filter(|_| !value(&form, "module").is_empty())
        .ok_or_else(|| u.fail(StatusCode::UNPROCESSABLE_ENTITY))?;
    let bank = TRAINING
        .bank_of(&module)
        .ok_or_else(|| u.fail(StatusCode::UNPROCESSABLE_ENTITY))?;
    let participants = state
        .store
        .participants(session.id)
        .await
        .or_page(&u.layout)?;
    let t = u.layout.t;
    let mut errors = Errors::default();
    let mut scores = Vec::new();
    for p in &participants {
        for phase in [Phase::Pre, Phase::Post] {
            let field = format!("{}-{}", phase.as_str(), p.id);
            match bank.parse_score(&field, value(&form, &field)) {
                Ok(Some(score)) => scores.push(TestScore {
                    participant_id: p.id,
                    module: module.clone(),
                    phase,
                    score,
                    max_score: bank.max_score(),
                }),
                Ok(None) => {}
                Err(_) => errors.add(
                    field,
                    t.t2(
                        "training-invalid-score",
                        ("name", &name_of(p)),
                        ("max", &bank.max_score().to_string()),
                    ),
                ),
            }
        }
    }
    if !errors.is_empty() {
        return tests_view(&state, u, &session, &module, Some(&form), errors).await;
    }
    let audit = u
        .current
        .event("training_scores.record", "training_session", None);
    state
        .store
        .record_scores(session.id, &scores, &audit)
        .await
        .or_page(&u.layout)?;
    Ok(see_other(&format!(
        "/training/sessions/{}/results",
        session.id
    )))
}

// ---- Results --------------------------------------------------------------------

struct GainRow {
    label: String,
    n: usize,
    mean_pre: String,
    mean_post: String,
    gain: String,
    ci: String,
    t_p: String,
    wilcoxon_p: String,
    primary: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "training_results.html")]
struct ResultsPage {
    l: Layout,
    id: String,
    title: String,
    rows: Vec<GainRow>,
    chart: String,
}

fn p_text(p: Option<f64>) -> String {
    match p {
        None => "—".into(),
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn gain_row(t: &Tr, label: String, gain: Result<Gain, String>) -> GainRow {
    match gain {
        Ok(g) => GainRow {
            label,
            n: g.n,
            mean_pre: format!("{:.1}", g.mean_pre),
            mean_post: format!("{:.1}", g.mean_post),
            gain: format!("{:+.1}", g.mean_gain),
            ci: format!("{:+.1} … {:+.1}", g.ci_low, g.ci_high),
            t_p: p_text(g.t_test.as_ref().map(|x| x.p)),
            wilcoxon_p: p_text(g.wilcoxon.as_ref().map(|x| x.p)),
            primary: t.t(match g.primary {
                PrimaryTest::PairedT => "training-test-t",
                PrimaryTest::Wilcoxon => "training-test-wilcoxon",
            }),
            note: g
                .wilcoxon
                .as_ref()
                .filter(|w| w.approximate_small)
                .map(|_| t.t("training-note-small")),
        },
        Err(reason) => GainRow {
            label,
            n: 0,
            mean_pre: "—".into(),
            mean_post: "—".into(),
            gain: "—".into(),
            ci: "—".into(),
            t_p: "—".into(),
            wilcoxon_p: "—".into(),
            primary: "—".into(),
            note: Some(reason),
        },
    }
}

/// Paired percent scores of one module: participants with both.
fn module_pairs(scores: &[TestScore], module: &str) -> BTreeMap<ParticipantId, (f64, f64)> {
    let percent = |s: &TestScore| f64::from(s.score) * 100.0 / f64::from(s.max_score.max(1));
    let mut pre = BTreeMap::new();
    let mut post = BTreeMap::new();
    for s in scores.iter().filter(|s| s.module == module) {
        match s.phase {
            Phase::Pre => pre.insert(s.participant_id, percent(s)),
            Phase::Post => post.insert(s.participant_id, percent(s)),
        };
    }
    pre.into_iter()
        .filter_map(|(p, a)| post.get(&p).map(|b| (p, (a, *b))))
        .collect()
}

/// `GET /training/sessions/{id}/results`: knowledge gain per module and
/// for the session, in percentage points of the test's maximum.
///
/// The session's gain pairs each participant's mean percent score over the
/// modules where they have both tests, before and after.
pub async fn results_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let session = visible_session(&state, &u, &id).await?;
    let scores = state.store.scores(session.id).await.or_page(&u.layout)?;
    let t = u.layout.t;
    let lang = lang(&u);
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    let mut per_person: BTreeMap<ParticipantId, Vec<(f64, f64)>> = BTreeMap::new();
    for m in &session.modules {
        let pairs = module_pairs(&scores, m);
        for (p, pair) in &pairs {
            per_person.entry(*p).or_default().push(*pair);
        }
        let (pre, post): (Vec<f64>, Vec<f64>) = pairs.values().copied().unzip();
        let gain = paired_gain(&pre, &post).map_err(|e| e.to_string());
        bars.push(svg::Bars {
            label: module_title(m, lang),
            values: match &gain {
                Ok(g) => vec![Some(g.mean_pre), Some(g.mean_post)],
                Err(_) => vec![None, None],
            },
        });
        rows.push(gain_row(&t, module_title(m, lang), gain));
    }
    let (pre, post): (Vec<f64>, Vec<f64>) = per_person
        .values()
        .map(|v| {
            let n = v.len() as f64;
            (
                v.iter().map(|x| x.0).sum::<f64>() / n,
                v.iter().map(|x| x.1).sum::<f64>() / n,
            )
        })
        .unzip();
    let overall = paired_gain(&pre, &post).map_err(|e| e.to_string());
    bars.push(svg::Bars {
        label: t.t("training-whole-session"),
        values: match &overall {
            Ok(g) => vec![Some(g.mean_pre), Some(g.mean_post)],
            Err(_) => vec![None, None],
        },
    });
    rows.push(gain_row(&t, t.t("training-whole-session"), overall));
    let chart = svg::bar_chart(
        &t.t("training-results-chart"),
        &[t.t("training-pre"), t.t("training-post")],
        &bars,
        100.0,
        0,
    );
    Ok(render(
        StatusCode::OK,
        &ResultsPage {
            id: session.id.to_string(),
            title: session.title.clone(),
            rows,
            chart,
            l: u.layout,
        },
    ))
}
