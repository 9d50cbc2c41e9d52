//! Opening storage: the backend is chosen from the URL's scheme, here and
//! nowhere else.

use mhis_domain::vocabulary::Vocabulary;
use mhis_store::{Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// Opens the store at `url`: `postgres://` or `postgresql://` for
/// PostgreSQL, `sqlite://PATH` (or a bare file path) for SQLite. The parent
/// folder of a SQLite file is created when missing.
pub async fn open(url: &str, vocabulary: Arc<Vocabulary>) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = mhis_store_postgres::PgStore::connect(url, vocabulary).await?;
        return Ok(Arc::new(store));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::Database(format!(
            "unsupported database URL '{url}': use sqlite://PATH or postgres://…"
        )));
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Database(format!("creating {}: {e}", parent.display())))?;
    }
    let store =
        mhis_store_sqlite::SqliteStore::connect(&format!("sqlite://{path}"), vocabulary).await?;
    Ok(Arc::new(store))
}

/// Opens the store and applies pending migrations.
pub async fn open_migrated(
    url: &str,
    vocabulary: Arc<Vocabulary>,
) -> Result<Arc<dyn Store>, StoreError> {
    let store = open(url, vocabulary).await?;
    store.migrate().await?;
    Ok(store)
}
