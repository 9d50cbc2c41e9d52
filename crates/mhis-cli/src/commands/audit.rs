//! `mhis audit verify`: checks the audit trail's hash chain.

use mhis_domain::audit::verify_chain;
use std::path::Path;
use std::process::ExitCode;

/// `mhis audit …`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain: exit 0 when intact; otherwise name the first
    /// modified, inserted or deleted entry and exit 1.
    Verify {
        /// Database URL (default from configuration).
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// Runs an audit command.
pub async fn run(config_file: Option<&Path>, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { database_url } => {
            let config = super::config(config_file, database_url, None)?;
            let state = super::state(&config).await?;
            let chain = state.store.audit_chain().await?;
            match verify_chain(&chain) {
                Ok(n) => {
                    println!("audit trail intact: {n} entries");
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    println!("audit trail broken: {broken}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
