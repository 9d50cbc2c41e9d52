//! `mhis demo`: a demo server on ./mhis-data/mhis.db with synthetic data.

use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// Flags of `mhis demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many synthetic migrants to create when the database is empty.
    #[arg(long, default_value_t = 300)]
    migrants: usize,
    /// Seed of the synthetic data: the same seed gives the same people.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Database URL (default sqlite://mhis-data/mhis.db).
    #[arg(long, default_value = "sqlite://mhis-data/mhis.db")]
    database_url: String,
    /// The node name this demo deployment gets for federation (a second
    /// demo node needs another name, port and database).
    #[arg(long, default_value = "demo-node")]
    node_name: String,
}

/// Loads the demo data if needed and serves.
pub async fn run(config_file: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let mut config = super::config(config_file, Some(args.database_url), Some(args.listen))?;
    let kek_path = config
        .key_encryption_key_file
        .get_or_insert_with(|| "mhis-data/key-encryption.key".into())
        .clone();
    let kek = mhis_server::certificates::KeyEncryptionKey::load(Path::new(&kek_path), true)?;
    let mut state = super::state(&config).await?;
    state.key_encryption = Some(std::sync::Arc::new(kek.clone()));
    if mhis_server::demo::is_empty(state.store.as_ref()).await? {
        println!(
            "filling {} with {} synthetic migrants (seed {})…",
            config.database_url, args.migrants, args.seed
        );
        let loaded = mhis_server::demo::load(
            state.store.as_ref(),
            &state.vocabulary,
            &state.protocols,
            args.migrants,
            args.seed,
            state.now(),
        )
        .await
        .context("loading demo data")?;
        println!(
            "created {} sites, {} migrants with one assessment each, {} observations",
            loaded.sites, loaded.migrants, loaded.observations
        );
        let certified = mhis_server::demo::finalise_and_certify(&state, &kek)
            .await
            .map_err(|e| anyhow::anyhow!("finalising demo assessments: {}", e.message))?;
        println!(
            "finalised {} complete assessments and issued {} certificates (site keys sealed with {kek_path})",
            certified.finalised, certified.certificates
        );
        let training = mhis_server::ui::training::demo::load(&state)
            .await
            .map_err(|e| anyhow::anyhow!("loading demo training data: {}", e.message))?;
        println!(
            "training: {} needs assessments, a session with {} participants, {} attendance certificates",
            training.needs, training.participants, training.certificates
        );
        let logins = mhis_server::demo::create_demo_users(&state)
            .await
            .map_err(|e| anyhow::anyhow!("creating demo users: {}", e.message))?;
        let screened = mhis_server::mhpss::load_demo(&state, args.seed, 40)
            .await
            .map_err(|e| anyhow::anyhow!("demo MHPSS screenings: {}", e.message))?;
        println!(
            "screened {} people as demo-counsellor ({} positive or flagged), {} counselling sessions, {} MHPSS referrals, {} cases closed",
            screened.screenings,
            screened.positive,
            screened.sessions,
            screened.referrals,
            screened.closed
        );
        println!("demo logins (user / password / role / scope):");
        for login in logins {
            println!(
                "  {:<20} {:<30} {:<15} {}",
                login.username, login.password, login.role, login.scope
            );
        }
    } else {
        println!("using the existing data in {}", config.database_url);
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    // A node identity, so that referrals can go to a peer deployment (for
    // example a second demo node) once it is added with `mhis peer add`.
    let node = match state.store.node_identity().await? {
        Some(node) => node,
        None => {
            // Referrals from peers land where the demo clinician works.
            let sites = state.store.list_sites().await?;
            let inbox = sites
                .iter()
                .find(|s| s.code.as_str() == "TJ-DYU-01")
                .or(sites.first())
                .context("the demo has no site")?;
            mhis_server::federation::init_node(&state, &args.node_name, &url, inbox.id, "demo")
                .await
                .map_err(|e| anyhow::anyhow!("node identity: {}", e.message))?
        }
    };
    println!(
        "  node {} at {}; public key {} (peers add it with 'mhis peer add')",
        node.name,
        node.url,
        mhis_cert::node::encode_public_key(&node.public_key)
    );
    // A fresh API token for the demo clinician (national searches need the
    // admin; the clinician works at TJ-DYU-01), shown on every start.
    let token = match state.store.find_user_login("demo-admin").await? {
        Some(login) => Some(
            mhis_server::auth::issue_token(&state, &login.user, "demo", "demo")
                .await
                .map_err(|e| anyhow::anyhow!("issuing a demo token: {}", e.message))?,
        ),
        None => None,
    };
    println!("mhis demo serving on {url}");
    if let Some(token) = token {
        println!("  API token of demo-admin (national scope): {token}");
        println!(
            "  try: curl -H 'Authorization: Bearer {token}' '{url}/api/v1/migrants?name=Рахимов'"
        );
        println!(
            "       curl -H 'Authorization: Bearer {token}' '{url}/api/v1/migrants?name=Rakhimov'"
        );
    }
    println!("       curl '{url}/api/v1/openapi.json'");
    mhis_server::serve(listener, state, super::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
