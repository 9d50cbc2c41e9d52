//! Browser sessions: the `mhis_session` cookie, the [`PageUser`] of a
//! request, CSRF checks, the page [`Layout`] and error pages.
//!
//! Cookies follow the OWASP Session Management Cheat Sheet: the session
//! cookie is `HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` behind
//! TLS; only the hash of its secret is stored. Every form of a session
//! carries the session's CSRF token (OWASP CSRF Prevention Cheat Sheet,
//! synchroniser token pattern), and a POST without it is refused with 403.

use crate::auth::{CurrentUser, session_user};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::i18n::{Lang, Tr};
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mhis_domain::access::{Permission, User};
use std::net::SocketAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "mhis_session";
/// The language cookie's name.
pub const LANG_COOKIE: &str = "lang";

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The `Set-Cookie` value of a session cookie; an empty secret and
/// `max_age` 0 delete it.
pub fn session_cookie(secret: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut value = format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(age) = max_age {
        value.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        value.push_str("; Secure");
    }
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The language of a request: the `lang` cookie, else the user's own
/// language, else `Accept-Language`, else English.
pub fn request_lang(headers: &HeaderMap, user: Option<&User>) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            user.and_then(|u| u.language.as_deref())
                .and_then(Lang::parse)
        })
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

/// The client address of a request, for the audit trail.
pub fn origin(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// One entry of the language switcher.
#[derive(Debug, Clone)]
pub struct LangLink {
    /// The language's name in itself.
    pub name: &'static str,
    /// Its tag.
    pub code: &'static str,
    /// The switching URL, returning to the current page.
    pub href: String,
    /// Whether it is the current language.
    pub current: bool,
}

/// The navigation of a signed-in user.
#[derive(Debug, Clone)]
pub struct Nav {
    /// The user's display name.
    pub display_name: String,
    /// The user's role, translated.
    pub role: String,
    /// The session's CSRF token, for the logout form.
    pub csrf: String,
    /// May search and read migrants.
    pub migrants: bool,
    /// May register migrants.
    pub register: bool,
    /// May manage sites.
    pub sites: bool,
    /// May manage users.
    pub users: bool,
    /// May read the audit trail.
    pub audit: bool,
    /// May read referrals.
    pub referrals: bool,
    /// May read aggregate indicators.
    pub dashboard: bool,
    /// May read training data.
    pub training: bool,
    /// May read MHPSS records (the caseload).
    pub mhpss: bool,
}

/// What every page shares: the translator, the language switcher and the
/// navigation.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The translator.
    pub t: Tr,
    /// The language switcher.
    pub langs: Vec<LangLink>,
    /// The navigation, when signed in.
    pub nav: Option<Nav>,
}

impl Layout {
    /// The layout of a page at `path` (with its query) in `lang`.
    pub fn new(lang: Lang, path: &str, nav: Option<Nav>) -> Self {
        let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
        Self {
            t: Tr::new(lang),
            langs: Lang::ALL
                .into_iter()
                .map(|l| LangLink {
                    name: l.native_name(),
                    code: l.code(),
                    href: format!("/lang/{}?next={next}", l.code()),
                    current: l == lang,
                })
                .collect(),
            nav,
        }
    }

    /// Shorthand for [`Tr::t`].
    pub fn t(&self, id: &str) -> String {
        self.t.t(id)
    }
}

/// The signed-in user of a page request. Without a live session the
/// request is redirected to `/login`.
#[derive(Debug, Clone)]
pub struct PageUser {
    /// The user, as the JSON API sees one (same permission checks).
    pub current: CurrentUser,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session secret (for logout).
    pub secret: String,
    /// The page layout.
    pub layout: Layout,
}

impl PageUser {
    /// The user.
    pub fn user(&self) -> &User {
        &self.current.user
    }

    /// Refuses with a 403 page unless the form's token is the session's
    /// (compared in constant time).
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(self.fail(StatusCode::FORBIDDEN))
        }
    }

    /// Refuses with a 403 page unless the role has `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), PageError> {
        self.current.require(permission).or_page(&self.layout)
    }

    /// An error page of this status.
    pub fn fail(&self, status: StatusCode) -> PageError {
        PageError {
            status,
            layout: Box::new(self.layout.clone()),
        }
    }
}

/// Whether two byte strings are equal, in time independent of where they
/// differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(to_login());
        };
        let (session, user) = match session_user(state, &secret).await {
            Ok(Some(found)) => found,
            Ok(None) => return Err(to_login()),
            Err(e) => return Err(e.into_response()),
        };
        let lang = request_lang(&parts.headers, Some(&user));
        let t = Tr::new(lang);
        let nav = Nav {
            display_name: user.display_name.clone(),
            role: t.t(&format!("role-{}", user.role.as_str())),
            csrf: session.csrf_token.clone(),
            migrants: user.can(Permission::MigrantRead),
            register: user.can(Permission::MigrantWrite),
            sites: user.can(Permission::SiteManage),
            users: user.can(Permission::UserManage),
            audit: user.can(Permission::AuditRead),
            referrals: user.can(Permission::ReferralRead),
            dashboard: user.can(Permission::AggregateRead),
            training: user.can(Permission::TrainingRead),
            mhpss: user.can(Permission::MhpssRead),
        };
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        Ok(Self {
            current: CurrentUser {
                user,
                origin: origin(parts),
            },
            csrf: session.csrf_token,
            secret,
            layout: Layout::new(lang, path, Some(nav)),
        })
    }
}

/// An error page: 403, 404, 422 or 500, in the page's language.
#[derive(Debug)]
pub struct PageError {
    /// The status.
    pub status: StatusCode,
    /// The layout to render in (boxed: errors travel through every `?`).
    pub layout: Box<Layout>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    l: &'a Layout,
    title: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let key = match self.status.as_u16() {
            403 => "forbidden",
            404 => "not-found",
            400 | 409 | 422 => "bad-request",
            _ => "internal",
        };
        let page = ErrorPage {
            l: &self.layout,
            title: self.layout.t(&format!("error-{key}")),
            message: self.layout.t(&format!("error-{key}-text")),
        };
        render(self.status, &page)
    }
}

/// Maps a failure to an error page of its status.
pub trait OrPage<T> {
    /// The value, or an error page in `layout`.
    fn or_page(self, layout: &Layout) -> Result<T, PageError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, layout: &Layout) -> Result<T, PageError> {
        self.map_err(|e| {
            let e: ApiError = e.into();
            PageError {
                status: e.status,
                layout: Box::new(layout.clone()),
            }
        })
    }
}

/// Renders a template as an HTML response. Pages hold personal data, so
/// no cache keeps them (OWASP Session Management Cheat Sheet).
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}
