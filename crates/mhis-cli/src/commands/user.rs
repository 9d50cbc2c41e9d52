//! `mhis user add` and `mhis token create|revoke`: accounts and API tokens
//! from the command line (the first administrator is made here).

use anyhow::{Context, bail};
use mhis_server::auth::{NewAccount, create_account, issue_token};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

/// `mhis user …`.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input (one line),
    /// or from MHIS_PASSWORD.
    Add(AddArgs),
    /// List users.
    List(DbArgs),
}

/// Flags of `mhis user add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Login name (3–32 letters, digits, dots, hyphens, underscores).
    #[arg(long)]
    name: String,
    /// Role: admin, registrar, clinician, lab, radiologist, data_manager,
    /// counsellor, border_officer, trainer or verifier.
    #[arg(long)]
    role: String,
    /// A site code the user works at (repeat for several).
    #[arg(long = "site")]
    sites: Vec<String>,
    /// Every site of the deployment instead of a site list.
    #[arg(long, conflicts_with = "sites")]
    national: bool,
    /// Name shown in the interface (default: the login name).
    #[arg(long)]
    display_name: Option<String>,
    /// Interface language: en, ru or fr.
    #[arg(long)]
    language: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

/// The database flag shared by account commands.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Database URL (default from configuration).
    #[arg(long)]
    database_url: Option<String>,
}

/// `mhis token …`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (shown once).
    Create {
        /// The user's login name.
        #[arg(long)]
        user: String,
        /// A label for the token.
        #[arg(long, default_value = "api")]
        label: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List a user's tokens (ids and labels; the secrets are never stored).
    List {
        /// The user's login name.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by its id; requests with it are refused at once.
    Revoke {
        /// The token's id (from `mhis token list`).
        id: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("MHIS_PASSWORD") {
        return Ok(p);
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the password from standard input")?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// Runs a user command.
pub async fn run_user(
    config_file: Option<&Path>,
    command: UserCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add(args) => {
            let config = super::config(config_file, args.db.database_url, None)?;
            let state = super::state(&config).await?;
            let account = NewAccount {
                display_name: args.display_name.unwrap_or_else(|| args.name.clone()),
                username: args.name,
                role: args.role,
                sites: args.sites,
                national: args.national,
                password: read_password()?,
                language: args.language,
            };
            match create_account(&state, &account, "cli").await {
                Ok(user) => {
                    println!("created {} ({})", user.username, user.role.as_str());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!(
                        "error: {}: {}",
                        e.field.as_deref().unwrap_or("user"),
                        e.message
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
        UserCommand::List(db) => {
            let config = super::config(config_file, db.database_url, None)?;
            let state = super::state(&config).await?;
            for user in state.store.list_users().await? {
                println!(
                    "{}\t{}\t{}",
                    user.username,
                    user.role.as_str(),
                    user.display_name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs a token command.
pub async fn run_token(
    config_file: Option<&Path>,
    command: TokenCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create { user, label, db } => {
            let config = super::config(config_file, db.database_url, None)?;
            let state = super::state(&config).await?;
            let Some(login) = state.store.find_user_login(&user).await? else {
                bail!("no user is called '{user}'");
            };
            let token = issue_token(&state, &login.user, &label, "cli")
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { user, db } => {
            let config = super::config(config_file, db.database_url, None)?;
            let state = super::state(&config).await?;
            let Some(login) = state.store.find_user_login(&user).await? else {
                bail!("no user is called '{user}'");
            };
            for token in state.store.list_tokens(login.user.id).await? {
                let status = match token.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                    None => "active".into(),
                };
                println!(
                    "{}\t{}\t{}\t{status}",
                    token.id,
                    token.name,
                    token.created_at.format("%Y-%m-%d %H:%M")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id, db } => {
            let config = super::config(config_file, db.database_url, None)?;
            let state = super::state(&config).await?;
            let Ok(token) = id.parse::<mhis_domain::ids::TokenId>() else {
                eprintln!("error: id: '{id}' is not a token id");
                return Ok(ExitCode::from(2));
            };
            let audit =
                mhis_domain::audit::AuditEvent::new("cli", "token.revoke", "token", None, None);
            match state.store.revoke_token(token, state.now(), &audit).await {
                Ok(()) => {
                    println!("revoked {id}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}
