//! Every write transaction starts with `BEGIN IMMEDIATE`, taking SQLite's write lock at once,
//! after waiting its turn in an in-process queue.
//!
//! A deferred `BEGIN` takes the lock at the first write. A transaction that read before that
//! point and finds that another connection (the replay writer, say, under token load) committed
//! in between cannot upgrade its stale snapshot: SQLite answers `SQLITE_BUSY` at once, without
//! waiting out `busy_timeout`, and the admin write would fail with 503.
//!
//! The queue: SQLite has one writer at a time, and a connection that finds the lock taken waits
//! in its busy handler, which sleeps 1, 2, 5 … 100 ms between tries instead of queueing, while
//! holding one of the pool's few connections. Under the code flow's write load (a code per
//! `/authorize`, a grant per exchange, a rotation per refresh) those sleeps made p99 reach
//! hundreds of milliseconds with the core idle. Writers of this process now wait on an async
//! mutex before they take a connection, and run one after the other; `busy_timeout` still
//! covers the replay writer's own connection.

use std::{
    ops::{Deref, DerefMut},
    sync::Arc,
};

use keyward_storage::StorageError;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::time_col::db_err;

/// The turn of this process's writers.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteQueue(Arc<Mutex<()>>);

/// A write transaction, holding its writer's turn until it commits or is dropped.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: OwnedMutexGuard<()>,
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

pub(crate) async fn begin_write(pool: &SqlitePool, queue: &WriteQueue) -> Result<WriteTx, StorageError> {
    let turn = queue.0.clone().lock_owned().await;
    let tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    Ok(WriteTx { tx, _turn: turn })
}
