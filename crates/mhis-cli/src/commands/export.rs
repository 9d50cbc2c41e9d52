//! `mhis export fhir`: the deployment's data as FHIR R4 NDJSON, one file
//! per resource type (`Patient.ndjson`, `Observation.ndjson`, …), for bulk
//! transfer to another system.

use anyhow::Context;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What to export.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// FHIR R4 resources as NDJSON.
    Fhir(FhirArgs),
}

/// Flags of `mhis export fhir`.
#[derive(Debug, clap::Args)]
pub struct FhirArgs {
    /// Directory to write the NDJSON files into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Only this site (its code).
    #[arg(long)]
    site: Option<String>,
    /// Only assessments on or after this date (YYYY-MM-DD), and the
    /// patients assessed in the period.
    #[arg(long)]
    since: Option<NaiveDate>,
    /// Only assessments on or before this date (YYYY-MM-DD).
    #[arg(long)]
    until: Option<NaiveDate>,
    /// Database URL (default: the configured one).
    #[arg(long)]
    database_url: Option<String>,
    /// Export a fresh temporary database filled with the demo sites and
    /// this many synthetic migrants instead, adding a sample of what the
    /// API emits besides records (CapabilityStatement, a searchset Bundle,
    /// an OperationOutcome): the input of `scripts/validate_fhir.py` in CI.
    #[arg(long, conflicts_with = "database_url")]
    demo: Option<usize>,
}

/// Runs `mhis export …`.
pub async fn run(config_file: Option<&Path>, command: ExportCommand) -> anyhow::Result<ExitCode> {
    let ExportCommand::Fhir(args) = command;
    let dir = tempfile::tempdir()?;
    let database_url = match args.demo {
        Some(_) => Some(format!("sqlite://{}", dir.path().join("demo.db").display())),
        None => args.database_url.clone(),
    };
    let config = super::config(config_file, database_url, None)?;
    let state = super::state(&config).await?;
    if let Some(n) = args.demo {
        mhis_server::demo::load(
            state.store.as_ref(),
            &state.vocabulary,
            &state.protocols,
            n,
            42,
            state.now(),
        )
        .await
        .context("loading demo data")?;
    }
    let filter = mhis_server::fhir::ExportFilter {
        site: args.site,
        since: args.since,
        until: args.until,
    };
    let summary = mhis_server::fhir::export_ndjson(&state, &args.out, &filter)
        .await
        .with_context(|| format!("exporting into {}", args.out.display()))?;
    let mut summary = summary;
    if args.demo.is_some() {
        let samples = mhis_server::fhir::write_api_samples(&state, &args.out).await?;
        summary.extend(samples);
    }
    for (resource_type, n) in &summary {
        println!("{resource_type}: {n}");
    }
    Ok(ExitCode::SUCCESS)
}
