//! Sites: list, create, read.

use crate::api::path_id;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhis_domain::ids::SiteId;
use mhis_domain::site::{NewSite, Site, SiteInput};

/// Every site.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites",
    responses((status = 200, body = Vec<Site>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Site>>> {
    Ok(Json(state.store.list_sites().await?))
}

/// Creates a site.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", request_body = SiteInput,
    responses((status = 201, body = Site), (status = 422, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SiteInput>,
) -> ApiResult<(StatusCode, Json<Site>)> {
    let site = NewSite::parse(&input)?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_site(&site).await?),
    ))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "sites",
    params(("id" = String, Path, description = "Site id")),
    responses((status = 200, body = Site), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Site>> {
    let id = SiteId(path_id(&id, "site")?);
    Ok(Json(state.store.get_site(id).await?))
}
