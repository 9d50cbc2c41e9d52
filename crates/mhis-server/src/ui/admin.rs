//! Administration pages: sites, users and the audit trail. Each needs its
//! own permission (site management, user management, audit reading), which
//! only administrators hold.

use crate::auth::{NewAccount, create_account};
use crate::state::AppState;
use crate::ui::forms::{Errors, Field, Group, Opt, value, values};
use crate::ui::i18n::{Lang, Tr};
use crate::ui::pages::{FormPairs, see_other};
use crate::ui::session::{Layout, OrPage, PageError, PageUser, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mhis_domain::access::{Permission, Role, Scope};
use mhis_domain::page::PageRequest;
use mhis_domain::site::{NewSite, Site, SiteInput, SiteKind};
use mhis_store::AuditFilter;
use serde::Deserialize;

// ---- Sites ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_sites.html")]
struct SitesPage {
    l: Layout,
    csrf: String,
    sites: Vec<Vec<String>>,
    groups: Vec<Group>,
    errors: Errors,
}

async fn sites_page(
    state: &AppState,
    u: PageUser,
    form: &[(String, String)],
    errors: Errors,
) -> Result<Response, PageError> {
    let t = u.layout.t;
    let sites = state.store.list_sites().await.or_page(&u.layout)?;
    let rows = sites
        .iter()
        .map(|s| {
            vec![
                s.code.as_str().to_owned(),
                s.name.clone(),
                t.t(&format!("site-kind-{}", s.kind.as_str())),
                s.country.to_string(),
            ]
        })
        .collect();
    let v = |name: &str| value(form, name);
    let groups = vec![Group {
        legend: t.t("sites-new"),
        fields: vec![
            Field::new("code", t.t("field-site-code"), "text", v("code"))
                .hint(t.t("hint-site-code"))
                .required(&t)
                .errors(&errors),
            Field::new("name", t.t("field-site-name"), "text", v("name"))
                .required(&t)
                .errors(&errors),
            Field::select(
                "kind",
                t.t("field-site-kind"),
                SiteKind::ALL
                    .iter()
                    .map(|k| {
                        Opt::new(
                            k.as_str(),
                            t.t(&format!("site-kind-{}", k.as_str())),
                            v("kind"),
                        )
                    })
                    .collect(),
                Some(t.t("choose")),
            )
            .required(&t)
            .errors(&errors),
            Field::new("country", t.t("field-country"), "text", v("country"))
                .hint(t.t("hint-country"))
                .required(&t)
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
        &SitesPage {
            csrf: u.csrf.clone(),
            l: u.layout,
            sites: rows,
            groups,
            errors,
        },
    ))
}

/// `GET /admin/sites`.
pub async fn sites(State(state): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    u.require(Permission::SiteManage)?;
    sites_page(&state, u, &[], Errors::default()).await
}

/// `POST /admin/sites`: creates a site.
pub async fn create_site(
    State(state): State<AppState>,
    u: PageUser,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::SiteManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let t = u.layout.t;
    let input = SiteInput {
        code: value(&form, "code").trim().to_uppercase(),
        kind: value(&form, "kind").into(),
        country: value(&form, "country").trim().to_uppercase(),
        name: value(&form, "name").into(),
    };
    let mut errors = Errors::default();
    match NewSite::parse(&input) {
        Ok(site) => {
            let audit = u.current.event("site.create", "site", None);
            match state.store.create_site(&site, &audit).await {
                Ok(_) => return Ok(see_other("/admin/sites")),
                Err(mhis_store::StoreError::Conflict { .. }) => {
                    errors.add("code", t.t("invalid-site-code-taken"));
                }
                Err(e) => return Err(e).or_page(&u.layout),
            }
        }
        Err(e) => {
            let field = e.field.clone();
            errors.add(field.clone(), t.t(&format!("invalid-site-{field}")));
        }
    }
    sites_page(&state, u, &form, errors).await
}

// ---- Users ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    l: Layout,
    csrf: String,
    users: Vec<Vec<String>>,
    groups: Vec<Group>,
    errors: Errors,
}

fn scope_text(t: &Tr, scope: &Scope, sites: &[Site]) -> String {
    match scope {
        Scope::National => t.t("scope-national"),
        Scope::Sites(ids) => ids
            .iter()
            .map(|id| {
                sites
                    .iter()
                    .find(|s| s.id == *id)
                    .map(|s| s.code.as_str().to_owned())
                    .unwrap_or_else(|| id.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

async fn users_page(
    state: &AppState,
    u: PageUser,
    form: &[(String, String)],
    errors: Errors,
) -> Result<Response, PageError> {
    let t = u.layout.t;
    let sites = state.store.list_sites().await.or_page(&u.layout)?;
    let users = state.store.list_users().await.or_page(&u.layout)?;
    let rows = users
        .iter()
        .map(|user| {
            vec![
                user.username.clone(),
                user.display_name.clone(),
                t.t(&format!("role-{}", user.role.as_str())),
                scope_text(&t, &user.scope, &sites),
                user.language.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let v = |name: &str| value(form, name);
    let chosen = values(form, "sites");
    let mut national = Field::new("national", t.t("field-national"), "checkbox", v("national"));
    national.hint = Some(t.t("hint-national"));
    let groups = vec![Group {
        legend: t.t("users-new"),
        fields: vec![
            Field::new("username", t.t("field-username"), "text", v("username"))
                .hint(t.t("hint-username"))
                .required(&t)
                .errors(&errors),
            Field::new(
                "display_name",
                t.t("field-display_name"),
                "text",
                v("display_name"),
            )
            .required(&t)
            .errors(&errors),
            Field::select(
                "role",
                t.t("field-role"),
                Role::ALL
                    .iter()
                    .map(|r| Opt::new(r.as_str(), t.t(&format!("role-{}", r.as_str())), v("role")))
                    .collect(),
                Some(t.t("choose")),
            )
            .required(&t)
            .errors(&errors),
            national.errors(&errors),
            Field {
                options: sites
                    .iter()
                    .map(|s| Opt {
                        value: s.code.as_str().to_owned(),
                        label: format!("{} — {}", s.code.as_str(), s.name),
                        selected: chosen.contains(&s.code.as_str()),
                    })
                    .collect(),
                ..Field::new("sites", t.t("field-sites"), "checkboxes", "")
            }
            .errors(&errors),
            Field::new("password", t.t("field-password"), "password", "")
                .autocomplete("new-password")
                .hint(t.t("hint-password"))
                .required(&t)
                .errors(&errors),
            Field::select(
                "language",
                t.t("field-language"),
                Lang::ALL
                    .iter()
                    .map(|l| Opt::new(l.code(), l.native_name(), v("language")))
                    .collect(),
                Some(t.t("none")),
            )
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
        &UsersPage {
            csrf: u.csrf.clone(),
            l: u.layout,
            users: rows,
            groups,
            errors,
        },
    ))
}

/// `GET /admin/users`.
pub async fn users(State(state): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    u.require(Permission::UserManage)?;
    users_page(&state, u, &[], Errors::default()).await
}

/// `POST /admin/users`: creates an account.
pub async fn create_user(
    State(state): State<AppState>,
    u: PageUser,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::UserManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let t = u.layout.t;
    let account = NewAccount {
        username: value(&form, "username").into(),
        display_name: value(&form, "display_name").into(),
        role: value(&form, "role").into(),
        sites: values(&form, "sites")
            .into_iter()
            .map(String::from)
            .collect(),
        national: value(&form, "national") == "on",
        password: value(&form, "password").into(),
        language: Some(value(&form, "language").to_owned()).filter(|l| Lang::parse(l).is_some()),
    };
    let mut errors = Errors::default();
    match create_account(&state, &account, &u.user().username).await {
        Ok(_) => return Ok(see_other("/admin/users")),
        Err(e) if e.status == StatusCode::CONFLICT => {
            errors.add("username", t.t("invalid-username-taken"));
        }
        Err(e) => match e.field {
            Some(field) => {
                let field = if field == "sites" && account.national {
                    "national".to_owned()
                } else {
                    field
                };
                errors.add(field.clone(), t.t(&format!("invalid-user-{field}")));
            }
            None => return Err(e).or_page(&u.layout),
        },
    }
    users_page(&state, u, &form, errors).await
}

// ---- Audit trail ------------------------------------------------------------------

/// The audit page's filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// User name.
    pub actor: String,
    /// Action prefix (`migrant.`).
    pub action: String,
    /// Record id.
    pub entity_id: String,
    /// Page, from 1.
    pub page: Option<u32>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    l: Layout,
    groups: Vec<Group>,
    rows: Vec<Vec<String>>,
    total: u64,
    page: u32,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /admin/audit?actor=…&action=…&entity_id=…`: the audit trail,
/// newest first.
pub async fn audit(
    State(state): State<AppState>,
    u: PageUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    u.require(Permission::AuditRead)?;
    let t = u.layout.t;
    let filled = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        actor: filled(&q.actor),
        action_prefix: filled(&q.action),
        entity_id: filled(&q.entity_id),
    };
    let per_page = 50;
    let request = PageRequest::parse(q.page.or(Some(1)), Some(per_page)).or_page(&u.layout)?;
    let found = state
        .store
        .list_audit(&filter, request)
        .await
        .or_page(&u.layout)?;
    let rows = found
        .items
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                t.date_time(e.at),
                e.event.actor.clone(),
                e.event.action.clone(),
                e.event.entity.clone(),
                e.event.entity_id.clone().unwrap_or_default(),
                e.event.origin.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let link = |page: u32| {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("actor", &q.actor)
            .append_pair("action", &q.action)
            .append_pair("entity_id", &q.entity_id)
            .append_pair("page", &page.to_string())
            .finish();
        format!("/admin/audit?{query}")
    };
    let page = found.page;
    let prev = (page > 1).then(|| link(page - 1));
    let next = (u64::from(page) * u64::from(per_page) < found.total).then(|| link(page + 1));
    let groups = vec![Group {
        legend: t.t("audit-filters"),
        fields: vec![
            Field::new("actor", t.t("audit-actor"), "text", &q.actor),
            Field::new("action", t.t("audit-action"), "text", &q.action)
                .hint(t.t("hint-audit-action")),
            Field::new("entity_id", t.t("audit-entity-id"), "text", &q.entity_id),
        ],
    }];
    Ok(render(
        StatusCode::OK,
        &AuditPage {
            l: u.layout,
            groups,
            rows,
            total: found.total,
            page,
            prev,
            next,
        },
    ))
}
