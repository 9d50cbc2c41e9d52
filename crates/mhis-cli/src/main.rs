//! The `mhis` command: one subcommand per file under `commands/`, each a
//! thin layer over the library crates. Errors are reported with `anyhow`
//! here, at the edge, and nowhere else.

mod commands;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// mhis — Migration Health Information System.
///
/// Registers migrants, runs pre-departure health assessments under the
/// destination country's protocol, and serves them over a JSON API.
#[derive(Debug, Parser)]
#[command(name = "mhis", version, about, long_about = None)]
struct Cli {
    /// A TOML configuration file (default: ./mhis.toml when present).
    /// Settings are read from defaults, then this file, then MHIS_*
    /// environment variables, then flags.
    #[arg(long, global = true, env = "MHIS_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API on a database (migrating it first).
    Serve(commands::serve::Args),
    /// Apply pending database migrations and exit.
    Migrate(commands::migrate::Args),
    /// Run a demo server on ./mhis-data/mhis.db, filled with synthetic data
    /// when empty.
    Demo(commands::demo::Args),
    /// Classify a case under a destination protocol (protocols.md §7);
    /// prints the decision as JSON. Exit status 2 for an unknown protocol,
    /// code or value.
    Classify(commands::classify::Args),
    /// Verify a certificate offline from its QR text or image; prints one
    /// JSON verdict. Exit status 0 valid, 1 invalid, 2 usage error.
    Verify(commands::verify::Args),
    /// Manage sites.
    #[command(subcommand)]
    Site(commands::site::SiteCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(commands::user::TokenCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Certificate signing keys of sites.
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Trust anchors and trust lists.
    #[command(subcommand)]
    Trust(commands::keys::TrustCommand),
    /// Revoke a certificate.
    Revoke(commands::keys::RevokeArgs),
    /// Revocation lists.
    #[command(subcommand)]
    Revocations(commands::keys::RevocationsCommand),
    /// This deployment's node identity for federation.
    #[command(subcommand)]
    Node(commands::federation::NodeCommand),
    /// Peer deployments that referrals are exchanged with.
    #[command(subcommand)]
    Peer(commands::federation::PeerCommand),
    /// Federation messages waiting for delivery.
    #[command(subcommand)]
    Outbox(commands::federation::OutboxCommand),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(commands::bench::Bench),
    /// Export data (FHIR R4 NDJSON).
    #[command(subcommand)]
    Export(commands::export::ExportCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MHIS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = cli.config.as_deref();
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::run(config, args).await,
            Command::Migrate(args) => commands::migrate::run(config, args).await,
            Command::Demo(args) => commands::demo::run(config, args).await,
            Command::Bench(bench) => commands::bench::run(config, bench).await,
            Command::Export(command) => commands::export::run(config, command).await,
            Command::Verify(args) => commands::verify::run(args).await,
            Command::Classify(args) => commands::classify::run(config, args),
            Command::Site(command) => commands::site::run(config, command).await,
            Command::User(command) => commands::user::run_user(config, command).await,
            Command::Token(command) => commands::user::run_token(config, command).await,
            Command::Audit(command) => commands::audit::run(config, command).await,
            Command::Keys(command) => commands::keys::run_keys(config, command).await,
            Command::Trust(command) => commands::keys::run_trust(config, command).await,
            Command::Revoke(args) => commands::keys::run_revoke(config, args).await,
            Command::Revocations(command) => commands::keys::run_revocations(config, command).await,
            Command::Node(command) => commands::federation::run_node(config, command).await,
            Command::Peer(command) => commands::federation::run_peer(config, command).await,
            Command::Outbox(command) => commands::federation::run_outbox(config, command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
