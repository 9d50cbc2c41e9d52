//! `mhis site add|list`: sites from the command line, to set up a new
//! deployment before anyone can log in.

use mhis_domain::audit::AuditEvent;
use mhis_domain::site::{NewSite, SiteInput};
use std::path::Path;
use std::process::ExitCode;

/// `mhis site …`.
#[derive(Debug, clap::Subcommand)]
pub enum SiteCommand {
    /// Create a site.
    Add {
        /// Short code (2–16 letters, digits, hyphens), e.g. TJ-DYU-01.
        #[arg(long)]
        code: String,
        /// assessment_centre, laboratory, radiology, point_of_entry,
        /// health_authority or treatment_centre.
        #[arg(long)]
        kind: String,
        /// ISO 3166-1 alpha-2 country code.
        #[arg(long)]
        country: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Database URL (default from configuration).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// List sites.
    List {
        /// Database URL (default from configuration).
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// Runs a site command.
pub async fn run(config_file: Option<&Path>, command: SiteCommand) -> anyhow::Result<ExitCode> {
    match command {
        SiteCommand::Add {
            code,
            kind,
            country,
            name,
            database_url,
        } => {
            let config = super::config(config_file, database_url, None)?;
            let state = super::state(&config).await?;
            let site = match NewSite::parse(&SiteInput {
                code,
                kind,
                country,
                name,
            }) {
                Ok(site) => site,
                Err(e) => {
                    eprintln!("error: {}: {}", e.field, e.message);
                    return Ok(ExitCode::from(2));
                }
            };
            let audit = AuditEvent::new("cli", "site.create", "site", None, None);
            match state.store.create_site(&site, &audit).await {
                Ok(site) => {
                    println!("{}\t{}", site.id, site.code.as_str());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        SiteCommand::List { database_url } => {
            let config = super::config(config_file, database_url, None)?;
            let state = super::state(&config).await?;
            for site in state.store.list_sites().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    site.id,
                    site.code.as_str(),
                    site.kind.as_str(),
                    site.country,
                    site.name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
