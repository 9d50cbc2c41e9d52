//! The mhis server: the HTTP face of a deployment.
//!
//! It owns the router (every route in [`routes`]), the JSON API handlers
//! under [`api`], request parsing at the edge ([`extract`]), the mapping of
//! every failure to one JSON error shape ([`error`]), configuration
//! ([`config`]) and the choice of storage backend from a URL ([`storage`]).
//!
//! It contains no domain rules: handlers parse input into domain values,
//! call the store, and render the answer. It reaches storage only through
//! `mhis_store::Store`.

pub mod api;
pub mod auth;
pub mod certificates;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod federation;
pub mod fhir;
pub mod indicators;
pub mod mhpss;
pub mod openapi;
pub mod protocols;
pub mod routes;
pub mod state;
pub mod storage;
pub mod ui;

pub use config::Config;
pub use state::AppState;

use std::future::Future;
use tokio::net::TcpListener;

/// Serves the application on a bound listener until `shutdown` completes,
/// with the federation delivery worker and the indicator refresher running
/// beside it. Tests bind port 0
/// and read the address back from the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(federation::worker::run(state.clone()));
    let refresher = tokio::spawn(indicators::run(state.clone()));
    let app = routes::app(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    worker.abort();
    refresher.abort();
    served
}
