//! `mhis migrate`: apply pending migrations and exit.

use std::path::Path;
use std::process::ExitCode;

/// Flags of `mhis migrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database URL (default from configuration).
    #[arg(long)]
    database_url: Option<String>,
}

/// Applies the migrations.
pub async fn run(config_file: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let config = super::config(config_file, args.database_url, None)?;
    super::state(&config).await?;
    println!("{} is up to date", super::redact(&config.database_url));
    Ok(ExitCode::SUCCESS)
}
