//! Certificate keys and trust: `mhis keys new|list`, `mhis trust
//! anchor-new|export|import`, `mhis revoke`, `mhis revocations export`.

use anyhow::{Context, bail};
use mhis_domain::audit::AuditEvent;
use mhis_server::certificates::{KeyEncryptionKey, new_site_key, revocation_list, trust_list};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The database and key-file flags shared by these commands.
#[derive(Debug, clap::Args)]
pub struct Db {
    /// Database URL (default from configuration).
    #[arg(long)]
    pub database_url: Option<String>,
}

/// `mhis keys …`.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a site's certificate signing key (valid at most one year).
    /// The site's earlier keys are kept for verification only.
    New {
        /// The site's code.
        #[arg(long)]
        site: String,
        /// Days of validity (1–366).
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// The key encryption key file (created when missing); default
        /// from configuration, else mhis-data/key-encryption.key.
        #[arg(long)]
        kek_file: Option<PathBuf>,
        #[command(flatten)]
        db: Db,
    },
    /// List signing keys.
    List {
        #[command(flatten)]
        db: Db,
    },
}

/// `mhis trust …`.
#[derive(Debug, clap::Subcommand)]
pub enum TrustCommand {
    /// Create a trust anchor key pair (keep the private key offline).
    AnchorNew {
        /// Where to write the private key (PKCS#8 PEM).
        #[arg(long)]
        out: PathBuf,
        /// Where to write the public key (SPKI PEM) that verifiers use.
        #[arg(long)]
        public_out: PathBuf,
    },
    /// Write the site keys as a trust list signed by the trust anchor.
    Export {
        /// The trust anchor's private key (PKCS#8 PEM).
        #[arg(long)]
        anchor_key: PathBuf,
        /// The list's issuer (a country code or organisation).
        #[arg(long)]
        issuer: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        db: Db,
    },
    /// Load a signed trust list (or revocation list) on a verifier, after
    /// checking its signature against the anchor's public key.
    Import {
        /// The signed list.
        #[arg(long)]
        file: PathBuf,
        /// The trust anchor's public key (SPKI PEM or DER).
        #[arg(long)]
        anchor: PathBuf,
        /// Import a revocation list instead of a trust list.
        #[arg(long)]
        revocations: bool,
        #[command(flatten)]
        db: Db,
    },
}

/// `mhis revocations …`.
#[derive(Debug, clap::Subcommand)]
pub enum RevocationsCommand {
    /// Write the revocation list (truncated hashes only), signed by the
    /// trust anchor.
    Export {
        /// The trust anchor's private key (PKCS#8 PEM).
        #[arg(long)]
        anchor_key: PathBuf,
        /// The list's issuer.
        #[arg(long)]
        issuer: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        db: Db,
    },
}

/// Flags of `mhis revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The certificate id.
    certificate: String,
    /// Why it is revoked.
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    db: Db,
}

async fn open(config_file: Option<&Path>, db: Db) -> anyhow::Result<mhis_server::AppState> {
    let config = super::config(config_file, db.database_url, None)?;
    super::state(&config).await
}

fn anchor_key(path: &Path) -> anyhow::Result<mhis_cert::SigningKey> {
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(mhis_cert::SigningKey::from_pkcs8_pem(&pem)?)
}

fn cli_event(action: &str, entity: &str, id: Option<String>) -> AuditEvent {
    AuditEvent::new("cli", action, entity, id, None)
}

/// Runs a keys command.
pub async fn run_keys(
    config_file: Option<&Path>,
    command: KeysCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::New {
            site,
            days,
            kek_file,
            db,
        } => {
            let config = super::config(config_file, db.database_url, None)?;
            let kek_path = kek_file
                .or_else(|| config.key_encryption_key_file.as_ref().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("mhis-data/key-encryption.key"));
            let created = !kek_path.exists();
            let kek = KeyEncryptionKey::load(&kek_path, true)?;
            if created {
                println!(
                    "created the key encryption key {}; back it up and keep it away from the database's backups",
                    kek_path.display()
                );
            }
            let mut state = super::state(&config).await?;
            state.key_encryption = Some(Arc::new(kek.clone()));
            let Some(found) = state
                .store
                .list_sites()
                .await?
                .into_iter()
                .find(|s| s.code.as_str().eq_ignore_ascii_case(&site))
            else {
                eprintln!("error: site: no site has the code '{site}'");
                return Ok(ExitCode::from(2));
            };
            match new_site_key(&state, &kek, found.id, days, "cli").await {
                Ok(key) => {
                    println!(
                        "created key {} for {} valid until {}",
                        key.kid,
                        found.code.as_str(),
                        key.valid_until.format("%Y-%m-%d")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {}: {}", e.field.unwrap_or_default(), e.message);
                    Ok(ExitCode::from(2))
                }
            }
        }
        KeysCommand::List { db } => {
            let state = open(config_file, db).await?;
            let sites = state.store.list_sites().await?;
            for key in state.store.signing_keys(None).await? {
                let code = sites
                    .iter()
                    .find(|s| s.id == key.site_id)
                    .map(|s| s.code.as_str().to_owned())
                    .unwrap_or_default();
                let status = if key.retired_at.is_some() {
                    "retired"
                } else {
                    "active"
                };
                println!(
                    "{}\t{code}\t{status}\t{} .. {}",
                    key.kid,
                    key.valid_from.format("%Y-%m-%d"),
                    key.valid_until.format("%Y-%m-%d")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs a trust command.
pub async fn run_trust(
    config_file: Option<&Path>,
    command: TrustCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        TrustCommand::AnchorNew { out, public_out } => {
            if out.exists() {
                bail!(
                    "{} exists; refusing to overwrite a trust anchor key",
                    out.display()
                );
            }
            let key = mhis_cert::SigningKey::generate();
            std::fs::write(&out, key.to_pkcs8_pem()?)?;
            std::fs::write(&public_out, key.verification_key().to_spki_pem()?)?;
            println!(
                "wrote {} (keep it offline) and {}",
                out.display(),
                public_out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        TrustCommand::Export {
            anchor_key: key_path,
            issuer,
            out,
            db,
        } => {
            let state = open(config_file, db).await?;
            let anchor = anchor_key(&key_path)?;
            let list = trust_list(&state, &issuer, state.now())
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            std::fs::write(&out, list.sign(&anchor)?)?;
            state
                .store
                .append_audit(&cli_event("trust.export", "trust_list", None), state.now())
                .await?;
            println!("wrote {} with {} keys", out.display(), list.keys.len());
            Ok(ExitCode::SUCCESS)
        }
        TrustCommand::Import {
            file,
            anchor,
            revocations,
            db,
        } => {
            let state = open(config_file, db).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let anchor_bytes = std::fs::read(&anchor)?;
            let anchor = match std::str::from_utf8(&anchor_bytes) {
                Ok(pem) if pem.contains("BEGIN") => mhis_cert::VerificationKey::from_spki_pem(pem)?,
                _ => mhis_cert::VerificationKey::from_spki_der(&anchor_bytes)?,
            };
            let anchor_der = anchor.to_spki_der()?;
            let (kind, issuer, issued_at) = if revocations {
                let list = mhis_cert::RevocationList::verify(&bytes, &[anchor])?;
                ("revocations", list.issuer, list.issued_at)
            } else {
                let list = mhis_cert::TrustList::verify(&bytes, &[anchor])?;
                ("trust_list", list.issuer, list.issued_at)
            };
            let issued_at = chrono::DateTime::from_timestamp(issued_at, 0).unwrap_or_default();
            state
                .store
                .add_trust_document(
                    kind,
                    &issuer,
                    issued_at,
                    &bytes,
                    &anchor_der,
                    &cli_event("trust.import", kind, None),
                )
                .await?;
            println!("imported the {kind} of {issuer} issued {issued_at}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `mhis revoke`.
pub async fn run_revoke(config_file: Option<&Path>, args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let state = open(config_file, args.db).await?;
    let reason = args.reason.trim();
    if reason.is_empty() {
        eprintln!("error: reason: is required");
        return Ok(ExitCode::from(2));
    }
    let audit = cli_event("certificate.revoke", "certificate", None);
    match state
        .store
        .revoke_certificate(&args.certificate, reason, state.now(), &audit)
        .await
    {
        Ok(()) => {
            println!("revoked {}", args.certificate);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Runs a revocations command.
pub async fn run_revocations(
    config_file: Option<&Path>,
    command: RevocationsCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        RevocationsCommand::Export {
            anchor_key: key_path,
            issuer,
            out,
            db,
        } => {
            let state = open(config_file, db).await?;
            let anchor = anchor_key(&key_path)?;
            let list = revocation_list(&state, &issuer, state.now())
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            std::fs::write(&out, list.sign(&anchor)?)?;
            println!(
                "wrote {} with {} revoked certificates",
                out.display(),
                list.entries.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
