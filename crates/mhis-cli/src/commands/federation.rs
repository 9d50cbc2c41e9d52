//! Federation set-up and status: `mhis node init|show`, `mhis peer
//! add|list`, `mhis outbox list`.

use super::keys::Db;
use anyhow::Context;
use mhis_domain::page::PageRequest;
use mhis_server::certificates::KeyEncryptionKey;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `mhis node …`.
#[derive(Debug, clap::Subcommand)]
pub enum NodeCommand {
    /// Give this deployment its node identity: a fresh Ed25519 key (sealed
    /// with the key encryption key) and the URL peers reach it at. Prints
    /// the public key that peers configure with `mhis peer add`.
    Init {
        /// A short name (`tj-dushanbe-panel`).
        #[arg(long)]
        name: String,
        /// The base URL peers send messages to.
        #[arg(long)]
        url: String,
        /// The site (code) where referrals from peers land when they name
        /// no site of ours.
        #[arg(long)]
        inbox_site: String,
        /// The key encryption key file (created when missing); default
        /// from configuration, else mhis-data/key-encryption.key.
        #[arg(long)]
        kek_file: Option<PathBuf>,
        #[command(flatten)]
        db: Db,
    },
    /// Print this deployment's name, URL and public key.
    Show {
        #[command(flatten)]
        db: Db,
    },
}

/// `mhis peer …`.
#[derive(Debug, clap::Subcommand)]
pub enum PeerCommand {
    /// Add a peer deployment.
    Add {
        /// The local name for it (`uz-moh`).
        #[arg(long)]
        name: String,
        /// Its base URL.
        #[arg(long)]
        url: String,
        /// Its node public key, as `mhis node show` prints it there.
        #[arg(long)]
        key: String,
        /// The country whose health authority it is (for arrival
        /// notifications).
        #[arg(long)]
        country: Option<String>,
        #[command(flatten)]
        db: Db,
    },
    /// List peers.
    List {
        #[command(flatten)]
        db: Db,
    },
}

/// `mhis outbox …`.
#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// List messages not yet acknowledged, with their attempts and last
    /// error.
    List {
        /// Include delivered messages.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        db: Db,
    },
}

fn refused(e: mhis_server::error::ApiError) -> ExitCode {
    eprintln!("error: {}: {}", e.field.unwrap_or_default(), e.message);
    ExitCode::from(2)
}

/// Runs a node command.
pub async fn run_node(
    config_file: Option<&Path>,
    command: NodeCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        NodeCommand::Init {
            name,
            url,
            inbox_site,
            kek_file,
            db,
        } => {
            let config = super::config(config_file, db.database_url, None)?;
            let kek_path = kek_file
                .or_else(|| config.key_encryption_key_file.as_ref().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("mhis-data/key-encryption.key"));
            let kek = KeyEncryptionKey::load(&kek_path, true)
                .with_context(|| format!("key encryption key {}", kek_path.display()))?;
            let mut state = super::state(&config).await?;
            state.key_encryption = Some(Arc::new(kek));
            let Some(site) = state
                .store
                .list_sites()
                .await?
                .into_iter()
                .find(|s| s.code.as_str().eq_ignore_ascii_case(&inbox_site))
            else {
                eprintln!("error: inbox_site: no site has the code '{inbox_site}'");
                return Ok(ExitCode::from(2));
            };
            match mhis_server::federation::init_node(&state, &name, &url, site.id, "cli").await {
                Ok(node) => {
                    println!("node {} at {}", node.name, node.url);
                    println!(
                        "public key {}",
                        mhis_cert::node::encode_public_key(&node.public_key)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(refused(e)),
            }
        }
        NodeCommand::Show { db } => {
            let config = super::config(config_file, db.database_url, None)?;
            let state = super::state(&config).await?;
            match state.store.node_identity().await? {
                Some(node) => {
                    println!("node {} at {}", node.name, node.url);
                    println!(
                        "public key {}",
                        mhis_cert::node::encode_public_key(&node.public_key)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!(
                        "error: node: this deployment has no node identity; run 'mhis node init'"
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

/// Runs a peer command.
pub async fn run_peer(
    config_file: Option<&Path>,
    command: PeerCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        PeerCommand::Add {
            name,
            url,
            key,
            country,
            db,
        } => {
            let config = super::config(config_file, db.database_url, None)?;
            let state = super::state(&config).await?;
            match mhis_server::federation::add_peer(
                &state,
                &name,
                &url,
                &key,
                country.as_deref(),
                "cli",
            )
            .await
            {
                Ok(peer) => {
                    println!("peer {} at {}", peer.name, peer.url);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(refused(e)),
            }
        }
        PeerCommand::List { db } => {
            let config = super::config(config_file, db.database_url, None)?;
            let state = super::state(&config).await?;
            for peer in state.store.list_peers().await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    peer.name,
                    peer.url,
                    peer.country.as_deref().unwrap_or("-"),
                    mhis_cert::node::encode_public_key(&peer.public_key)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs an outbox command.
pub async fn run_outbox(
    config_file: Option<&Path>,
    command: OutboxCommand,
) -> anyhow::Result<ExitCode> {
    let OutboxCommand::List { all, db } = command;
    let config = super::config(config_file, db.database_url, None)?;
    let state = super::state(&config).await?;
    let page = state
        .store
        .list_outbox(!all, PageRequest::parse(Some(1), Some(200))?)
        .await?;
    println!("{} message(s)", page.total);
    for m in page.items {
        println!(
            "{}\t{}\t{}\tattempts={}\t{}\t{}",
            m.id,
            m.peer,
            m.event,
            m.attempts,
            m.result.as_deref().unwrap_or("pending"),
            m.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
