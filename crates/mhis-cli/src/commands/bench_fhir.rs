//! `mhis bench fhir`: search latency of the FHIR API over a large registry,
//! and import throughput of transaction Bundles. A measurement, not a test.

use hdrhistogram::Histogram;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Flags of `mhis bench fhir`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Synthetic patients loaded before searching.
    #[arg(long, default_value_t = 1_000_000)]
    patients: usize,
    /// Identifier searches to time.
    #[arg(long, default_value_t = 2_000)]
    searches: usize,
    /// Transaction Bundles to import (each a Patient, an Encounter and
    /// `--observations` Observations).
    #[arg(long, default_value_t = 500)]
    bundles: usize,
    /// Observations per imported Bundle.
    #[arg(long, default_value_t = 10)]
    observations: usize,
    /// Concurrent importers.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Database (default: a fresh temporary SQLite file).
    #[arg(long)]
    database_url: Option<String>,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// The benchmark's site and two clinicians: one with national scope and
/// one scoped to the site (whose searches carry the site filter).
struct BenchUsers {
    national: String,
    scoped: String,
    site: String,
}

async fn bench_users(state: &mhis_server::AppState) -> anyhow::Result<BenchUsers> {
    let suffix = std::process::id() % 100_000;
    let input = mhis_domain::site::SiteInput {
        code: format!("FHIR-{suffix}"),
        kind: "assessment_centre".into(),
        country: "TJ".into(),
        name: "FHIR benchmark centre".into(),
    };
    let site = mhis_domain::site::NewSite::parse(&input)?;
    let audit = mhis_domain::audit::AuditEvent::new("bench", "site.create", "site", None, None);
    let site = state.store.create_site(&site, &audit).await?;
    let mut tokens = Vec::new();
    for (name, national) in [("national", true), ("site", false)] {
        let account = mhis_server::auth::NewAccount {
            username: format!("fhirbench-{name}-{suffix}"),
            display_name: format!("FHIR benchmark clinician ({name})"),
            role: "clinician".into(),
            sites: if national {
                Vec::new()
            } else {
                vec![site.code.as_str().to_owned()]
            },
            national,
            password: mhis_server::auth::new_token(),
            language: None,
        };
        let user = mhis_server::auth::create_account(state, &account, "bench")
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        tokens.push(
            mhis_server::auth::issue_token(state, &user, "bench", "bench")
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?,
        );
    }
    let scoped = tokens.pop().unwrap_or_default();
    let national = tokens.pop().unwrap_or_default();
    Ok(BenchUsers {
        national,
        scoped,
        site: site.id.to_string(),
    })
}

/// Times `count` sequential `GET Patient?identifier=` searches (one client,
/// so latency is not queueing) and checks each finds its patient.
async fn time_searches(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    numbers: &[String],
    count: usize,
) -> anyhow::Result<Histogram<u64>> {
    let mut h = Histogram::<u64>::new(3)?;
    for i in 0..count {
        let number = &numbers[(i * 7919) % numbers.len().max(1)];
        let t = Instant::now();
        let response = client
            .get(format!("{base}/Patient?identifier={number}"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        h.record(t.elapsed().as_micros() as u64)?;
        if !status.is_success() || body["total"].as_u64().unwrap_or(0) == 0 {
            anyhow::bail!("search for {number}: {status}: {body}");
        }
    }
    Ok(h)
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Runs the benchmark.
pub async fn run(config_file: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let backend = if database_url.starts_with("postgres") {
        "postgresql"
    } else {
        "sqlite"
    };
    let config = super::config(config_file, Some(database_url), None)?;
    let state = super::state(&config).await?;
    let users = bench_users(&state).await?;
    let token = users.national.clone();
    let site = mhis_domain::ids::SiteId(users.site.parse()?);

    println!("fhir: loading {} patients ({backend})…", args.patients);
    let t0 = Instant::now();
    let numbers =
        mhis_server::fhir::bench_load_patients(&state, site, args.patients, args.seed, |stored| {
            if stored % 200_000 == 0 {
                println!(
                    "fhir: … {stored} stored ({:.0} s)",
                    t0.elapsed().as_secs_f64()
                );
            }
        })
        .await?;
    let load_s = t0.elapsed().as_secs_f64();
    println!(
        "fhir: loaded {} patients in {load_s:.1} s ({:.0}/s)",
        numbers.len(),
        numbers.len() as f64 / load_s.max(1e-9)
    );
    if numbers.is_empty() {
        anyhow::bail!("no patients were loaded");
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/fhir/R4", listener.local_addr()?);
    tokio::spawn(mhis_server::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();

    let searches = time_searches(&client, &base, &users.national, &numbers, args.searches).await?;
    println!(
        "fhir: GET Patient?identifier= ×{} (national scope): p50 {:.2} ms, p99 {:.2} ms",
        args.searches,
        ms(&searches, 0.5),
        ms(&searches, 0.99)
    );
    let scoped = time_searches(&client, &base, &users.scoped, &numbers, args.searches).await?;
    println!(
        "fhir: GET Patient?identifier= ×{} (site scope): p50 {:.2} ms, p99 {:.2} ms",
        args.searches,
        ms(&scoped, 0.5),
        ms(&scoped, 0.99)
    );

    // Import: Bundles prepared before the clock starts.
    let bundles: Vec<serde_json::Value> = (0..args.bundles)
        .filter_map(|i| {
            mhis_server::fhir::synthetic_transaction(
                &state,
                site,
                args.observations,
                args.seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
            )
        })
        .collect();
    let resources: usize = bundles
        .iter()
        .map(|b| b["entry"].as_array().map_or(0, Vec::len))
        .sum();
    let bundles = Arc::new(bundles);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (client, base, bundles, next, token) = (
            client.clone(),
            base.clone(),
            bundles.clone(),
            next.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(bundle) = bundles.get(i) else { break };
                let response = client
                    .post(&base)
                    .bearer_auth(&token)
                    .header("content-type", "application/fhir+json")
                    .json(bundle)
                    .send()
                    .await?;
                let status = response.status();
                if !status.is_success() {
                    let body = response.text().await.unwrap_or_default();
                    anyhow::bail!("import: {status}: {body}");
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    let per_s = resources as f64 / elapsed.as_secs_f64();
    println!(
        "fhir: imported {} Bundles ({resources} resources) in {:.1} s",
        bundles.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "fhir: patients={} search_p50_ms={:.2} search_p99_ms={:.2} scoped_search_p50_ms={:.2} scoped_search_p99_ms={:.2} import_resources_per_s={per_s:.0} backend={backend}",
        numbers.len(),
        ms(&searches, 0.5),
        ms(&searches, 0.99),
        ms(&scoped, 0.5),
        ms(&scoped, 0.99)
    );
    Ok(ExitCode::SUCCESS)
}
