//! Every write transaction starts with `BEGIN IMMEDIATE`, taking SQLite's write lock at once.
//!
//! A deferred `BEGIN` takes it at the first write. A transaction that read before that point
//! and finds that another connection (the replay writer, say, under token load) committed in
//! between cannot upgrade its stale snapshot: SQLite answers `SQLITE_BUSY` at once, without
//! waiting out `busy_timeout`, and the admin write would fail with 503. Waiting for the lock at
//! `BEGIN` is covered by `busy_timeout`.

use keyward_storage::StorageError;
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::time_col::db_err;

pub(crate) async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, StorageError> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)
}
