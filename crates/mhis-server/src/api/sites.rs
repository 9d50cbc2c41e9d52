//! Sites: list, create, read.

use crate::api::path_id;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhis_domain::access::Permission;
use mhis_domain::ids::SiteId;
use mhis_domain::site::{NewSite, Site, SiteInput};

/// Every site.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites",
    responses((status = 200, body = Vec<Site>)))]
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<Site>>> {
    user.require(Permission::SiteRead)?;
    Ok(Json(state.store.list_sites().await?))
}

/// Creates a site.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", request_body = SiteInput,
    responses((status = 201, body = Site), (status = 422, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<SiteInput>,
) -> ApiResult<(StatusCode, Json<Site>)> {
    user.require(Permission::SiteManage)?;
    let site = NewSite::parse(&input)?;
    let audit = user.event("site.create", "site", None);
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_site(&site, &audit).await?),
    ))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "sites",
    params(("id" = String, Path, description = "Site id")),
    responses((status = 200, body = Site), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Site>> {
    user.require(Permission::SiteRead)?;
    let id = SiteId(path_id(&id, "site")?);
    Ok(Json(state.store.get_site(id).await?))
}
