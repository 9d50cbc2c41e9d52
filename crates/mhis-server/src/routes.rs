//! Every route of the server, in one place.

use crate::api::{
    assessments, certificates, indicators, mhpss, migrants, observations, referrals, sites,
    vocabulary,
};
use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;

/// The application router over `state`.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/sites", get(sites::list).post(sites::create))
        .route("/sites/{id}", get(sites::get))
        .route("/migrants", get(migrants::search).post(migrants::create))
        .route("/migrants/{id}", get(migrants::get).put(migrants::update))
        .route(
            "/migrants/{id}/assessments",
            get(assessments::list_for_migrant),
        )
        .route(
            "/assessments",
            get(assessments::list).post(assessments::create),
        )
        .route("/assessments/{id}", get(assessments::get))
        .route("/assessments/{id}/decision", get(assessments::decision))
        .route("/assessments/{id}/finalise", post(assessments::finalise))
        .route("/assessments/{id}/amend", post(assessments::amend))
        .route(
            "/assessments/{id}/certificates",
            get(certificates::list).post(certificates::issue),
        )
        .route("/certificates/{id}", get(certificates::get))
        .route("/certificates/{id}/qr.png", get(certificates::qr_png))
        .route("/certificates/{id}/qr.svg", get(certificates::qr_svg))
        .route("/certificates/{id}/certificate.pdf", get(certificates::pdf))
        .route(
            "/assessments/{id}/observations",
            get(observations::list).post(observations::record),
        )
        .route("/observations/{id}", get(observations::get))
        .route("/observations/{id}/correction", post(observations::correct))
        .route(
            "/assessments/{id}/referral-suggestions",
            get(referrals::suggestions),
        )
        .route(
            "/assessments/{id}/referrals",
            get(referrals::list_for_assessment).post(referrals::create),
        )
        .route(
            "/assessments/{id}/departure",
            post(referrals::record_departure),
        )
        .route("/referrals", get(referrals::list))
        .route("/referrals/{id}", get(referrals::get))
        .route("/referrals/{id}/outcome", post(referrals::outcome))
        .route("/referrals/{id}/{action}", post(referrals::act))
        .route("/vocabulary", get(vocabulary::list))
        .route("/indicators", get(indicators::list))
        .route("/indicators/{id}", get(indicators::values))
        .route("/instruments", get(mhpss::instruments))
        .route("/instruments/{id}", get(mhpss::form))
        .route(
            "/migrants/{id}/screenings",
            get(mhpss::list_screenings).post(mhpss::screen),
        )
        .route("/migrants/{id}/mhpss-cases", get(mhpss::list_cases))
        .route("/screenings/{id}", get(mhpss::get_screening))
        .route("/screenings/{id}/referrals", post(mhpss::refer))
        .route("/mhpss-cases/{id}", get(mhpss::get_case))
        .route("/mhpss-cases/{id}/sessions", post(mhpss::add_session))
        .route("/mhpss-cases/{id}/close", post(mhpss::close_case))
        .route(
            "/assessments/{id}/mhpss-flags",
            get(mhpss::assessment_flags),
        )
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(|| async { ApiError::not_found("route") });
    Router::new()
        .nest("/api/v1", api)
        .nest("/fhir/R4", crate::fhir::router())
        .merge(crate::ui::router())
        .route(
            crate::federation::INBOX_PATH,
            post(crate::federation::inbox::receive),
        )
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            wake_indicators,
        ))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Pages load only our own styles and images, run no script from
        // anywhere, submit forms only to us, and are never framed.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
}

/// After a request that may have written, wakes the indicator refresher
/// (it finds what changed from the marks the database wrote).
async fn wake_indicators(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let writes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let response = next.run(request).await;
    if writes {
        state.indicators.wake.notify_one();
    }
    response
}
