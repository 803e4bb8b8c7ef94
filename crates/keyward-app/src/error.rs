use keyward_admin::AdminError;
use keyward_server::{ConfigError, KeyringError, ServeError};
use keyward_storage::StorageError;
use keyward_storage_postgres::PostgresStorageError;
use keyward_storage_sqlite::SqliteStorageError;
use keyward_types::TypeError;
use thiserror::Error;

/// Why keyward could not start, or could not open what an operation on the database needs.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("storage: unsupported database_url scheme '{scheme}'; use sqlite://PATH or postgres://…")]
    UnsupportedDatabase { scheme: String },
    #[error("storage: {0}")]
    Sqlite(#[from] SqliteStorageError),
    #[error("storage: {0}")]
    Postgres(#[from] PostgresStorageError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// A signing key could not be written (its algorithm, its generation, its sealing, or the
    /// store).
    #[error("keys: {0}")]
    SigningKey(#[source] AdminError),
    /// The bootstrap admin client's id or scope is refused by its own type.
    #[error("bootstrap admin client: {0}")]
    Bootstrap(#[source] TypeError),
    #[error("bootstrap admin client: cannot generate its secret: the random number generator failed")]
    BootstrapSecret(#[source] aws_lc_rs::error::Unspecified),
    #[error("bootstrap admin client: cannot draw a secret id: the random number generator failed")]
    BootstrapSecretId(#[source] aws_lc_rs::error::Unspecified),
    /// The configured first user (`admin_username`, `admin_password`) breaks a user rule, or
    /// its password could not be hashed.
    #[error("bootstrap admin user: {0}")]
    BootstrapUser(#[source] keyward_admin::AdminError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A data directory or database file whose mode could not be made owner-only (or which
    /// could not be created or read).
    #[error("files: cannot {action} {path}: {source}")]
    Files {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}
