//! The observation vocabulary, so clients can build forms from it.

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mhis_domain::access::Permission;
use mhis_domain::vocabulary::CodeDefinition;

/// Every code with its value type, unit and coding.
#[utoipa::path(get, path = "/api/v1/vocabulary", tag = "vocabulary",
    responses((status = 200, description = "The vocabulary's codes", body = Object)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(Permission::SiteRead)?;
    let codes: Vec<&CodeDefinition> = state.vocabulary.iter().collect();
    Ok(Json(serde_json::json!({
        "version": state.vocabulary.version(),
        "codes": codes,
    })))
}
