//! Observations: record a batch on an assessment (all or nothing), list
//! them (with or without history), and correct one.

use crate::api::assessments::visible_assessment;
use crate::api::path_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhis_domain::access::{Permission, permission_to_record};
use mhis_domain::ids::ObservationId;
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

/// Refuses unless the user may record every code of `codes` (the
/// permission depends on the code's section: laboratory, radiology or
/// clinical).
fn require_record(state: &AppState, user: &CurrentUser, codes: &[&str]) -> ApiResult<()> {
    for code in codes {
        if let Some(def) = state.vocabulary.get(code) {
            user.require(permission_to_record(def.section))?;
        }
    }
    Ok(())
}

/// Records observations on an assessment, all or none.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/observations", tag = "observations",
    request_body = RecordObservations,
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 201, body = Observations), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RecordObservations>,
) -> ApiResult<(StatusCode, Json<Observations>)> {
    let id = visible_assessment(&state, &user, &id).await?.id;
    let now = state.now();
    let batch = NewObservation::parse_batch(&state.vocabulary, &input.observations, now)?;
    let codes: Vec<&str> = batch.iter().map(|o| o.code.as_str()).collect();
    require_record(&state, &user, &codes)?;
    let audit = user.event("observation.record", "assessment", Some(id.to_string()));
    let stored = state
        .store
        .record_observations(id, &batch, &Actor(user.user.username.clone()), now, &audit)
        .await?;
    crate::api::assessments::refresh_progress(&state, id).await;
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
    user: CurrentUser,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Observations>> {
    user.require(Permission::AssessmentRead)?;
    let id = visible_assessment(&state, &user, &id).await?.id;
    let observations = state
        .store
        .list_observations(id, params.history.unwrap_or(false))
        .await?;
    user.audit_read(
        &state,
        "observation.list",
        "assessment",
        Some(id.to_string()),
    )
    .await?;
    Ok(Json(Observations { observations }))
}

/// One observation.
#[utoipa::path(get, path = "/api/v1/observations/{id}", tag = "observations",
    params(("id" = String, Path, description = "Observation id")),
    responses((status = 200, body = Observation), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Observation>> {
    user.require(Permission::AssessmentRead)?;
    let observation = visible_observation(&state, &user, &id).await?;
    user.audit_read(
        &state,
        "observation.read",
        "observation",
        Some(observation.id.to_string()),
    )
    .await?;
    Ok(Json(observation))
}

/// The observation with this path id, if its assessment is in the user's
/// scope; 404 otherwise.
async fn visible_observation(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<Observation> {
    let id = ObservationId(path_id(id, "observation")?);
    let observation = state.store.get_observation(id).await?;
    let assessment = state
        .store
        .get_assessment(observation.assessment_id)
        .await?;
    if !user.user.scope.covers(assessment.site_id) {
        return Err(ApiError::not_found("observation"));
    }
    Ok(observation)
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
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CorrectionInput>,
) -> ApiResult<(StatusCode, Json<Observation>)> {
    let old = visible_observation(&state, &user, &id).await?;
    require_record(&state, &user, &[old.code.as_str()])?;
    let now = state.now();
    let correction = Correction::parse(&state.vocabulary, &old.code, &input, now)?;
    let audit = user.event(
        "observation.correct",
        "observation",
        Some(old.id.to_string()),
    );
    let new = state
        .store
        .correct_observation(
            old.id,
            &correction,
            &Actor(user.user.username.clone()),
            now,
            &audit,
        )
        .await?;
    crate::api::assessments::refresh_progress(&state, new.assessment_id).await;
    Ok((StatusCode::CREATED, Json(new)))
}
