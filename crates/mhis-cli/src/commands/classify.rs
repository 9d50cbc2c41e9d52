//! `mhis classify --protocol ID CASE`: the protocol engine on one case, per
//! the contract of protocols.md §7.

use anyhow::Context;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `mhis classify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The protocol id (`us-cdc-ti-tb`, `uk-pre-entry-tb`, `ru-labour`, or
    /// one from --protocols).
    #[arg(long)]
    protocol: String,
    /// A folder of protocol files to use instead of the built-in ones.
    #[arg(long)]
    protocols: Option<PathBuf>,
    /// The case as JSON: a file, or `-` for standard input.
    case: String,
}

/// Classifies the case and prints the decision.
pub fn run(config_file: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let dir = match args.protocols {
        Some(dir) => Some(dir),
        None => super::config(config_file, None, None)?
            .protocols_dir
            .map(PathBuf::from),
    };
    let protocols = match mhis_server::protocols::load(dir.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let text = if args.case == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the case from standard input")?;
        text
    } else {
        match std::fs::read_to_string(&args.case) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: reading {}: {e}", args.case);
                return Ok(ExitCode::from(2));
            }
        }
    };
    match protocols.classify_json(&args.protocol, &text) {
        Ok(decision) => {
            println!("{}", serde_json::to_string(&decision)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
