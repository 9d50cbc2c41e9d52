//! Loading the protocol set: the built-in files, or every `*.toml` file
//! below a folder a deployment names. A file with an error is refused with
//! its name, line and reason, and the server does not start.

use mhis_domain::protocol::{LoadError, ProtocolSet};
use std::path::{Path, PathBuf};

/// Why protocols could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolsError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not a valid protocol.
    #[error("protocol file {0}")]
    Invalid(#[from] LoadError),
    /// The folder holds no protocol file.
    #[error("{0} holds no *.toml protocol files")]
    Empty(String),
}

/// The built-in protocols, or those below `dir`.
pub fn load(dir: Option<&Path>) -> Result<ProtocolSet, ProtocolsError> {
    let Some(dir) = dir else {
        return Ok(ProtocolSet::built_in());
    };
    let mut paths = Vec::new();
    collect(dir, &mut paths)?;
    paths.sort();
    if paths.is_empty() {
        return Err(ProtocolsError::Empty(dir.display().to_string()));
    }
    let files = paths
        .into_iter()
        .map(|path| {
            std::fs::read_to_string(&path)
                .map(|text| (path.display().to_string(), text))
                .map_err(|source| ProtocolsError::Io {
                    path: path.display().to_string(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProtocolSet::from_files(files)?)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ProtocolsError> {
    let io = |source| ProtocolsError::Io {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}
