use thiserror::Error;

/// The cause a backend reports (a `sqlx` or `rusqlite` error, a stopped writer), kept as the
/// source of [`StorageError::Unavailable`] so logs and error chains show it.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a storage operation failed. Displays name the cause, which never holds a secret: the
/// backends' errors name tables, constraints and hosts, not the values written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("at most {limit} allowed")]
    LimitReached { limit: usize },
    #[error("not found")]
    NotFound,
    /// The backend cannot serve now: a refused or lost connection, a pool timeout, a server
    /// shutting down.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] BackendError),
    /// Stored rows that contradict each other or the schema.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A stored JSON document that does not read back as what it should be (or a value that
    /// does not write as JSON).
    #[error("stored data is corrupt: {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A stored time outside the range of a date.
    #[error("stored data is corrupt: timestamp {nanos}: {source}")]
    Timestamp {
        nanos: i64,
        #[source]
        source: time::error::ComponentRange,
    },
}

impl StorageError {
    /// [`StorageError::Unavailable`] caused by `source`.
    pub fn unavailable(source: impl Into<BackendError>) -> Self {
        StorageError::Unavailable(source.into())
    }

    /// A `map_err` for the JSON of `what`, stored or about to be.
    pub fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| StorageError::Json { what, source }
    }
}
