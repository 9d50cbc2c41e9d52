//! The observation vocabulary, so clients can build forms from it.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mhis_domain::vocabulary::CodeDefinition;

/// Every code with its value type, unit and coding.
#[utoipa::path(get, path = "/api/v1/vocabulary", tag = "vocabulary",
    responses((status = 200, description = "The vocabulary's codes", body = Object)))]
pub async fn list(State(state): State<AppState>) -> Json<serde_json::Value> {
    let codes: Vec<&CodeDefinition> = state.vocabulary.iter().collect();
    Json(serde_json::json!({
        "version": state.vocabulary.version(),
        "codes": codes,
    }))
}
