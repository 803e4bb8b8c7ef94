use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use keyward_storage::{Storage, StorageError};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use thiserror::Error;

use crate::{time_col::db_err, PgOptions};

/// What can stop [`PostgresStorage::open`]. Messages name the host and port, never the URL,
/// which may hold a password.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PostgresStorageError {
    #[error("invalid PostgreSQL URL: {0}")]
    BadUrl(#[source] sqlx::Error),
    #[error("invalid schema name '{0}': use lowercase letters, digits and '_' (at most 63), not starting with a digit")]
    BadSchema(String),
    #[error("cannot connect to PostgreSQL at {at}: {source}")]
    Connect {
        at: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("no connection to PostgreSQL at {at} within {after:?}")]
    ConnectTimeout { at: String, after: Duration },
    #[error("cannot create schema '{schema}': {source}")]
    CreateSchema {
        schema: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// A PostgreSQL database shared by every keyward node that opens it.
#[derive(Clone)]
pub struct PostgresStorage {
    pub(crate) pool: PgPool,
    /// Connection settings for the change listener's own connection (see `listener.rs`).
    pub(crate) listen_options: PgConnectOptions,
    pub(crate) connect_timeout: Duration,
    pub(crate) listen_heartbeat: Duration,
}

/// By hand: the connect options hold the password.
impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl PostgresStorage {
    /// Connects to the database at a `postgres://` URL, creates `options.schema` if it is set
    /// and missing, and applies the embedded migrations. Fails (within `connect_timeout`) when
    /// the database cannot be reached, so a node never starts on a database it cannot use.
    pub async fn open(url: &str, options: PgOptions) -> Result<Self, PostgresStorageError> {
        let connect = connect_options(url, &options)?;
        let at = match connect.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => format!("{}:{}", connect.get_host(), connect.get_port()),
        };
        let mut conn = tokio::time::timeout(options.connect_timeout, connect.connect())
            .await
            .map_err(|_| PostgresStorageError::ConnectTimeout {
                at: at.clone(),
                after: options.connect_timeout,
            })?
            .map_err(|source| PostgresStorageError::Connect { at, source })?;
        if let Some(schema) = &options.schema {
            create_schema(&mut conn, schema)
                .await
                .map_err(|source| PostgresStorageError::CreateSchema {
                    schema: schema.clone(),
                    source,
                })?;
        }
        // A failed goodbye on a connection we are done with changes nothing.
        let _ = conn.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(Some(options.idle_timeout))
            // A connection the server dropped (restart, pg_terminate_backend) is found out by
            // the ping before use and replaced, instead of failing a request.
            .test_before_acquire(true)
            .connect_lazy_with(connect.clone());
        // sqlx holds a PostgreSQL advisory lock while it migrates: nodes starting at once
        // take turns, and the later ones find the work done. (Through the pool, not the
        // connection above: `run(&mut conn)` makes this future not `Send`.)
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(PostgresStorageError::Migrate)?;
        let listen_name = format!("{}:listen", connect.get_application_name().unwrap_or("keyward"));
        Ok(Self {
            pool,
            listen_options: connect.application_name(&listen_name),
            connect_timeout: options.connect_timeout,
            listen_heartbeat: options.listen_heartbeat,
        })
    }
}

fn connect_options(url: &str, options: &PgOptions) -> Result<PgConnectOptions, PostgresStorageError> {
    let mut connect = PgConnectOptions::from_str(url).map_err(PostgresStorageError::BadUrl)?;
    let name = options
        .application_name
        .clone()
        .or_else(|| connect.get_application_name().map(str::to_owned))
        .unwrap_or_else(|| "keyward".to_owned());
    connect = connect.application_name(&name);
    if let Some(schema) = &options.schema {
        if !is_plain_identifier(schema) {
            return Err(PostgresStorageError::BadSchema(schema.clone()));
        }
        connect = connect.options([("search_path", schema.as_str())]);
    }
    if let Some(idle) = options.tcp_keepalive {
        let idle = idle.as_secs().max(1);
        connect = connect.options([
            ("tcp_keepalives_idle", idle),
            ("tcp_keepalives_interval", (idle / 3).max(1)),
            ("tcp_keepalives_count", 3),
        ]);
    }
    Ok(connect)
}

/// Only names that need no quoting anywhere: the schema goes into `CREATE SCHEMA` and into
/// the startup `search_path` as it is.
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

async fn create_schema(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    // Without the lock, nodes starting at once race on the catalog's unique index and all but
    // one fail, IF NOT EXISTS notwithstanding.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('keyward.create_schema'))")
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
