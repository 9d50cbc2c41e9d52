//! `mhis serve`: migrate, then serve the API until interrupted.

use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// Flags of `mhis serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database URL: sqlite://PATH (default sqlite://mhis-data/mhis.db) or
    /// postgres://USER@HOST/DB.
    #[arg(long)]
    database_url: Option<String>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
}

/// Runs the server.
pub async fn run(config_file: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let config = super::config(config_file, args.database_url, args.listen)?;
    let state = super::state(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    println!("mhis serving on http://{}", listener.local_addr()?);
    mhis_server::serve(listener, state, super::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
