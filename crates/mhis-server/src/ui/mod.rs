//! The web interface, rendered on the server.
//!
//! Pages are askama templates (`templates/`, checked at compile time) over
//! the same store, permission checks and audit trail as the JSON API; every
//! string comes from the Fluent files of `locales/` in English, Russian or
//! French ([`i18n`]). The interface needs no JavaScript: every action is a
//! form, and the Content Security Policy set for the whole server allows no
//! script and no inline style, only `/static/mhis.css`.
//!
//! Layout:
//! - [`session`] — the session cookie, [`session::PageUser`], CSRF checks,
//!   error pages;
//! - [`forms`] — labelled fields and validation messages;
//! - [`pages`] — login, logout, language, search, registration, migrant;
//! - [`assessment`] — the assessment page and the protocol decision;
//! - [`referrals`] — referral inbox, outbox and overdue lists, the referral
//!   page with its timeline and actions, and the referral section of the
//!   assessment page;
//! - [`dashboard`] — indicator tiles, time-series and breakdown charts
//!   ([`charts`], SVG rendered here), filters and CSV downloads;
//! - [`mhpss`] — mental health and psychosocial support: the caseload, a
//!   person's MHPSS record, screening forms and results, cases with their
//!   sessions and closure, and the flag panel of the assessment page;
//! - [`admin`] — sites, users and the audit trail;
//! - [`verify`] — the public certificate verifier;
//! - [`training`] — training needs, sessions, participants, attendance,
//!   knowledge tests, results and attendance certificates.

pub mod admin;
pub mod assessment;
pub mod charts;
pub mod dashboard;
pub mod forms;
pub mod i18n;
pub mod mhpss;
pub mod pages;
pub mod referrals;
pub mod session;
pub mod training;
pub mod verify;

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

/// The style sheet, embedded at build time.
const CSS: &str = include_str!("../../static/mhis.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        CSS,
    )
}

/// The routes of the web interface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/mhis.css", get(stylesheet))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/csv/{id}", get(dashboard::csv))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::set_lang))
        .route("/", get(pages::home))
        .route("/migrants", get(pages::search))
        .route(
            "/migrants/new",
            get(pages::register_form).post(pages::register),
        )
        .route("/migrants/{id}", get(pages::migrant))
        .route("/migrants/{id}/assessments", post(pages::open_assessment))
        .route(
            "/assessments/{id}",
            get(assessment::show).post(assessment::record),
        )
        .route("/assessments/{id}/finalise", post(assessment::finalise))
        .route("/assessments/{id}/amend", post(assessment::amend))
        .route(
            "/assessments/{id}/certificates",
            post(assessment::issue_certificate),
        )
        .route("/assessments/{id}/referrals", post(referrals::refer))
        .route("/referrals", get(referrals::list))
        .route("/referrals/{id}", get(referrals::show))
        .route("/referrals/{id}/outcome", post(referrals::report_outcome))
        .route("/referrals/{id}/{action}", post(referrals::act))
        .route(
            "/certificates/{id}/certificate.pdf",
            get(assessment::certificate_pdf),
        )
        .route("/mhpss", get(mhpss::caseload))
        .route("/migrants/{id}/mhpss", get(mhpss::record))
        .route(
            "/migrants/{id}/mhpss/screen",
            get(mhpss::screen_form).post(mhpss::screen),
        )
        .route("/screenings/{id}", get(mhpss::screening))
        .route("/screenings/{id}/referrals", post(mhpss::refer))
        .route("/mhpss-cases/{id}", get(mhpss::case))
        .route("/mhpss-cases/{id}/sessions", post(mhpss::add_session))
        .route("/mhpss-cases/{id}/close", post(mhpss::close))
        .route("/admin/sites", get(admin::sites).post(admin::create_site))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/verify",
            get(verify::form)
                .post(verify::verify)
                .layer(axum::extract::DefaultBodyLimit::max(
                    verify::MAX_PHOTO_BYTES,
                )),
        )
        .merge(training::routes())
        .fallback(not_found)
}

/// Any other path: the "not found" page, in the request's language.
async fn not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    session::PageError {
        status: axum::http::StatusCode::NOT_FOUND,
        layout: Box::new(session::Layout::new(
            session::request_lang(&headers, None),
            "/",
            None,
        )),
    }
    .into_response()
}
