//! Server configuration: defaults, then a TOML file, then `MHIS_*`
//! environment variables, then command-line flags (applied by the CLI).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything a deployment can configure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://path` (the default) or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A folder of protocol files to use instead of the built-in ones
    /// (every `*.toml` below it is read).
    #[serde(default)]
    pub protocols_dir: Option<String>,
    /// Whether the server is reached over HTTPS (through a TLS-terminating
    /// proxy): session cookies are then marked `Secure`.
    #[serde(default)]
    pub behind_tls: bool,
    /// The file holding the key that seals site signing keys (32 bytes,
    /// base64). Keep it outside the database and its backups.
    #[serde(default)]
    pub key_encryption_key_file: Option<String>,
    /// A folder of licensed instrument wording files
    /// (`<instrument>.<language>.toml`, see `instruments/README.md`); the
    /// screening forms show that wording instead of mhis's own labels.
    #[serde(default)]
    pub instrument_wording_dir: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://mhis-data/mhis.db".into(),
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1024 * 1024,
            protocols_dir: None,
            behind_tls: false,
            key_encryption_key_file: None,
            instrument_wording_dir: None,
        }
    }
}

/// Why configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads defaults, then `file` if it exists (a missing file named
    /// explicitly is an error; the default `mhis.toml` is optional), then
    /// `MHIS_*` variables (`MHIS_DATABASE_URL`, `MHIS_LISTEN`…).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!("{} does not exist", path.display())));
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("mhis.toml")),
        }
        figment
            .merge(Env::prefixed("MHIS_"))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))
    }
}
