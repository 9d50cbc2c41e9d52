//! `mhis bench indicators`: dashboard query latency over the live cube at
//! N synthetic assessments, side by side with DuckDB over the same fact
//! rows, the bulk load time, and what keeping the cube current adds to the
//! cost of writes.
//!
//! What is loaded: N synthetic fact rows (assessments, plus referrals for
//! about 4 % of them) with realistic prevalences, stored as fact rows and
//! their cube, in large transactions through `IndicatorStore::load_facts`.
//! The people and results behind them are not loaded at this scale; the
//! write overhead is measured separately, on real writes: the demo data of
//! `--write-sample` migrants written through the store with the marking
//! triggers and the refresher, against the same writes with the triggers
//! dropped.
//!
//! DuckDB (the `duckdb` Python package, installed into a virtual
//! environment under `~/.cache/mhis/duckdb-venv` on first use) loads the
//! same rows from CSV into memory and answers each query with the SQL a
//! brute-force evaluation would run (`scripts/bench_duckdb.py`).

use anyhow::Context;
use chrono::{Days, NaiveDate};
use mhis_domain::indicator::catalogue::Catalogue;
use mhis_domain::indicator::cube::{CubeKey, Grain, terms_of};
use mhis_domain::indicator::facts::{
    AssessmentInput, ReferralInput, Who, assessment_row, referral_row,
};
use mhis_domain::indicator::{AgeGroup, Dimension, FactKind, FactRow, Filter, PeriodKind, Unit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Flags of `mhis bench indicators`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Synthetic assessments to load.
    #[arg(long, default_value_t = 1_000_000)]
    assessments: u64,
    /// Database to load into (default: a fresh temporary SQLite file).
    #[arg(long)]
    database_url: Option<String>,
    /// Runs of each query.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Migrants written to measure the write overhead (0: skip).
    #[arg(long, default_value_t = 1_000)]
    write_sample: usize,
    /// Skip the DuckDB comparison.
    #[arg(long)]
    no_duckdb: bool,
    /// Seed of the synthetic rows.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

const SITES: [&str; 9] = [
    "TJ-DYU-01",
    "TJ-KHU-01",
    "TJ-BOK-01",
    "UZ-TAS-01",
    "UZ-SAM-01",
    "UZ-FER-01",
    "KG-BIS-01",
    "KG-OSH-01",
    "KZ-ALA-01",
];
const NATIONS: [(&str, u32); 6] = [
    ("TJ", 30),
    ("UZ", 30),
    ("KG", 20),
    ("AF", 10),
    ("KZ", 6),
    ("TM", 4),
];
const DESTINATIONS: [(&str, u32); 5] = [("RU", 45), ("KZ", 20), ("US", 10), ("GB", 10), ("KR", 15)];
/// The first day of the synthetic data; it spans 42 months.
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default()
}
const SPAN_DAYS: u64 = 1_277;

fn pick<'a>(rng: &mut ChaCha8Rng, weighted: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (v, w) in weighted {
        if x < *w {
            return v;
        }
        x -= w;
    }
    weighted[0].0
}

/// One synthetic assessment (and perhaps its referral), with prevalences
/// in the range migration health programmes report.
fn synthetic(c: &Catalogue, rng: &mut ChaCha8Rng) -> (FactRow, Option<FactRow>) {
    let who = Who {
        site: SITES[rng.gen_range(0..SITES.len())].to_owned(),
        nationality: pick(rng, &NATIONS).to_owned(),
        destination: pick(rng, &DESTINATIONS).to_owned(),
        sex: if rng.gen_bool(0.62) { "male" } else { "female" }.to_owned(),
        age: match rng.gen_range(0..100) {
            0..=4 => rng.gen_range(0..15),
            5..=29 => rng.gen_range(15..25),
            30..=89 => rng.gen_range(25..50),
            _ => rng.gen_range(50..75),
        },
    };
    let date = first_day() + Days::new(rng.gen_range(0..SPAN_DAYS));
    let mut obs: Vec<(String, String)> = Vec::new();
    let mut push = |c: &str, v: &str| obs.push((c.to_owned(), v.to_owned()));
    if who.age >= 15 || rng.gen_bool(0.2) {
        push(
            "cxr",
            if rng.gen_bool(0.04) {
                "suggestive_tb"
            } else {
                "normal"
            },
        );
    }
    if rng.gen_bool(0.06) {
        push(
            "sputum.smear.1",
            if rng.gen_bool(0.08) {
                "positive"
            } else {
                "negative"
            },
        );
        push(
            "xpert",
            if rng.gen_bool(0.1) {
                "mtb_detected"
            } else {
                "mtb_not_detected"
            },
        );
    }
    if who.age >= 15 {
        push(
            "hiv.a1",
            if rng.gen_bool(0.01) {
                "reactive"
            } else {
                "non_reactive"
            },
        );
        if rng.gen_bool(0.006) {
            push("hiv.a2", "reactive");
            push("hiv.a3", "reactive");
        }
        push(
            "syphilis.screen",
            if rng.gen_bool(0.02) {
                "reactive"
            } else {
                "non_reactive"
            },
        );
        if rng.gen_bool(0.01) {
            push("syphilis.confirm", "reactive");
        }
    }
    push(
        "hbsag",
        if rng.gen_bool(0.03) {
            "reactive"
        } else {
            "non_reactive"
        },
    );
    if rng.gen_bool(0.5) {
        push(
            "anti_hcv",
            if rng.gen_bool(0.015) {
                "reactive"
            } else {
                "non_reactive"
            },
        );
    }
    let finalised = rng.gen_bool(0.9);
    let outcome = match rng.gen_range(0..100) {
        0..=84 => "cleared",
        85..=95 => "cleared_with_follow_up",
        96..=97 => "not_cleared",
        _ => "pending",
    };
    let tb_class = match rng.gen_range(0..100) {
        0..=89 => "none",
        90..=97 => "class_b1",
        98 => "class_b2",
        _ => "class_a",
    };
    let turnaround = finalised.then(|| rng.gen_range(0..15) + rng.gen_range(0..10));
    let row = assessment_row(
        c,
        &AssessmentInput {
            who: who.clone(),
            date,
            finalised,
            outcome: Some(outcome),
            tb_class: Some(tb_class),
            observations: &obs,
            turnaround_days: turnaround,
        },
    );
    let referral = rng.gen_bool(0.04).then(|| {
        let written = date + Days::new(rng.gen_range(0..5));
        let reported = rng.gen_bool(0.7);
        let days = rng.gen_range(1..60);
        referral_row(&ReferralInput {
            who,
            date: written,
            issued: true,
            awaiting_outcome: !reported,
            due_date: written + Days::new(30),
            reason: "tb_treatment".to_owned(),
            days_to_outcome: reported.then_some(days),
        })
    });
    (row, referral)
}

/// A cube key packed into small integers, for aggregating at scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Packed {
    term: u16,
    val: u32,
    grain: u8,
    period: i32,
    site: u8,
    nationality: u8,
    destination: u8,
    sex: u8,
    age: u8,
}

#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.ids.insert(s.to_owned(), i);
        self.names.push(s.to_owned());
        i
    }
}

const FLAG_COLUMNS: [&str; 21] = [
    "assessed",
    "finalised",
    "certificate_issued",
    "referral_issued",
    "outcome_reported",
    "awaiting_outcome",
    "cxr_done",
    "cxr_suggestive",
    "sputum_tested",
    "tb_bact_confirmed",
    "hiv_tested",
    "hiv_positive",
    "syphilis_tested",
    "syphilis_reactive",
    "hbsag_tested",
    "hbsag_reactive",
    "anti_hcv_tested",
    "anti_hcv_reactive",
    "_",
    "_",
    "_",
];

fn csv_line(row: &FactRow) -> String {
    let kind = match row.kind {
        FactKind::Assessment => "assessment",
        FactKind::Referral => "referral",
    };
    let mut line = format!(
        "{kind},{},{},{},{},{},{}",
        row.site,
        row.nationality,
        row.destination,
        row.sex,
        row.age_group.as_str(),
        row.date
    );
    for f in FLAG_COLUMNS.iter().filter(|f| **f != "_") {
        line.push_str(if row.flags.contains(*f) { ",1" } else { ",0" });
    }
    let attr = |k: &str| row.attributes.get(k).cloned().unwrap_or_default();
    let measure = |k: &str| row.measures.get(k).map(u32::to_string).unwrap_or_default();
    line.push_str(&format!(
        ",{},{},{},{},{}\n",
        attr("outcome"),
        attr("tb_class"),
        measure("turnaround_days"),
        measure("days_to_outcome"),
        row.due_date.map(|d| d.to_string()).unwrap_or_default()
    ));
    line
}

fn csv_header() -> String {
    let mut h = "kind,site,nationality,destination,sex,age_group,date".to_owned();
    for f in FLAG_COLUMNS.iter().filter(|f| **f != "_") {
        h.push(',');
        h.push_str(f);
    }
    h.push_str(",outcome,tb_class,turnaround_days,days_to_outcome,due_date\n");
    h
}

/// One dashboard query.
struct Query {
    name: &'static str,
    indicator: &'static str,
    filter: Filter,
    by: Option<Dimension>,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn queries() -> Vec<Query> {
    let today = d(2026, 7, 1);
    let range = |from, to| Filter {
        from: Some(from),
        to: Some(to),
        today: Some(today),
        ..Filter::default()
    };
    let y2025 = range(d(2025, 1, 1), d(2025, 12, 31));
    let q1 = range(d(2026, 1, 1), d(2026, 3, 31));
    let last12 = range(d(2025, 7, 1), d(2026, 6, 30));
    let all = Filter {
        today: Some(today),
        ..Filter::default()
    };
    let site = |f: &Filter, s: &str| Filter {
        sites: Some(vec![s.to_owned()]),
        ..f.clone()
    };
    let p = |k| Some(Dimension::Period(k));
    vec![
        Query {
            name: "assessed: all time",
            indicator: "migrants_assessed",
            filter: all.clone(),
            by: None,
        },
        Query {
            name: "assessed: by month, last 12 months",
            indicator: "migrants_assessed",
            filter: last12.clone(),
            by: p(PeriodKind::Month),
        },
        Query {
            name: "assessed: by site, 2026Q1",
            indicator: "migrants_assessed",
            filter: q1.clone(),
            by: Some(Dimension::Site),
        },
        Query {
            name: "outcomes: by site, 2026Q1",
            indicator: "assessments_by_outcome",
            filter: q1.clone(),
            by: Some(Dimension::Site),
        },
        Query {
            name: "CXR suggestive: by nationality, 2025",
            indicator: "cxr_suggestive_rate",
            filter: y2025.clone(),
            by: Some(Dimension::Nationality),
        },
        Query {
            name: "TB yield per 100k: by site, 2025",
            indicator: "tb_bact_confirmed_per_100k",
            filter: y2025.clone(),
            by: Some(Dimension::Site),
        },
        Query {
            name: "TB classes: 2026Q1",
            indicator: "tb_class_distribution",
            filter: q1.clone(),
            by: None,
        },
        Query {
            name: "HIV positivity: by sex, 2025",
            indicator: "hiv_positivity",
            filter: y2025.clone(),
            by: Some(Dimension::Sex),
        },
        Query {
            name: "syphilis: by age group, 2025",
            indicator: "syphilis_reactivity",
            filter: y2025.clone(),
            by: Some(Dimension::AgeGroup),
        },
        Query {
            name: "HBsAg: by destination, 2025",
            indicator: "hbsag_reactivity",
            filter: y2025.clone(),
            by: Some(Dimension::Destination),
        },
        Query {
            name: "anti-HCV: by ISO week, 2026Q1",
            indicator: "anti_hcv_reactivity",
            filter: q1.clone(),
            by: p(PeriodKind::Week),
        },
        Query {
            name: "referrals issued: by day, March 2026",
            indicator: "referrals_issued",
            filter: range(d(2026, 3, 1), d(2026, 3, 31)),
            by: p(PeriodKind::Day),
        },
        Query {
            name: "referral completion: by site, 2025",
            indicator: "referral_completion_rate",
            filter: y2025.clone(),
            by: Some(Dimension::Site),
        },
        Query {
            name: "days to outcome (median): by site, 2025",
            indicator: "referral_days_to_outcome",
            filter: y2025.clone(),
            by: Some(Dimension::Site),
        },
        Query {
            name: "turnaround median: by month, 2025",
            indicator: "certificate_turnaround_median",
            filter: y2025.clone(),
            by: p(PeriodKind::Month),
        },
        Query {
            name: "turnaround p90: by site, 2026Q1",
            indicator: "certificate_turnaround_p90",
            filter: q1.clone(),
            by: Some(Dimension::Site),
        },
        Query {
            name: "overdue follow-ups: by site",
            indicator: "overdue_follow_ups",
            filter: all.clone(),
            by: Some(Dimension::Site),
        },
        Query {
            name: "assessed: one site, women 25-49, by month, 2025",
            indicator: "migrants_assessed",
            filter: Filter {
                sex: Some("female".into()),
                age_group: Some(AgeGroup::Adult),
                ..site(&y2025, "TJ-DYU-01")
            },
            by: p(PeriodKind::Month),
        },
        Query {
            name: "CXR suggestive: one site by quarter, all time",
            indicator: "cxr_suggestive_rate",
            filter: site(&all, "UZ-TAS-01"),
            by: p(PeriodKind::Quarter),
        },
        Query {
            name: "sputum tested: by site, 10 Feb-20 Nov 2025",
            indicator: "sputum_tested",
            filter: range(d(2025, 2, 10), d(2025, 11, 20)),
            by: Some(Dimension::Site),
        },
    ]
}

/// The SQL a brute-force evaluation runs in DuckDB for a query.
fn duckdb_sql(c: &Catalogue, q: &Query) -> String {
    let Some(ind) = c.get(q.indicator) else {
        return String::new();
    };
    let kind = match ind.facts {
        FactKind::Assessment => "assessment",
        FactKind::Referral => "referral",
    };
    let today = q.filter.today.unwrap_or_default();
    let cond = |flags: &[String]| -> String {
        if flags.is_empty() {
            return "TRUE".into();
        }
        flags
            .iter()
            .map(|f| match f.as_str() {
                "overdue" => format!("(due_date IS NOT NULL AND due_date < DATE '{today}')"),
                f => format!("{f} = 1"),
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let mut wh = vec![format!("kind = '{kind}'")];
    if let Some(s) = &q.filter.sites {
        wh.push(format!(
            "site IN ({})",
            s.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (col, v) in [
        ("nationality", &q.filter.nationality),
        ("destination", &q.filter.destination),
        ("sex", &q.filter.sex),
    ] {
        if let Some(v) = v {
            wh.push(format!("{col} = '{v}'"));
        }
    }
    if let Some(a) = q.filter.age_group {
        wh.push(format!("age_group = '{}'", a.as_str()));
    }
    if let Some(f) = q.filter.from {
        wh.push(format!("date >= DATE '{f}'"));
    }
    if let Some(t) = q.filter.to {
        wh.push(format!("date <= DATE '{t}'"));
    }
    let key = match q.by {
        None => "'all'".to_owned(),
        Some(Dimension::Period(PeriodKind::Day)) => "strftime(date, '%Y%m%d')".into(),
        Some(Dimension::Period(PeriodKind::Week)) => "isoyear(date) || 'W' || week(date)".into(),
        Some(Dimension::Period(PeriodKind::Month)) => "strftime(date, '%Y%m')".into(),
        Some(Dimension::Period(PeriodKind::Quarter)) => "year(date) || 'Q' || quarter(date)".into(),
        Some(Dimension::Period(PeriodKind::Year)) => "CAST(year(date) AS VARCHAR)".into(),
        Some(d) => d.as_str().to_owned(),
    };
    let split = ind.split.clone().unwrap_or_else(|| "'-'".into());
    let num = cond(&ind.numerator);
    let value = match ind.unit {
        Unit::Count => format!("count(*) FILTER (WHERE {num})"),
        Unit::Percent | Unit::Per100000 => format!(
            "count(*) FILTER (WHERE {num}) * 1.0 / nullif(count(*) FILTER (WHERE {}), 0)",
            cond(&ind.denominator)
        ),
        Unit::MedianDays => format!(
            "median({}) FILTER (WHERE {num})",
            ind.measure.clone().unwrap_or_default()
        ),
        Unit::P90Days => format!(
            "quantile_disc({}, 0.9) FILTER (WHERE {num})",
            ind.measure.clone().unwrap_or_default()
        ),
    };
    let split_filter = if ind.split.is_some() {
        format!(" AND {split} IS NOT NULL AND {split} <> ''")
    } else {
        String::new()
    };
    format!(
        "SELECT {key} AS k, {split} AS s, {value} AS v FROM facts WHERE {}{split_filter} GROUP BY 1, 2 ORDER BY 1, 2",
        wh.join(" AND ")
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn venv_python() -> anyhow::Result<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let venv = Path::new(&home).join(".cache/mhis/duckdb-venv");
    let python = venv.join("bin/python");
    let has_duckdb = python.exists()
        && std::process::Command::new(&python)
            .args(["-c", "import duckdb"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_duckdb {
        eprintln!(
            "installing the duckdb Python package into {}",
            venv.display()
        );
        let ok = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("python3 -m venv")?
            .success()
            && std::process::Command::new(&python)
                .args(["-m", "pip", "install", "-q", "duckdb"])
                .status()
                .context("pip install duckdb")?
                .success();
        if !ok {
            anyhow::bail!("could not install duckdb into {}", venv.display());
        }
    }
    Ok(python)
}

/// Runs `mhis bench indicators`.
pub async fn run(config_file: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("indicators.db").display()));
    let config = super::config(config_file, Some(url.clone()), None)?;
    let state = super::state(&config).await?;
    mhis_server::indicators::ensure_catalogue(&state).await?;
    let catalogue = state.indicators.catalogue.clone();

    // ---- Load.
    println!(
        "loading {} synthetic assessments into {}",
        args.assessments,
        super::redact(&url)
    );
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut terms = Interner::default();
    let mut vals = Interner::default();
    let mut dims = Interner::default();
    let mut cube: HashMap<Packed, i64> = HashMap::new();
    let csv_path = dir.path().join("facts.csv");
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
    if !args.no_duckdb {
        csv.write_all(csv_header().as_bytes())?;
    }
    let mut next_id: u128 = 1;
    let mut referrals = 0u64;
    let mut done = 0u64;
    while done < args.assessments {
        let n = (args.assessments - done).min(100_000);
        let mut chunk: Vec<(FactKind, uuid::Uuid, FactRow)> =
            Vec::with_capacity(n as usize + 5_000);
        for _ in 0..n {
            let (row, referral) = synthetic(&catalogue, &mut rng);
            for r in std::iter::once(row).chain(referral) {
                if r.kind == FactKind::Referral {
                    referrals += 1;
                }
                for (term, val) in terms_of(&catalogue, &r) {
                    let base = Packed {
                        term: terms.id(&term) as u16,
                        val: vals.id(&val),
                        grain: 0,
                        period: 0,
                        site: dims.id(&r.site) as u8,
                        nationality: dims.id(&r.nationality) as u8,
                        destination: dims.id(&r.destination) as u8,
                        sex: dims.id(&r.sex) as u8,
                        age: dims.id(r.age_group.as_str()) as u8,
                    };
                    for (g, grain) in Grain::ALL.iter().enumerate() {
                        let key = Packed {
                            grain: g as u8,
                            period: chrono::Datelike::num_days_from_ce(&grain.start_of(r.date)),
                            ..base
                        };
                        *cube.entry(key).or_default() += 1;
                    }
                }
                if !args.no_duckdb {
                    csv.write_all(csv_line(&r).as_bytes())?;
                }
                chunk.push((r.kind, uuid::Uuid::from_u128(next_id), r));
                next_id += 1;
            }
        }
        state.store.load_facts(&chunk, &[]).await?;
        done += n;
        if done.is_multiple_of(1_000_000) {
            eprintln!("  {done} assessments, {} cube cells so far", cube.len());
        }
    }
    csv.flush()?;
    let cells = cube.len();
    let mut batch: Vec<(CubeKey, i64)> = Vec::with_capacity(200_000);
    for (k, n) in cube.drain() {
        let grain = Grain::ALL[usize::from(k.grain)];
        batch.push((
            CubeKey {
                term: terms.names[usize::from(k.term)].clone(),
                val: vals.names[k.val as usize].clone(),
                grain,
                period_start: NaiveDate::from_num_days_from_ce_opt(k.period).unwrap_or_default(),
                site: dims.names[usize::from(k.site)].clone(),
                nationality: dims.names[usize::from(k.nationality)].clone(),
                destination: dims.names[usize::from(k.destination)].clone(),
                sex: dims.names[usize::from(k.sex)].clone(),
                age_group: dims.names[usize::from(k.age)].clone(),
            },
            n,
        ));
        if batch.len() == 200_000 {
            state.store.load_facts(&[], &batch).await?;
            batch.clear();
        }
    }
    state.store.load_facts(&[], &batch).await?;
    let load_s = started.elapsed().as_secs_f64();
    println!(
        "loaded {} assessments and {referrals} referrals as fact rows, {cells} cube cells, in {load_s:.1} s",
        args.assessments
    );

    // ---- Queries on the cube.
    let queries = queries();
    let mut ours = Vec::new();
    for q in &queries {
        let indicator = catalogue
            .get(q.indicator)
            .with_context(|| format!("no indicator {}", q.indicator))?;
        let mut times = Vec::with_capacity(args.repeats);
        for _ in 0..args.repeats.max(1) {
            let t = Instant::now();
            let cells = mhis_server::indicators::evaluate(&state, indicator, &q.filter, q.by)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", q.name, e.message))?;
            std::hint::black_box(cells);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        ours.push((percentile(&times, 50.0), percentile(&times, 95.0)));
    }

    // ---- The same queries in DuckDB.
    let mut theirs: Vec<Option<(f64, f64)>> = vec![None; queries.len()];
    if !args.no_duckdb {
        let python = venv_python()?;
        let spec: Vec<serde_json::Value> = queries
            .iter()
            .map(|q| serde_json::json!({"name": q.name, "sql": duckdb_sql(&catalogue, q)}))
            .collect();
        let spec_path = dir.path().join("queries.json");
        std::fs::write(&spec_path, serde_json::to_vec(&spec)?)?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench_duckdb.py");
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(&csv_path)
            .arg(&spec_path)
            .arg(args.repeats.max(1).to_string())
            .output()
            .context("running scripts/bench_duckdb.py")?;
        if !out.status.success() {
            anyhow::bail!("duckdb: {}", String::from_utf8_lossy(&out.stderr));
        }
        let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
        for (i, r) in results.iter().enumerate().take(theirs.len()) {
            theirs[i] = Some((
                r["p50_ms"].as_f64().unwrap_or(f64::NAN),
                r["p95_ms"].as_f64().unwrap_or(f64::NAN),
            ));
        }
        eprintln!("{}", String::from_utf8_lossy(&out.stderr).trim());
    }
    println!(
        "\n{:<50} {:>10} {:>10}   {:>10} {:>10}",
        "query", "mhis p50", "mhis p95", "duckdb p50", "duckdb p95"
    );
    let mut worst: f64 = 0.0;
    let mut slower = 0;
    for (i, q) in queries.iter().enumerate() {
        let (p50, p95) = ours[i];
        worst = worst.max(p95);
        let (d50, d95) = match theirs[i] {
            Some((a, b)) => {
                if p95 >= b {
                    slower += 1;
                }
                (format!("{a:.2}"), format!("{b:.2}"))
            }
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<50} {p50:>10.2} {p95:>10.2}   {d50:>10} {d95:>10}",
            q.name
        );
    }
    if !args.no_duckdb {
        println!(
            "queries where DuckDB's p95 beat ours: {slower} of {}",
            queries.len()
        );
    }

    // ---- Write overhead.
    let overhead = if args.write_sample > 0 {
        write_overhead(config_file, args.write_sample).await?
    } else {
        f64::NAN
    };
    println!("indicators: p95_ms={worst:.2} load_s={load_s:.1} write_overhead_pct={overhead:.1}");
    Ok(ExitCode::SUCCESS)
}

/// Writes the demo data of `n` migrants twice into fresh SQLite files: with
/// the marking triggers and the refresher, and with the triggers dropped;
/// returns the extra time in percent.
async fn write_overhead(config_file: Option<&Path>, n: usize) -> anyhow::Result<f64> {
    let mut seconds = Vec::new();
    for with_cube in [false, true, false, true] {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("writes.db");
        let url = format!("sqlite://{}", path.display());
        let config = super::config(config_file, Some(url.clone()), None)?;
        let state = super::state(&config).await?;
        if !with_cube {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&url).await?;
            for t in [
                "assessments_dirty_insert",
                "assessments_dirty_update",
                "observations_dirty",
                "certificates_dirty",
                "referrals_dirty_insert",
                "referrals_dirty_update",
                "migrants_dirty",
            ] {
                sqlx::query(&format!("DROP TRIGGER {t}"))
                    .execute(&mut conn)
                    .await?;
            }
            conn.close().await?;
        }
        let started = Instant::now();
        mhis_server::demo::load(
            state.store.as_ref(),
            &state.vocabulary,
            &state.protocols,
            n,
            11,
            state.now(),
        )
        .await?;
        if with_cube {
            mhis_server::indicators::refresh(&state)
                .await
                .map_err(|e| anyhow::anyhow!("refresh: {}", e.message))?;
        }
        let s = started.elapsed().as_secs_f64();
        println!(
            "writes of {n} demo migrants {}: {s:.2} s",
            if with_cube {
                "with the live cube"
            } else {
                "without it"
            }
        );
        seconds.push((with_cube, s));
    }
    // The better of two runs each, to damp the noise of a shared machine.
    let best = |w: bool| {
        seconds
            .iter()
            .filter(|(c, _)| *c == w)
            .map(|(_, s)| *s)
            .fold(f64::INFINITY, f64::min)
    };
    Ok((best(true) - best(false)) / best(false) * 100.0)
}
