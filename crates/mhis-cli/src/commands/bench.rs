//! `mhis bench …`: benchmarks that print figures. They are measurements,
//! not tests: nothing here asserts a speed.

use anyhow::bail;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Create N migrants, each with one assessment and 10 observations,
    /// over HTTP with C concurrent clients; print throughput and latency.
    Ingest(IngestArgs),
    /// Verifications per second of mhis ES256 certificates, and the ratio
    /// to a bare P-256 signature verification of the same bytes.
    Verify(super::bench_verify::Args),
    /// Messages per second between two nodes on loopback, with signing and
    /// verification included.
    Federation(super::bench_federation::Args),
    /// FHIR API: identifier search latency over N patients and transaction
    /// Bundle import throughput.
    Fhir(super::bench_fhir::Args),
    /// Dashboard queries over the live indicator cube at N assessments,
    /// against DuckDB over the same rows; load time and write overhead.
    Indicators(super::bench_indicators::Args),
    /// Decisions per second of the protocol engine on one core, and of the
    /// whole `classify` path (JSON in and out).
    Engine {
        /// Decisions to make.
        #[arg(long, default_value_t = 2_000_000)]
        decisions: u64,
    },
}

/// Flags of `mhis bench ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Migrants (and assessments) to create.
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Observations per assessment.
    #[arg(long, default_value_t = 10)]
    observations: usize,
    /// Database for an in-process server (default: a fresh temporary
    /// SQLite file).
    #[arg(long)]
    database_url: Option<String>,
    /// Benchmark a server already running at this base URL instead.
    #[arg(long, conflicts_with = "database_url", requires = "token")]
    url: Option<String>,
    /// API token of a user allowed to register and record results (with
    /// --url), and the id of a site in that user's scope.
    #[arg(long, requires = "site_id")]
    token: Option<String>,
    /// Site to register at (with --url).
    #[arg(long)]
    site_id: Option<String>,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Runs a benchmark.
pub async fn run(config_file: Option<&Path>, bench: Bench) -> anyhow::Result<ExitCode> {
    match bench {
        Bench::Ingest(args) => ingest(config_file, args).await,
        Bench::Verify(args) => super::bench_verify::run(args).await,
        Bench::Federation(args) => super::bench_federation::run(args).await,
        Bench::Fhir(args) => super::bench_fhir::run(config_file, args).await,
        Bench::Indicators(args) => super::bench_indicators::run(config_file, args).await,
        Bench::Engine { decisions } => engine(decisions),
    }
}

struct Work {
    migrant: Value,
    observations: Value,
    assessment: Value,
}

async fn post(
    client: &reqwest::Client,
    token: &str,
    url: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        bail!("POST {url}: {status}: {body}");
    }
    Ok(body)
}

async fn ingest(config_file: Option<&Path>, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let _temp;
    let (base, backend, token, site_id) = match &args.url {
        Some(url) => (
            url.trim_end_matches('/').to_owned(),
            "remote".to_owned(),
            args.token.clone().unwrap_or_default(),
            args.site_id.clone().unwrap_or_default(),
        ),
        None => {
            let dir = tempfile::tempdir()?;
            let database_url = args
                .database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
            _temp = dir;
            let config = super::config(config_file, Some(database_url.clone()), None)?;
            let state = super::state(&config).await?;
            let (token, site_id) = bench_user(&state).await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let address = listener.local_addr()?;
            tokio::spawn(mhis_server::serve(listener, state, std::future::pending()));
            let backend = if database_url.starts_with("postgres") {
                "postgresql"
            } else {
                "sqlite"
            };
            (
                format!("http://{address}"),
                backend.to_owned(),
                token,
                site_id,
            )
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;

    // Prepare every payload before the clock starts.
    let today = chrono::Utc::now().date_naive();
    let mut generator = mhis_synth::Generator::new(args.seed, today);
    let work: Arc<Vec<Work>> = Arc::new(
        (0..args.count)
            .map(|_| {
                let (mut migrant, _) = generator.migrant();
                // A fixed panel keeps every assessment at exactly N results.
                let observations = generator.benchmark_observations(args.observations);
                migrant.document = None;
                let mut migrant = serde_json::to_value(&migrant).unwrap_or_default();
                migrant["site_id"] = json!(site_id);
                Work {
                    migrant,
                    observations: json!({ "observations": observations }),
                    assessment: json!({"site_id": site_id, "purpose": "labour",
                                       "destination": "RU", "protocol": "ru-labour"}),
                }
            })
            .collect(),
    );
    println!(
        "ingest: {} assessments × {} observations, {} clients, {} backend, {base}",
        args.count, args.observations, args.clients, backend
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (client, base, work, next) = (client.clone(), base.clone(), work.clone(), next.clone());
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut requests = Histogram::<u64>::new(3).expect("histogram");
            let mut assessments = Histogram::<u64>::new(3).expect("histogram");
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = work.get(i) else { break };
                let t0 = Instant::now();
                let m = post(
                    &client,
                    &token,
                    &format!("{base}/api/v1/migrants"),
                    &item.migrant,
                )
                .await?;
                let t1 = Instant::now();
                let mut assessment = item.assessment.clone();
                assessment["migrant_id"] = m["migrant"]["id"].clone();
                let a = post(
                    &client,
                    &token,
                    &format!("{base}/api/v1/assessments"),
                    &assessment,
                )
                .await?;
                let t2 = Instant::now();
                let id = a["id"].as_str().unwrap_or_default();
                post(
                    &client,
                    &token,
                    &format!("{base}/api/v1/assessments/{id}/observations"),
                    &item.observations,
                )
                .await?;
                let t3 = Instant::now();
                for d in [t1 - t0, t2 - t1, t3 - t2] {
                    requests.record(d.as_micros() as u64)?;
                }
                assessments.record((t3 - t0).as_micros() as u64)?;
            }
            anyhow::Ok((requests, assessments))
        }));
    }
    let mut requests = Histogram::<u64>::new(3)?;
    let mut assessments = Histogram::<u64>::new(3)?;
    for task in tasks {
        let (r, a) = task.await??;
        requests.add(r)?;
        assessments.add(a)?;
    }
    let elapsed = started.elapsed();
    let ms = |h: &Histogram<u64>, q: f64| {
        Duration::from_micros(h.value_at_quantile(q)).as_secs_f64() * 1e3
    };
    println!(
        "requests:    {:>8} in {:.2} s = {:.0} req/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        requests.len(),
        elapsed.as_secs_f64(),
        requests.len() as f64 / elapsed.as_secs_f64(),
        ms(&requests, 0.5),
        ms(&requests, 0.99),
        ms(&requests, 1.0)
    );
    println!(
        "assessments: {:>8} in {:.2} s = {:.0} assessments/s (each 3 requests, {} observations); latency p50 {:.2} ms, p99 {:.2} ms",
        assessments.len(),
        elapsed.as_secs_f64(),
        assessments.len() as f64 / elapsed.as_secs_f64(),
        args.observations,
        ms(&assessments, 0.5),
        ms(&assessments, 0.99)
    );
    Ok(ExitCode::SUCCESS)
}

/// A benchmark site and a clinician working there, with an API token,
/// created directly in the in-process server's store.
async fn bench_user(state: &mhis_server::AppState) -> anyhow::Result<(String, String)> {
    let suffix = std::process::id() % 100_000;
    let input = mhis_domain::site::SiteInput {
        code: format!("BENCH-{suffix}"),
        kind: "assessment_centre".into(),
        country: "TJ".into(),
        name: "Benchmark centre".into(),
    };
    let site = mhis_domain::site::NewSite::parse(&input)?;
    let audit = mhis_domain::audit::AuditEvent::new("bench", "site.create", "site", None, None);
    let site = state.store.create_site(&site, &audit).await?;
    let account = mhis_server::auth::NewAccount {
        username: format!("bench-{suffix}"),
        display_name: "Benchmark clinician".into(),
        role: "clinician".into(),
        sites: vec![site.code.as_str().to_owned()],
        national: false,
        password: mhis_server::auth::new_token(),
        language: None,
    };
    let user = mhis_server::auth::create_account(state, &account, "bench")
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let token = mhis_server::auth::issue_token(state, &user, "bench", "bench")
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    Ok((token, site.id.to_string()))
}

fn engine(decisions: u64) -> anyhow::Result<ExitCode> {
    let workload = mhis_domain::protocol::bench::Workload::new();
    workload.run(decisions / 20); // warm up
    let started = Instant::now();
    workload.run(decisions);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "engine: {decisions} decisions in {seconds:.3} s = {:.0} decisions/s on one core",
        decisions as f64 / seconds
    );
    // The whole contract path: case JSON in, checked against the
    // vocabulary, decision JSON out.
    let set = mhis_domain::protocol::ProtocolSet::built_in();
    let case = r#"{"assessment_date": "2026-03-15", "birth_date": "1990-06-01", "sex": "male",
        "context": {"tb_incidence_per_100k": 85},
        "observations": {"tb.symptoms": false, "tb.contact": false, "tb.previous": "none",
                         "hiv.known_positive": false, "cxr": "normal"}}"#;
    let n = (decisions / 20).max(1);
    let started = Instant::now();
    for _ in 0..n {
        let decision = set.classify_json("us-cdc-ti-tb", case)?;
        std::hint::black_box(serde_json::to_string(&decision)?);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "classify (JSON in and out): {n} in {seconds:.3} s = {:.0} per second",
        n as f64 / seconds
    );
    Ok(ExitCode::SUCCESS)
}
