//! The migrant registry: register (reporting possible duplicates), read,
//! update with optimistic concurrency, and search.

use crate::api::path_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, from_value};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mhis_domain::access::Permission;
use mhis_domain::ids::{MigrantId, SiteId};
use mhis_domain::migrant::{
    DuplicateReason, Migrant, MigrantDetails, MigrantInput, NewMigrant, PartialDate,
    normalise_document_number,
};
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::transliteration::search_key;
use mhis_store::{DuplicateCandidate, MigrantQuery};
use serde::{Deserialize, Serialize};

/// A registration: the person's details and the registering site.
#[derive(Debug, utoipa::ToSchema)]
pub struct CreateMigrant {
    /// The registering site.
    pub site_id: String,
    /// The person's details.
    #[schema(inline)]
    pub details: MigrantInput,
}

/// Splits a body into one top-level field and the rest, parsed as `T`.
fn split_body<T: serde::de::DeserializeOwned>(
    mut body: serde_json::Value,
    field: &str,
) -> ApiResult<(serde_json::Value, T)> {
    let part = body
        .as_object_mut()
        .and_then(|o| o.remove(field))
        .ok_or_else(|| ApiError::invalid(field, "is required"))?;
    Ok((part, from_value(body)?))
}

/// An update: the full details and the version they were read at.
#[derive(Debug, utoipa::ToSchema)]
pub struct UpdateMigrant {
    /// The `version` of the record the client read.
    pub version: i64,
    /// The new details.
    #[schema(inline)]
    pub details: MigrantInput,
}

/// A stored record that may be the same person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PossibleDuplicate {
    /// The existing record.
    pub migrant: Migrant,
    /// Why it matched.
    pub reasons: Vec<DuplicateReason>,
}

impl From<DuplicateCandidate> for PossibleDuplicate {
    fn from(c: DuplicateCandidate) -> Self {
        Self {
            migrant: c.migrant,
            reasons: c.reasons,
        }
    }
}

/// The answer to a registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The new record.
    pub migrant: Migrant,
    /// Existing records that may be the same person; registration is not
    /// blocked by them, but a clerk should look.
    pub possible_duplicates: Vec<PossibleDuplicate>,
}

/// Search criteria; all given ones must match.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Names in any script; `Рахимов` finds `Rakhimov`.
    pub name: Option<String>,
    /// Travel document number.
    pub document_number: Option<String>,
    /// Birth date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// Registering site.
    pub site_id: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 1 to 200.
    pub per_page: Option<u32>,
}

/// Registers a migrant.
#[utoipa::path(post, path = "/api/v1/migrants", tag = "migrants", request_body = CreateMigrant,
    responses((status = 201, body = Registered), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    user.require(Permission::MigrantWrite)?;
    let (site, input): (_, MigrantInput) = split_body(body, "site_id")?;
    let site = SiteId(
        site.as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ApiError::invalid("site_id", "is not an identifier"))?,
    );
    if !user.user.scope.covers(site) {
        return Err(ApiError::invalid("site_id", "no such site"));
    }
    let details = MigrantDetails::from(NewMigrant::parse(&input, state.today())?);
    let audit = user.event("migrant.create", "migrant", None);
    let (migrant, duplicates) = state
        .store
        .create_migrant(site, &details, state.now(), &audit)
        .await?;
    // Possible duplicates at sites the user cannot see stay invisible.
    let duplicates: Vec<_> = duplicates
        .into_iter()
        .filter(|d| user.user.scope.covers(d.migrant.registered_at))
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            migrant,
            possible_duplicates: duplicates.into_iter().map(Into::into).collect(),
        }),
    ))
}

/// One migrant.
#[utoipa::path(get, path = "/api/v1/migrants/{id}", tag = "migrants",
    params(("id" = String, Path, description = "Migrant id")),
    responses((status = 200, body = Migrant), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Migrant>> {
    user.require(Permission::MigrantRead)?;
    let migrant = visible_migrant(&state, &user, &id).await?;
    user.audit_read(
        &state,
        "migrant.read",
        "migrant",
        Some(migrant.id.to_string()),
    )
    .await?;
    Ok(Json(migrant))
}

/// The migrant with this path id, if it exists and is in the user's scope;
/// 404 otherwise.
pub async fn visible_migrant(state: &AppState, user: &CurrentUser, id: &str) -> ApiResult<Migrant> {
    let id = MigrantId(path_id(id, "migrant")?);
    let migrant = state.store.get_migrant(id).await?;
    user.require_site(migrant.registered_at, "migrant")?;
    Ok(migrant)
}

/// Replaces a migrant's details; `version` must be the one read.
#[utoipa::path(put, path = "/api/v1/migrants/{id}", tag = "migrants", request_body = UpdateMigrant,
    params(("id" = String, Path, description = "Migrant id")),
    responses((status = 200, body = Migrant), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Json<Migrant>> {
    user.require(Permission::MigrantWrite)?;
    let id = visible_migrant(&state, &user, &id).await?.id;
    let (version, input): (_, MigrantInput) = split_body(body, "version")?;
    let version = version
        .as_i64()
        .ok_or_else(|| ApiError::invalid("version", "must be the whole number read"))?;
    let details = MigrantDetails::from(NewMigrant::parse(&input, state.today())?);
    Ok(Json(
        state
            .store
            .update_migrant(
                id,
                version,
                &details,
                state.now(),
                &user.event("migrant.update", "migrant", Some(id.to_string())),
            )
            .await?,
    ))
}

/// Searches the registry by name (in any script), document number or birth
/// date, newest first.
#[utoipa::path(get, path = "/api/v1/migrants", tag = "migrants", params(SearchParams),
    responses((status = 200, body = Page<Migrant>), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<Page<Migrant>>> {
    user.require(Permission::MigrantRead)?;
    let page = PageRequest::parse(params.page, params.per_page)?;
    let query = MigrantQuery {
        name_tokens: params
            .name
            .as_deref()
            .map(|n| search_key(n).split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
        document_number: params
            .document_number
            .as_deref()
            .map(normalise_document_number)
            .filter(|n| !n.is_empty()),
        birth_date: params
            .birth_date
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(|d| PartialDate::parse("birth_date", d, state.today()))
            .transpose()?,
        sites: scoped_sites(&user, params.site_id.as_deref())?,
    };
    if params.name.as_deref().is_some_and(|n| !n.trim().is_empty()) && query.name_tokens.is_empty()
    {
        return Err(ApiError::invalid("name", "holds no letters to search for"));
    }
    let found = state.store.search_migrants(&query, page).await?;
    user.audit_read(&state, "migrant.search", "migrant", None)
        .await?;
    Ok(Json(found))
}

/// The sites a listing may cover: the one asked for (when visible) within
/// the user's scope. An invisible site gives an empty list, not an error.
pub fn scoped_sites(user: &CurrentUser, site_id: Option<&str>) -> ApiResult<Option<Vec<SiteId>>> {
    let asked = site_id
        .map(|s| {
            s.parse()
                .map(SiteId)
                .map_err(|_| ApiError::invalid("site_id", "is not an identifier"))
        })
        .transpose()?;
    Ok(match (asked, user.user.scope.filter()) {
        (Some(site), None) => Some(vec![site]),
        (Some(site), Some(scope)) => Some(scope.iter().copied().filter(|s| *s == site).collect()),
        (None, None) => None,
        (None, Some(scope)) => Some(scope.to_vec()),
    })
}
