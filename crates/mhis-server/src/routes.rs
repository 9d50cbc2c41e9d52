//! Every route of the server, in one place.

use crate::api::{assessments, migrants, observations, sites, vocabulary};
use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::get;
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
        .route(
            "/assessments/{id}/observations",
            get(observations::list).post(observations::record),
        )
        .route("/observations/{id}", get(observations::get))
        .route(
            "/observations/{id}/correction",
            axum::routing::post(observations::correct),
        )
        .route("/vocabulary", get(vocabulary::list))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(|| async { ApiError::not_found("route") });
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}
