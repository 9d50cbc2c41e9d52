//! `mhis export fhir`: the deployment's data as FHIR R4 NDJSON, one file
//! per resource type (`Patient.ndjson`, `Observation.ndjson`, …), for bulk
//! transfer to another system.
//!
//! `mhis export dhis2`: one period's indicators as a DHIS2 dataValueSets
//! JSON or ADX XML payload, through a mapping file; the mapping is checked
//! first and every unmapped item is named; optionally pushed to a DHIS2
//! server.

use anyhow::Context;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What to export.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// FHIR R4 resources as NDJSON.
    Fhir(FhirArgs),
    /// One period's indicators for DHIS2 (dataValueSets JSON or ADX XML).
    Dhis2(Dhis2Args),
}

/// Flags of `mhis export dhis2`.
#[derive(Debug, clap::Args)]
pub struct Dhis2Args {
    /// The DHIS2 period: `2026Q1`, `202603`, `2026W9`, `20260301` or `2026`.
    #[arg(long)]
    period: String,
    /// The mapping file (TOML): data set, org units, and each indicator's
    /// data element and category option combos.
    #[arg(long)]
    mapping: PathBuf,
    /// Check the mapping against the period's data and stop.
    #[arg(long)]
    dry_run: bool,
    /// `json` (dataValueSets) or `adx`.
    #[arg(long, default_value = "json")]
    format: String,
    /// Write the payload here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Push to this DHIS2 base URL (`https://dhis2.example.org`), at
    /// `/api/dataValueSets`.
    #[arg(long)]
    push: Option<String>,
    /// DHIS2 personal access token (sent as `Authorization: ApiToken …`);
    /// or read from `MHIS_DHIS2_TOKEN`.
    #[arg(long, env = "MHIS_DHIS2_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// DHIS2 user for basic authentication; the password comes from
    /// `MHIS_DHIS2_PASSWORD`.
    #[arg(long)]
    user: Option<String>,
    /// Database URL (default: the configured one).
    #[arg(long)]
    database_url: Option<String>,
    /// Use a fresh temporary database with the demo data of this many
    /// migrants instead.
    #[arg(long, conflicts_with = "database_url")]
    demo: Option<usize>,
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
    let args = match command {
        ExportCommand::Fhir(args) => args,
        ExportCommand::Dhis2(args) => return dhis2(config_file, args).await,
    };
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

async fn dhis2(config_file: Option<&Path>, args: Dhis2Args) -> anyhow::Result<ExitCode> {
    use mhis_domain::indicator::dhis2::{Mapping, to_adx};
    use mhis_domain::indicator::dims::parse_period;
    use mhis_domain::indicator::{Cell, Dimension, Filter, Indicator};

    let text = std::fs::read_to_string(&args.mapping)
        .with_context(|| format!("reading {}", args.mapping.display()))?;
    let mapping = match Mapping::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}: {}: {}", args.mapping.display(), e.field, e.message);
            return Ok(ExitCode::from(2));
        }
    };
    let (_, from, to) = match parse_period("period", &args.period) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("--period: {}", e.message);
            return Ok(ExitCode::from(2));
        }
    };
    if !matches!(args.format.as_str(), "json" | "adx") {
        eprintln!("--format: '{}' is not json or adx", args.format);
        return Ok(ExitCode::from(2));
    }
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
    mhis_server::indicators::ensure_catalogue(&state).await?;
    mhis_server::indicators::refresh(&state)
        .await
        .map_err(|e| anyhow::anyhow!("refreshing the aggregates: {}", e.message))?;
    let catalogue = state.indicators.catalogue.clone();
    let runtime = tokio::runtime::Handle::current();
    let failure = std::cell::RefCell::new(None);
    // The mapping's evaluator is synchronous; each call reads the cube.
    let mut eval = |indicator: &Indicator, filter: &Filter, by: Option<Dimension>| -> Vec<Cell> {
        tokio::task::block_in_place(|| {
            runtime.block_on(mhis_server::indicators::evaluate(
                &state, indicator, filter, by,
            ))
        })
        .unwrap_or_else(|e| {
            failure.replace(Some(e.message));
            Vec::new()
        })
    };
    let period_filter = Filter {
        from: Some(from),
        to: Some(to),
        today: Some(to),
        ..Filter::default()
    };
    let problems = mapping.problems_with(&catalogue, &period_filter, &mut eval);
    if let Some(e) = failure.borrow_mut().take() {
        anyhow::bail!("reading the aggregates: {e}");
    }
    if !problems.is_empty() {
        eprintln!(
            "{}: {} problem(s) for {}:",
            args.mapping.display(),
            problems.len(),
            args.period
        );
        for p in &problems {
            eprintln!("  {}: {}", p.field, p.message);
        }
        return Ok(ExitCode::from(2));
    }
    let set = mapping
        .export_with(&catalogue, &args.period, &mut eval)
        .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
    if let Some(e) = failure.borrow_mut().take() {
        anyhow::bail!("reading the aggregates: {e}");
    }
    if args.dry_run {
        println!(
            "mapping valid for {}: {} data value(s) would be exported",
            args.period,
            set.data_values.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (body, content_type) = match args.format.as_str() {
        "adx" => (
            to_adx(&set, &mapping.data_set).map_err(|e| anyhow::anyhow!("{}", e.message))?,
            "application/adx+xml",
        ),
        _ => (serde_json::to_string_pretty(&set)?, "application/json"),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &body).with_context(|| format!("writing {}", path.display()))?
        }
        None => println!("{body}"),
    }
    if let Some(base) = &args.push {
        let url = format!("{}/api/dataValueSets", base.trim_end_matches('/'));
        let client = reqwest::Client::new();
        let mut request = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        request = match (&args.token, &args.user) {
            (Some(token), _) => {
                request.header(reqwest::header::AUTHORIZATION, format!("ApiToken {token}"))
            }
            (None, Some(user)) => {
                let password = std::env::var("MHIS_DHIS2_PASSWORD")
                    .context("basic authentication needs MHIS_DHIS2_PASSWORD")?;
                request.basic_auth(user, Some(password))
            }
            (None, None) => anyhow::bail!("--push needs --token (or MHIS_DHIS2_TOKEN) or --user"),
        };
        let response = request
            .send()
            .await
            .with_context(|| format!("pushing to {url}"))?;
        let status = response.status();
        let answer = response.text().await.unwrap_or_default();
        eprintln!("DHIS2 answered {status}: {answer}");
        if !status.is_success() {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
