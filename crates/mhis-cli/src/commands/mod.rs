//! One module per subcommand.

pub mod audit;
pub mod bench;
pub mod bench_federation;
pub mod bench_fhir;
pub mod bench_indicators;
pub mod bench_verify;
pub mod classify;
pub mod demo;
pub mod export;
pub mod federation;
pub mod keys;
pub mod migrate;
pub mod serve;
pub mod site;
pub mod user;
pub mod verify;

use anyhow::Context;
use mhis_domain::vocabulary::Vocabulary;
use mhis_server::Config;
use std::path::Path;
use std::sync::Arc;

/// Loads configuration and applies flag overrides.
pub fn config(
    file: Option<&Path>,
    database_url: Option<String>,
    listen: Option<String>,
) -> anyhow::Result<Config> {
    let mut config = Config::load(file)?;
    if let Some(url) = database_url {
        config.database_url = url;
    }
    if let Some(listen) = listen {
        config.listen = listen;
    }
    Ok(config)
}

/// The vocabulary the deployment uses.
pub fn vocabulary() -> Arc<Vocabulary> {
    Arc::new(Vocabulary::built_in())
}

/// Opens and migrates the configured store, and builds the server state.
pub async fn state(config: &Config) -> anyhow::Result<mhis_server::AppState> {
    let vocabulary = vocabulary();
    let store = mhis_server::storage::open_migrated(&config.database_url, vocabulary.clone())
        .await
        .with_context(|| format!("opening {}", redact(&config.database_url)))?;
    let protocols = mhis_server::protocols::load(config.protocols_dir.as_deref().map(Path::new))?;
    let mut state = mhis_server::AppState::new(store, vocabulary);
    state.protocols = Arc::new(protocols);
    state.max_body_bytes = config.max_body_bytes;
    state.instruments = Arc::new(mhis_server::mhpss::load_instruments(
        config.instrument_wording_dir.as_deref().map(Path::new),
    )?);
    state.secure_cookies = config.behind_tls;
    if let Some(file) = config.key_encryption_key_file.as_deref() {
        let path = Path::new(file);
        if path.exists() {
            let kek = mhis_server::certificates::KeyEncryptionKey::load(path, false)?;
            state.key_encryption = Some(Arc::new(kek));
        }
    }
    Ok(state)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Resolves when the process is asked to stop (Ctrl-C).
pub async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
