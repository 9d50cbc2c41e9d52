//! The web interface, rendered on the server.

use crate::state::AppState;
use axum::Router;

/// The routes of the web interface.
pub fn router() -> Router<AppState> {
    Router::new()
}
