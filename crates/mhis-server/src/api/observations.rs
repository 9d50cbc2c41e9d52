//! Observations: record a batch on an assessment (all or nothing), list
//! them (with or without history), and correct one.

use crate::api::path_id;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhis_domain::ids::{AssessmentId, ObservationId};
use mhis_domain::observation::{
    Correction, CorrectionInput, NewObservation, Observation, ObservationInput,
};
use mhis_store::Actor;
use serde::{Deserialize, Serialize};

/// A batch of observations.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RecordObservations {
    /// The observations, each code at most once.
    pub observations: Vec<ObservationInput>,
}

/// The stored observations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Observations {
    /// In the order recorded.
    pub observations: Vec<Observation>,
}

/// Listing options.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Include superseded observations.
    #[serde(default)]
    pub history: Option<bool>,
}

/// The author of writes until accounts exist.
fn actor() -> Actor {
    Actor("api".into())
}

/// Records observations on an assessment, all or none.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/observations", tag = "observations",
    request_body = RecordObservations,
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 201, body = Observations), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RecordObservations>,
) -> ApiResult<(StatusCode, Json<Observations>)> {
    let id = AssessmentId(path_id(&id, "assessment")?);
    let now = state.now();
    let batch = NewObservation::parse_batch(&state.vocabulary, &input.observations, now)?;
    let stored = state
        .store
        .record_observations(id, &batch, &actor(), now)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Observations {
            observations: stored,
        }),
    ))
}

/// The observations of an assessment.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/observations", tag = "observations",
    params(("id" = String, Path, description = "Assessment id"), ListParams),
    responses((status = 200, body = Observations), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Observations>> {
    let id = AssessmentId(path_id(&id, "assessment")?);
    state.store.get_assessment(id).await?;
    let observations = state
        .store
        .list_observations(id, params.history.unwrap_or(false))
        .await?;
    Ok(Json(Observations { observations }))
}

/// One observation.
#[utoipa::path(get, path = "/api/v1/observations/{id}", tag = "observations",
    params(("id" = String, Path, description = "Observation id")),
    responses((status = 200, body = Observation), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Observation>> {
    let id = ObservationId(path_id(&id, "observation")?);
    Ok(Json(state.store.get_observation(id).await?))
}

/// Corrects an observation: a new observation supersedes it; the old one
/// stays in the history.
#[utoipa::path(post, path = "/api/v1/observations/{id}/correction", tag = "observations",
    request_body = CorrectionInput,
    params(("id" = String, Path, description = "Observation id")),
    responses((status = 201, body = Observation), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn correct(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CorrectionInput>,
) -> ApiResult<(StatusCode, Json<Observation>)> {
    let id = ObservationId(path_id(&id, "observation")?);
    let old = state.store.get_observation(id).await?;
    let now = state.now();
    let correction = Correction::parse(&state.vocabulary, &old.code, &input, now)?;
    let new = state
        .store
        .correct_observation(id, &correction, &actor(), now)
        .await?;
    Ok((StatusCode::CREATED, Json(new)))
}
