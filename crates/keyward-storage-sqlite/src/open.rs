use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use keyward_storage::{Change, ChangeFeed, Storage, StorageError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SqliteStorageError {
    #[error("invalid SQLite URL '{url}': {reason}")]
    BadUrl { url: String, reason: &'static str },
    #[error("invalid SQLite URL '{url}': {source}")]
    UnparsableUrl {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the database directory {dir}: {source}")]
    CreateDir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The replay writer's own connection (see `replay/writer.rs`).
    #[error("cannot open the database: {0}")]
    OpenReplay(#[source] rusqlite::Error),
    #[error("cannot start the replay writer: {0}")]
    StartReplay(#[source] std::io::Error),
}

/// The database file a `sqlite://PATH` URL names, as [`SqliteStorage::open`] decodes it (so a
/// caller that sets its file mode names the same file); the same URLs are refused.
pub fn database_file(url: &str) -> Result<std::path::PathBuf, SqliteStorageError> {
    Ok(file_options(url)?.get_filename().to_path_buf())
}

/// The URL parsed, when it names a database file.
fn file_options(url: &str) -> Result<SqliteConnectOptions, SqliteStorageError> {
    let bad = |reason| SqliteStorageError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    if !url.starts_with("sqlite:") {
        return Err(bad("expected sqlite://PATH"));
    }
    // The replay writer opens the same file with a connection of its own, so the database
    // must be a file: a private in-memory database would be a different, empty one.
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(bad(
            "keyward needs a database file; in-memory SQLite is not supported",
        ));
    }
    SqliteConnectOptions::from_str(url).map_err(|source| SqliteStorageError::UnparsableUrl {
        url: url.to_owned(),
        source,
    })
}

/// A SQLite database holding everything one keyward node needs.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pub(crate) pool: SqlitePool,
    pub(crate) replay: crate::replay::Replay,
    /// This process's writers, one at a time (see `write_tx`).
    pub(crate) writes: crate::write_tx::WriteQueue,
}

impl SqliteStorage {
    /// Opens (creating it and its directory if needed) the database at a `sqlite://path` URL and
    /// applies the embedded migrations.
    pub async fn open(url: &str) -> Result<Self, SqliteStorageError> {
        let options = file_options(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged admin write survives a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // The path as sqlx decoded it from the URL, so the directory, the pool and the replay
        // writer all name the same file.
        let file = options.get_filename().to_path_buf();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| SqliteStorageError::CreateDir {
                dir: dir.display().to_string(),
                source,
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(SqliteStorageError::Open)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(SqliteStorageError::Migrate)?;
        let replay = crate::replay::Replay::start(&file)?;
        Ok(Self {
            pool,
            replay,
            writes: crate::write_tx::WriteQueue::default(),
        })
    }
}

/// One SQLite file serves one node: there are no other nodes to tell, and nothing to hear.
#[async_trait]
impl ChangeFeed for SqliteStorage {
    async fn announce(&self, _change: &Change) -> Result<(), StorageError> {
        Ok(())
    }

    async fn subscribe(&self) -> Result<Option<tokio::sync::mpsc::Receiver<Change>>, StorageError> {
        Ok(None)
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(crate::time_col::db_err)?;
        Ok(())
    }
}
