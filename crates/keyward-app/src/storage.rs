//! Choosing and opening the database backend.

use std::{sync::Arc, time::Duration};

use keyward_server::Config;
use keyward_storage::Storage;
use keyward_storage_postgres::{PgOptions, PostgresStorage};
use keyward_storage_sqlite::SqliteStorage;

use crate::StartupError;

/// Opens the database named by `url`: `sqlite://PATH` for one node, `postgres://…` for several
/// nodes sharing one database (pool size and acquire timeout from `config`). A SQLite file is
/// created, or narrowed, to mode 0600 first.
pub async fn open_storage(url: &str, config: &Config) -> Result<Arc<dyn Storage>, StartupError> {
    if url.starts_with("sqlite:") {
        crate::files::secure_database(url)?;
        Ok(Arc::new(SqliteStorage::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgOptions {
            max_connections: config.database_max_connections.max(1),
            acquire_timeout: Duration::from_millis(config.database_acquire_timeout_ms.max(1)),
            tcp_keepalive: Some(Duration::from_secs(config.database_tcp_keepalive_seconds.max(1))),
            listen_heartbeat: Duration::from_secs(config.pg_listen_heartbeat_seconds.max(1)),
            ..PgOptions::default()
        };
        Ok(Arc::new(PostgresStorage::open(url, options).await?))
    } else {
        Err(StartupError::UnsupportedDatabase {
            scheme: url.split(':').next().unwrap_or("").to_owned(),
        })
    }
}
