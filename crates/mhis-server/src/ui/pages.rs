//! Signing in and out, the language switch, migrant search, registration
//! and the migrant page.

use crate::api::migrants::visible_migrant;
use crate::auth::{self, LoginError, session_user, token_hash};
use crate::state::AppState;
use crate::ui::forms::{Errors, Field, Group, Opt, value};
use crate::ui::i18n::{Lang, Tr};
use crate::ui::session::{
    LANG_COOKIE, Layout, OrPage, PageError, PageUser, SESSION_COOKIE, constant_time_eq, cookie,
    render, request_lang, session_cookie,
};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mhis_domain::FieldError;
use mhis_domain::access::Permission;
use mhis_domain::assessment::{AssessmentInput, NewAssessment, Purpose};
use mhis_domain::ids::SiteId;
use mhis_domain::migrant::{
    DocumentInput, DocumentKind, Migrant, MigrantDetails, MigrantInput, NewMigrant, PartialDate,
    Sex, normalise_document_number,
};
use mhis_domain::page::PageRequest;
use mhis_domain::site::Site;
use mhis_domain::transliteration::search_key;
use mhis_store::{AssessmentFilter, MigrantQuery};
use serde::Deserialize;

/// A decoded form, every pair in order (checkbox lists repeat a name).
pub type FormPairs = Form<Vec<(String, String)>>;

/// The client address, for the audit trail of a login.
pub struct Origin(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(crate::ui::session::origin(parts)))
    }
}

/// A 303 redirect: after a POST, the browser GETs the answer (so reloading
/// it does not submit twice).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---- Login ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    groups: Vec<Group>,
    message: Option<String>,
    csrf: String,
}

/// The login form's token cookie: the form has no session yet, so its CSRF
/// token is a double-submit cookie (OWASP CSRF Prevention Cheat Sheet,
/// "login CSRF"), scoped to `/login`.
const LOGIN_COOKIE: &str = "mhis_login";

fn login_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    username: &str,
    message: Option<String>,
    token: Option<&str>,
) -> Response {
    let l = Layout::new(lang, "/login", None);
    let t = l.t;
    let (token, fresh) = match token {
        Some(token) => (token.to_owned(), false),
        None => (auth::new_token(), true),
    };
    let groups = vec![Group {
        legend: t.t("login-legend"),
        fields: vec![
            Field::new("username", t.t("login-username"), "text", username)
                .autocomplete("username")
                .required(&t),
            Field::new("password", t.t("login-password"), "password", "")
                .autocomplete("current-password")
                .required(&t),
        ],
    }];
    let mut response = render(
        status,
        &LoginPage {
            l,
            groups,
            message,
            csrf: token.clone(),
        },
    );
    if fresh {
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login{secure}"
        )) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    response
}

/// `GET /login`: the login form (or home, when already signed in).
pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = session_user(&state, secret).await
    {
        return see_other("/");
    }
    let token = cookie(&headers, LOGIN_COOKIE).filter(|t| t.starts_with("mhis_"));
    login_page(
        &state,
        request_lang(&headers, None),
        StatusCode::OK,
        "",
        None,
        token,
    )
}

/// `POST /login`: checks the form's token, then the password, and opens a
/// session. The messages never tell whether the user name exists (OWASP
/// Authentication Cheat Sheet).
pub async fn login(
    State(state): State<AppState>,
    Origin(origin): Origin,
    headers: HeaderMap,
    Form(form): FormPairs,
) -> Response {
    let lang = request_lang(&headers, None);
    let t = Tr::new(lang);
    let username = value(&form, "username");
    let token = cookie(&headers, LOGIN_COOKIE).filter(|t| t.starts_with("mhis_"));
    if token
        .is_none_or(|token| !constant_time_eq(token.as_bytes(), value(&form, "csrf").as_bytes()))
    {
        let message = Some(t.t("login-expired"));
        return login_page(&state, lang, StatusCode::FORBIDDEN, username, message, None);
    }
    match auth::login(&state, username, value(&form, "password"), origin).await {
        Ok(done) => {
            let mut response = see_other("/");
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(
                    &done.session_secret,
                    state.secure_cookies,
                    Some(auth::SESSION_LIFETIME.num_seconds()),
                ),
            );
            response
        }
        Err(e) => {
            let (status, message) = match e {
                LoginError::Invalid => (StatusCode::UNAUTHORIZED, t.t("login-invalid")),
                LoginError::Locked(until) => (
                    StatusCode::UNAUTHORIZED,
                    t.t1("login-locked", "until", &t.date_time(until)),
                ),
                LoginError::RateLimited => {
                    (StatusCode::TOO_MANY_REQUESTS, t.t("login-rate-limited"))
                }
                LoginError::Internal => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    t.t("error-internal-text"),
                ),
            };
            login_page(&state, lang, status, username, Some(message), token)
        }
    }
}

/// `POST /logout`: ends the session, here and in the store.
pub async fn logout(
    State(state): State<AppState>,
    u: PageUser,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.check_csrf(value(&form, "csrf"))?;
    state
        .store
        .delete_session(
            &token_hash(&u.secret),
            &u.current.event("session.delete", "user", None),
        )
        .await
        .or_page(&u.layout)?;
    let mut response = see_other("/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", state.secure_cookies, Some(0)),
    );
    Ok(response)
}

/// The query of the language switch.
#[derive(Debug, Deserialize)]
pub struct Next {
    /// Where to return to: a path on this site.
    pub next: Option<String>,
}

/// `GET /lang/{code}?next=/path`: remembers the language in a cookie and
/// returns to the page. Only local paths are followed (OWASP Unvalidated
/// Redirects and Forwards Cheat Sheet).
pub async fn set_lang(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(next): Query<Next>,
) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let next = next
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".to_owned());
    let mut response = see_other(&next);
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        lang.code()
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

// ---- Home and search --------------------------------------------------------

/// The search form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// Names, in any script.
    pub name: String,
    /// Travel document number.
    pub document_number: String,
    /// Birth date, possibly partial.
    pub birth_date: String,
}

/// One row of the search results.
pub struct MigrantRow {
    /// Link to the migrant page.
    pub href: String,
    /// Registration number.
    pub number: String,
    /// Names as written.
    pub name: String,
    /// Names in Latin letters.
    pub latin: String,
    /// Birth date.
    pub birth: String,
    /// Sex, translated.
    pub sex: String,
    /// Nationality code.
    pub nationality: String,
}

impl MigrantRow {
    /// The row of a migrant.
    pub fn new(t: &Tr, m: &Migrant) -> Self {
        Self {
            href: format!("/migrants/{}", m.id),
            number: m.registration_number.clone(),
            name: format!("{} {}", m.details.family_name, m.details.given_names),
            latin: format!(
                "{} {}",
                m.details.family_name_latin, m.details.given_names_latin
            ),
            birth: t.partial_date(m.details.birth_date),
            sex: t.t(&format!("sex-{}", m.details.sex.as_str())),
            nationality: m.details.nationality.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    groups: Vec<Group>,
    errors: Errors,
    searched: bool,
    rows: Vec<MigrantRow>,
    total: u64,
    can_register: bool,
    overdue: Option<i64>,
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    l: Layout,
    overdue: Option<i64>,
}

/// The number of overdue referrals of the user's sites, for the home
/// page's notice: `None` without referral access or when none is overdue.
async fn overdue(state: &AppState, u: &PageUser) -> Result<Option<i64>, PageError> {
    if !u.user().can(Permission::ReferralRead) {
        return Ok(None);
    }
    let count = crate::api::referrals::overdue_count(state, u.user().scope.filter())
        .await
        .or_page(&u.layout)?;
    Ok((count > 0).then_some(count))
}

/// `GET /`: the migrant search for those who may read migrants, a welcome
/// page for the others; both with the overdue referrals of the user's
/// sites, when there are any.
pub async fn home(
    State(state): State<AppState>,
    u: PageUser,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let overdue = overdue(&state, &u).await?;
    if u.user().can(Permission::MigrantRead) {
        search_page(&state, u, q, overdue).await
    } else {
        Ok(render(
            StatusCode::OK,
            &WelcomePage {
                l: u.layout,
                overdue,
            },
        ))
    }
}

/// `GET /migrants?name=…`: searches the registry by name in any script,
/// document number or birth date.
pub async fn search(
    State(state): State<AppState>,
    u: PageUser,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    search_page(&state, u, q, None).await
}

async fn search_page(
    state: &AppState,
    u: PageUser,
    q: SearchQuery,
    overdue: Option<i64>,
) -> Result<Response, PageError> {
    u.require(Permission::MigrantRead)?;
    let t = u.layout.t;
    let mut errors = Errors::default();
    let searched = [&q.name, &q.document_number, &q.birth_date]
        .iter()
        .any(|s| !s.trim().is_empty());
    let name_tokens: Vec<String> = search_key(&q.name)
        .split_whitespace()
        .map(String::from)
        .collect();
    if !q.name.trim().is_empty() && name_tokens.is_empty() {
        errors.add("name", t.t("invalid-search-name"));
    }
    let birth_date = match q.birth_date.trim() {
        "" => None,
        raw => match PartialDate::parse("birth_date", raw, state.today()) {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add("birth_date", t.t("invalid-birth_date"));
                None
            }
        },
    };
    let mut rows = Vec::new();
    let mut total = 0;
    if searched && errors.is_empty() {
        let query = MigrantQuery {
            name_tokens,
            document_number: Some(normalise_document_number(&q.document_number))
                .filter(|n| !n.is_empty()),
            birth_date,
            sites: u.user().scope.filter().map(<[SiteId]>::to_vec),
        };
        let page = PageRequest::parse(Some(1), Some(50)).or_page(&u.layout)?;
        let found = state
            .store
            .search_migrants(&query, page)
            .await
            .or_page(&u.layout)?;
        u.current
            .audit_read(state, "migrant.search", "migrant", None)
            .await
            .or_page(&u.layout)?;
        total = found.total;
        rows = found.items.iter().map(|m| MigrantRow::new(&t, m)).collect();
    }
    let groups = vec![Group {
        legend: t.t("search-legend"),
        fields: vec![
            Field::new("name", t.t("search-name"), "text", &q.name)
                .hint(t.t("search-name-hint"))
                .errors(&errors),
            Field::new(
                "document_number",
                t.t("field-document_number"),
                "text",
                &q.document_number,
            ),
            Field::new("birth_date", t.t("field-birth_date"), "text", &q.birth_date)
                .hint(t.t("hint-birth_date"))
                .errors(&errors),
        ],
    }];
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        &SearchPage {
            can_register: u.user().can(Permission::MigrantWrite),
            l: u.layout,
            groups,
            errors,
            searched,
            rows,
            total,
            overdue,
        },
    ))
}

// ---- Registration -------------------------------------------------------------

/// The sites of the user's scope.
pub async fn user_sites(state: &AppState, u: &PageUser) -> Result<Vec<Site>, PageError> {
    Ok(state
        .store
        .list_sites()
        .await
        .or_page(&u.layout)?
        .into_iter()
        .filter(|s| u.user().scope.covers(s.id))
        .collect())
}

/// A select of the user's sites.
pub fn site_field(t: &Tr, sites: &[Site], current: &str, errors: &Errors) -> Field {
    let only = (sites.len() == 1).then(|| sites[0].id.to_string());
    let current = only.as_deref().unwrap_or(current);
    Field::select(
        "site_id",
        t.t("field-site"),
        sites
            .iter()
            .map(|s| {
                Opt::new(
                    s.id.to_string(),
                    format!("{} — {}", s.code.as_str(), s.name),
                    current,
                )
            })
            .collect(),
        (sites.len() != 1).then(|| t.t("choose")),
    )
    .required(t)
    .errors(errors)
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    l: Layout,
    csrf: String,
    groups: Vec<Group>,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "registered.html")]
struct RegisteredPage {
    l: Layout,
    migrant: MigrantRow,
    duplicates: Vec<(MigrantRow, String)>,
}

fn register_groups(
    t: &Tr,
    sites: &[Site],
    form: &[(String, String)],
    errors: &Errors,
) -> Vec<Group> {
    let v = |name: &str| value(form, name);
    let text = |name: &str| {
        Field::new(name, t.t(&format!("field-{name}")), "text", v(name)).errors(errors)
    };
    vec![
        Group {
            legend: t.t("register-person"),
            fields: vec![
                site_field(t, sites, v("site_id"), errors),
                text("family_name").required(t),
                text("given_names").required(t),
                text("family_name_latin").hint(t.t("hint-latin")),
                text("given_names_latin").hint(t.t("hint-latin")),
                Field::select(
                    "sex",
                    t.t("field-sex"),
                    Sex::ALL
                        .iter()
                        .map(|s| {
                            Opt::new(s.as_str(), t.t(&format!("sex-{}", s.as_str())), v("sex"))
                        })
                        .collect(),
                    Some(t.t("choose")),
                )
                .required(t)
                .errors(errors),
                text("birth_date").required(t).hint(t.t("hint-birth_date")),
                text("nationality").required(t).hint(t.t("hint-country")),
            ],
        },
        Group {
            legend: t.t("register-document"),
            fields: vec![
                Field::select(
                    "document_kind",
                    t.t("field-document_kind"),
                    DocumentKind::ALL
                        .iter()
                        .map(|k| {
                            Opt::new(
                                k.as_str(),
                                t.t(&format!("document-{}", k.as_str())),
                                v("document_kind"),
                            )
                        })
                        .collect(),
                    Some(t.t("none")),
                )
                .errors(errors),
                text("document_number"),
                text("document_country").hint(t.t("hint-country")),
            ],
        },
        Group {
            legend: t.t("register-contact"),
            fields: vec![
                text("phone").hint(t.t("hint-phone")).autocomplete("off"),
                text("preferred_language").hint(t.t("hint-language")),
            ],
        },
    ]
}

/// `GET /migrants/new`: the registration form.
pub async fn register_form(
    State(state): State<AppState>,
    u: PageUser,
) -> Result<Response, PageError> {
    u.require(Permission::MigrantWrite)?;
    let sites = user_sites(&state, &u).await?;
    let errors = Errors::default();
    let groups = register_groups(&u.layout.t, &sites, &[], &errors);
    Ok(render(
        StatusCode::OK,
        &RegisterPage {
            csrf: u.csrf.clone(),
            l: u.layout,
            groups,
            errors,
        },
    ))
}

/// The form field a domain error names (`document.number` →
/// `document_number`).
fn form_field(field: &str) -> String {
    match field {
        "document.kind" => "document_kind".into(),
        "document.number" => "document_number".into(),
        "document.issuing_country" => "document_country".into(),
        other => other.into(),
    }
}

/// `POST /migrants/new`: registers, then shows possible duplicates or the
/// migrant page.
pub async fn register(
    State(state): State<AppState>,
    u: PageUser,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::MigrantWrite)?;
    u.check_csrf(value(&form, "csrf"))?;
    let t = u.layout.t;
    let sites = user_sites(&state, &u).await?;
    let opt = |name: &str| Some(value(&form, name).trim().to_owned()).filter(|s| !s.is_empty());
    let input = MigrantInput {
        family_name: value(&form, "family_name").into(),
        given_names: value(&form, "given_names").into(),
        family_name_latin: opt("family_name_latin"),
        given_names_latin: opt("given_names_latin"),
        sex: value(&form, "sex").into(),
        birth_date: value(&form, "birth_date").trim().into(),
        nationality: value(&form, "nationality").trim().to_uppercase(),
        document: (opt("document_kind").is_some() || opt("document_number").is_some()).then(|| {
            DocumentInput {
                kind: value(&form, "document_kind").into(),
                number: value(&form, "document_number").into(),
                issuing_country: value(&form, "document_country").trim().to_uppercase(),
            }
        }),
        phone: opt("phone"),
        preferred_language: opt("preferred_language"),
    };
    let site = sites
        .iter()
        .find(|s| s.id.to_string() == value(&form, "site_id"))
        .or((sites.len() == 1).then(|| &sites[0]))
        .map(|s| s.id);
    let parsed = match site {
        None => Err(FieldError::new("site_id", "no such site")),
        Some(site) => NewMigrant::parse(&input, state.today()).map(|m| (site, m)),
    };
    let (site, new) = match parsed {
        Ok(ok) => ok,
        Err(e) => {
            let field = form_field(&e.field);
            let mut errors = Errors::default();
            errors.add(field.clone(), t.t(&format!("invalid-{field}")));
            let groups = register_groups(&t, &sites, &form, &errors);
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage {
                    csrf: u.csrf.clone(),
                    l: u.layout,
                    groups,
                    errors,
                },
            ));
        }
    };
    let details = MigrantDetails::from(new);
    let audit = u.current.event("migrant.create", "migrant", None);
    let (migrant, duplicates) = state
        .store
        .create_migrant(site, &details, state.now(), &audit)
        .await
        .or_page(&u.layout)?;
    // Possible duplicates at sites the user cannot see stay invisible.
    let duplicates: Vec<_> = duplicates
        .into_iter()
        .filter(|d| u.user().scope.covers(d.migrant.registered_at))
        .map(|d| {
            let why = d
                .reasons
                .iter()
                .map(|r| t.t(&format!("duplicate-{}", duplicate_key(*r))))
                .collect::<Vec<_>>()
                .join("; ");
            (MigrantRow::new(&t, &d.migrant), why)
        })
        .collect();
    if duplicates.is_empty() {
        return Ok(see_other(&format!("/migrants/{}", migrant.id)));
    }
    Ok(render(
        StatusCode::CREATED,
        &RegisteredPage {
            migrant: MigrantRow::new(&t, &migrant),
            l: u.layout,
            duplicates,
        },
    ))
}

fn duplicate_key(reason: mhis_domain::migrant::DuplicateReason) -> &'static str {
    match reason {
        mhis_domain::migrant::DuplicateReason::SameDocument => "same-document",
        mhis_domain::migrant::DuplicateReason::SameNameAndBirthDate => "same-name",
    }
}

// ---- Migrant page ---------------------------------------------------------------

/// One row of a migrant's assessments.
pub struct AssessmentRow {
    /// Link.
    pub href: String,
    /// Date.
    pub date: String,
    /// Purpose, translated.
    pub purpose: String,
    /// Destination code.
    pub destination: String,
    /// Protocol title.
    pub protocol: String,
    /// Status, translated.
    pub status: String,
}

#[derive(Template)]
#[template(path = "migrant.html")]
struct MigrantPage {
    l: Layout,
    csrf: String,
    m: MigrantRow,
    details: Vec<(String, String)>,
    assessments: Vec<AssessmentRow>,
    can_open: bool,
    groups: Vec<Group>,
    errors: Errors,
    /// The user may read MHPSS records (a link to the person's).
    mhpss: bool,
}

fn open_groups(
    state: &AppState,
    t: &Tr,
    sites: &[Site],
    form: &[(String, String)],
    errors: &Errors,
) -> Vec<Group> {
    let v = |name: &str| value(form, name);
    vec![Group {
        legend: t.t("open-legend"),
        fields: vec![
            site_field(t, sites, v("site_id"), errors),
            Field::select(
                "purpose",
                t.t("field-purpose"),
                Purpose::ALL
                    .iter()
                    .map(|p| {
                        Opt::new(
                            p.as_str(),
                            t.t(&format!("purpose-{}", p.as_str())),
                            v("purpose"),
                        )
                    })
                    .collect(),
                Some(t.t("choose")),
            )
            .required(t)
            .errors(errors),
            Field::new(
                "destination",
                t.t("field-destination"),
                "text",
                v("destination"),
            )
            .hint(t.t("hint-country"))
            .required(t)
            .errors(errors),
            Field::select(
                "protocol",
                t.t("field-protocol"),
                state
                    .protocols
                    .iter()
                    .map(|p| Opt::new(p.id(), p.title(), v("protocol")))
                    .collect(),
                Some(t.t("choose")),
            )
            .required(t)
            .errors(errors),
            Field::new(
                "assessment_date",
                t.t("field-assessment_date"),
                "date",
                v("assessment_date"),
            )
            .hint(t.t("hint-assessment_date"))
            .errors(errors),
        ],
    }]
}

async fn migrant_page(
    state: &AppState,
    u: PageUser,
    id: &str,
    form: &[(String, String)],
    errors: Errors,
) -> Result<Response, PageError> {
    u.require(Permission::MigrantRead)?;
    let t = u.layout.t;
    let migrant = visible_migrant(state, &u.current, id)
        .await
        .or_page(&u.layout)?;
    u.current
        .audit_read(
            state,
            "migrant.read",
            "migrant",
            Some(migrant.id.to_string()),
        )
        .await
        .or_page(&u.layout)?;
    let mut assessments = Vec::new();
    if u.user().can(Permission::AssessmentRead) {
        let filter = AssessmentFilter {
            migrant_id: Some(migrant.id),
            sites: u.user().scope.filter().map(<[SiteId]>::to_vec),
            ..Default::default()
        };
        let page = PageRequest::parse(Some(1), Some(100)).or_page(&u.layout)?;
        let found = state
            .store
            .list_assessments(&filter, page)
            .await
            .or_page(&u.layout)?;
        assessments = found
            .items
            .iter()
            .map(|a| AssessmentRow {
                href: format!("/assessments/{}", a.id),
                date: t.date(a.assessment_date),
                purpose: t.t(&format!("purpose-{}", a.purpose.as_str())),
                destination: a.destination.to_string(),
                protocol: state
                    .protocols
                    .get(a.protocol.as_str())
                    .map(|p| p.title().to_owned())
                    .unwrap_or_else(|_| a.protocol.as_str().to_owned()),
                status: t.t(&format!("status-{}", a.status.as_str())),
            })
            .collect();
    }
    let d = &migrant.details;
    let mut details = vec![
        (
            t.t("field-registration_number"),
            migrant.registration_number.clone(),
        ),
        (t.t("field-family_name"), d.family_name.clone()),
        (t.t("field-given_names"), d.given_names.clone()),
        (t.t("field-family_name_latin"), d.family_name_latin.clone()),
        (t.t("field-given_names_latin"), d.given_names_latin.clone()),
        (t.t("field-sex"), t.t(&format!("sex-{}", d.sex.as_str()))),
        (t.t("field-birth_date"), t.partial_date(d.birth_date)),
        (t.t("field-nationality"), d.nationality.to_string()),
    ];
    if let Some(doc) = &d.document {
        details.push((
            t.t("field-document"),
            format!(
                "{} {} ({})",
                t.t(&format!("document-{}", doc.kind.as_str())),
                doc.number,
                doc.issuing_country
            ),
        ));
    }
    if let Some(phone) = &d.phone {
        details.push((t.t("field-phone"), phone.as_str().to_owned()));
    }
    if let Some(lang) = &d.preferred_language {
        details.push((t.t("field-preferred_language"), lang.as_str().to_owned()));
    }
    let can_open = u.user().can(Permission::AssessmentOpen);
    let mhpss = u.user().can(Permission::MhpssRead);
    let groups = if can_open {
        let sites = user_sites(state, &u).await?;
        open_groups(state, &t, &sites, form, &errors)
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        &MigrantPage {
            csrf: u.csrf.clone(),
            m: MigrantRow::new(&t, &migrant),
            l: u.layout,
            details,
            assessments,
            can_open,
            groups,
            errors,
            mhpss,
        },
    ))
}

/// `GET /migrants/{id}`: the person's details and assessments, and the
/// form to open an assessment.
pub async fn migrant(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    migrant_page(&state, u, &id, &[], Errors::default()).await
}

/// `POST /migrants/{id}/assessments`: opens an assessment and shows it.
pub async fn open_assessment(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::AssessmentOpen)?;
    u.check_csrf(value(&form, "csrf"))?;
    let migrant = visible_migrant(&state, &u.current, &id)
        .await
        .or_page(&u.layout)?;
    let sites = user_sites(&state, &u).await?;
    let site_id = if sites.len() == 1 {
        sites[0].id.to_string()
    } else {
        value(&form, "site_id").to_owned()
    };
    let input = AssessmentInput {
        migrant_id: migrant.id.to_string(),
        site_id,
        purpose: value(&form, "purpose").into(),
        destination: value(&form, "destination").trim().to_uppercase(),
        protocol: value(&form, "protocol").into(),
        assessment_date: Some(value(&form, "assessment_date").to_owned()),
    };
    let parsed = NewAssessment::parse(&input, state.protocols.ids(), state.today()).and_then(|a| {
        if u.user().scope.covers(a.site_id) {
            Ok(a)
        } else {
            Err(FieldError::new("site_id", "no such site"))
        }
    });
    match parsed {
        Ok(new) => {
            let audit = u.current.event("assessment.create", "assessment", None);
            let assessment = state
                .store
                .create_assessment(&new, state.now(), &audit)
                .await
                .or_page(&u.layout)?;
            Ok(see_other(&format!("/assessments/{}", assessment.id)))
        }
        Err(e) => {
            let mut errors = Errors::default();
            let field = e.field.clone();
            errors.add(field.clone(), u.layout.t.t(&format!("invalid-{field}")));
            migrant_page(&state, u, &id, &form, errors).await
        }
    }
}
