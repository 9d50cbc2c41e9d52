//! Assessments: open, read, list by migrant, site or status.

use crate::api::migrants::{scoped_sites, visible_migrant};
use crate::api::path_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhis_domain::access::Permission;
use mhis_domain::assessment::{Assessment, AssessmentInput, AssessmentStatus, NewAssessment};
use mhis_domain::finalisation::{AmendInput, Finalisation, FinaliseInput};
use mhis_domain::ids::{AssessmentId, MigrantId};
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::protocol::{Case, ClassifyError, Outcome};
use mhis_store::AssessmentFilter;
use serde::Deserialize;

/// List filters; all given ones must match.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Of one migrant.
    pub migrant_id: Option<String>,
    /// At one site.
    pub site_id: Option<String>,
    /// `open`, `complete` or `finalised`.
    pub status: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 1 to 200.
    pub per_page: Option<u32>,
}

/// Opens an assessment.
#[utoipa::path(post, path = "/api/v1/assessments", tag = "assessments",
    request_body = AssessmentInput,
    responses((status = 201, body = Assessment), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<AssessmentInput>,
) -> ApiResult<(StatusCode, Json<Assessment>)> {
    user.require(Permission::AssessmentOpen)?;
    let new = NewAssessment::parse(&input, state.protocols.ids(), state.today())?;
    if !user.user.scope.covers(new.site_id) {
        return Err(ApiError::invalid("site_id", "no such site"));
    }
    match state.store.get_migrant(new.migrant_id).await {
        Ok(m) if user.user.scope.covers(m.registered_at) => {}
        Ok(_) | Err(mhis_store::StoreError::NotFound { .. }) => {
            return Err(ApiError::invalid("migrant_id", "no such migrant"));
        }
        Err(e) => return Err(e.into()),
    }
    let audit = user.event("assessment.create", "assessment", None);
    let assessment = state
        .store
        .create_assessment(&new, state.now(), &audit)
        .await?;
    Ok((StatusCode::CREATED, Json(assessment)))
}

/// One assessment.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, body = Assessment), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Assessment>> {
    user.require(Permission::AssessmentRead)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    user.audit_read(
        &state,
        "assessment.read",
        "assessment",
        Some(assessment.id.to_string()),
    )
    .await?;
    Ok(Json(assessment))
}

/// The assessment with this path id, if it exists and its site is in the
/// user's scope; 404 otherwise.
pub async fn visible_assessment(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<Assessment> {
    let id = AssessmentId(path_id(id, "assessment")?);
    let assessment = state.store.get_assessment(id).await?;
    user.require_site(assessment.site_id, "assessment")?;
    Ok(assessment)
}

/// Assessments by migrant, site or status, newest first.
#[utoipa::path(get, path = "/api/v1/assessments", tag = "assessments", params(ListParams),
    responses((status = 200, body = Page<Assessment>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Assessment>>> {
    user.require(Permission::AssessmentRead)?;
    let page = PageRequest::parse(params.page, params.per_page)?;
    let uuid = |field: &'static str, raw: &str| {
        raw.parse::<uuid::Uuid>()
            .map_err(|_| ApiError::invalid(field, format!("'{raw}' is not an identifier")))
    };
    let filter = AssessmentFilter {
        migrant_id: params
            .migrant_id
            .as_deref()
            .map(|m| uuid("migrant_id", m).map(MigrantId))
            .transpose()?,
        sites: scoped_sites(&user, params.site_id.as_deref())?,
        status: params
            .status
            .as_deref()
            .map(|s| AssessmentStatus::parse("status", s))
            .transpose()?,
    };
    let found = state.store.list_assessments(&filter, page).await?;
    user.audit_read(&state, "assessment.list", "assessment", None)
        .await?;
    Ok(Json(found))
}

/// The protocol engine's decision for a stored assessment, over its
/// current observations: due tests, provisional outcome, classes,
/// referrals and reasons; the same JSON as `mhis classify`.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/decision", tag = "assessments",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, description = "The decision (protocols.md §7 shape)", body = Object),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decision(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(Permission::AssessmentRead)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    let id = assessment.id;
    let decision = decide(&state, &assessment).await?;
    user.audit_read(
        &state,
        "assessment.decision",
        "assessment",
        Some(id.to_string()),
    )
    .await?;
    Ok(Json(decision))
}

/// The engine's decision over an assessment's current observations, as
/// the JSON of `mhis classify`.
pub async fn decide(state: &AppState, assessment: &Assessment) -> ApiResult<serde_json::Value> {
    let case = case_of(state, assessment).await?;
    let decision = state
        .protocols
        .classify(assessment.protocol.as_str(), &case)
        .map_err(|e| match e {
            // A protocol stored with the assessment but no longer loaded.
            ClassifyError::UnknownProtocol { .. } => ApiError::invalid("protocol", e.to_string()),
            ClassifyError::Case(f) => f.into(),
        })?;
    Ok(decision.to_json())
}

/// The facts the protocol engine reads for a stored assessment: the
/// person's birth date and sex, and the current observations.
pub async fn case_of(state: &AppState, assessment: &Assessment) -> ApiResult<Case> {
    let migrant = state.store.get_migrant(assessment.migrant_id).await?;
    let observations = state.store.list_observations(assessment.id, false).await?;
    Ok(case_of_parts(assessment, &migrant, &observations))
}

/// The engine's facts from an assessment, its person and its current
/// observations, already read.
pub fn case_of_parts(
    assessment: &Assessment,
    migrant: &mhis_domain::migrant::Migrant,
    observations: &[mhis_domain::observation::Observation],
) -> Case {
    Case::new(
        assessment.assessment_date,
        migrant.details.birth_date,
        migrant.details.sex,
        observations
            .iter()
            .map(|o| (o.code.clone(), o.value.clone())),
    )
}

/// After results change: `complete` when the protocol has decided and
/// nothing is due (ready for the physician), `open` otherwise. The status is
/// derived, so a failure here leaves the results stored and is only logged.
pub async fn refresh_progress(state: &AppState, id: mhis_domain::ids::AssessmentId) {
    let result = async {
        let assessment = state.store.get_assessment(id).await?;
        if assessment.status == AssessmentStatus::Finalised {
            return Ok(());
        }
        let decision = decide(state, &assessment).await?;
        let done = decision["outcome"] != "pending"
            && decision["due"].as_array().is_some_and(|d| d.is_empty());
        let status = if done {
            AssessmentStatus::Complete
        } else {
            AssessmentStatus::Open
        };
        if status != assessment.status {
            state.store.set_progress(id, status).await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e.message, "assessment status not refreshed");
    }
}

/// Finalises an assessment: the physician's outcome may be more severe
/// than the protocol's decision, never less, and raising it needs a reason.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/finalise", tag = "assessments",
    request_body = FinaliseInput,
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, body = Assessment), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn finalise(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FinaliseInput>,
) -> ApiResult<Json<Assessment>> {
    user.require(Permission::Finalise)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    if assessment.status == AssessmentStatus::Finalised {
        return Err(ApiError::from(mhis_store::StoreError::conflict(
            "status",
            "the assessment is already finalised; amend it to change it",
        )));
    }
    let decision = decide(&state, &assessment).await?;
    let engine = decision["outcome"]
        .as_str()
        .and_then(Outcome::parse)
        .ok_or_else(|| ApiError::internal("decision without an outcome"))?;
    let finalisation = Finalisation::parse(engine, &input)?;
    let audit = user.event(
        "assessment.finalise",
        "assessment",
        Some(assessment.id.to_string()),
    );
    let finalised = state
        .store
        .finalise_assessment(
            assessment.id,
            &finalisation,
            &user.user.username,
            state.now(),
            &audit,
        )
        .await?;
    Ok(Json(finalised))
}

/// Amends a finalised assessment: it re-opens, keeping the previous outcome
/// and the reason; the change is audited.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/amend", tag = "assessments",
    request_body = AmendInput,
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, body = Assessment), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn amend(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AmendInput>,
) -> ApiResult<Json<Assessment>> {
    user.require(Permission::Finalise)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    let reason = mhis_domain::text::required("reason", &input.reason, 1000)?;
    let audit = user.event(
        "assessment.amend",
        "assessment",
        Some(assessment.id.to_string()),
    );
    let amended = state
        .store
        .amend_assessment(
            assessment.id,
            &reason,
            &user.user.username,
            state.now(),
            &audit,
        )
        .await?;
    refresh_progress(&state, amended.id).await;
    Ok(Json(state.store.get_assessment(amended.id).await?))
}

/// The assessments of one migrant, newest first.
#[utoipa::path(get, path = "/api/v1/migrants/{id}/assessments", tag = "assessments",
    params(("id" = String, Path, description = "Migrant id")),
    responses((status = 200, body = Page<Assessment>), (status = 404, body = ErrorBody)))]
pub async fn list_for_migrant(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Assessment>>> {
    user.require(Permission::AssessmentRead)?;
    // 404 for an unknown or invisible migrant rather than an empty page.
    let id: MigrantId = visible_migrant(&state, &user, &id).await?.id;
    let page = PageRequest::parse(params.page, params.per_page)?;
    let filter = AssessmentFilter {
        migrant_id: Some(id),
        sites: scoped_sites(&user, None)?,
        ..Default::default()
    };
    let found = state.store.list_assessments(&filter, page).await?;
    user.audit_read(&state, "assessment.list", "migrant", Some(id.to_string()))
        .await?;
    Ok(Json(found))
}
