//! The replay store on SQLite: an append-only table (`replay_log`) for durability and an
//! in-memory index for the check.
//!
//! Why not one table keyed by `(client_id, jti)`: jtis are random, so every insert would land
//! on a random leaf of that B-tree and each commit would write one 4 KiB WAL page per
//! assertion, more CPU than verifying the assertion, growing with the number of live entries.
//! Appending in `seq` order dirties the last page or two per batch, whatever the table holds;
//! the "seen before?" question goes to the index. BENCHMARKS.md has the measurements.
//!
//! The guarantees stay those of [`ReplayStore`]: an accepted pair is durable (WAL,
//! `synchronous=FULL`) before `insert_once` returns, a restart reloads the index from the
//! table, and two processes on one file never both accept a pair (the writer reads the other's
//! rows under the write lock before deciding).

mod index;
mod staging;
mod writer;

use std::{path::Path, sync::Arc};

use async_trait::async_trait;
use keyward_storage::{ReplayStore, StorageError};
use keyward_types::ClientId;
use sqlx::Row;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::{
    time_col::{db_err, to_col},
    SqliteStorage, SqliteStorageError,
};
use index::Index;
use staging::Staging;
use writer::{Claim, Job};

#[derive(Clone)]
pub(crate) struct Replay {
    index: Arc<Index>,
    staging: Arc<Staging>,
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Replay")
    }
}

impl Replay {
    pub(crate) fn start(file: &Path) -> Result<Self, SqliteStorageError> {
        let index = Arc::new(Index::new());
        let jobs = writer::start(file, index.clone())?;
        Ok(Self {
            index,
            staging: Arc::new(Staging::new(jobs.clone())),
            jobs,
        })
    }

    /// Waits for the writer's answer to a job already handed over; a dropped reply means the
    /// writer has stopped.
    async fn answer<T>(answer: oneshot::Receiver<Result<T, StorageError>>) -> Result<T, StorageError> {
        answer.await.map_err(|_| stopped())?
    }
}

/// Why the replay store cannot answer, as the cause of [`StorageError::Unavailable`].
#[derive(Debug, Error)]
pub(crate) enum ReplayError {
    #[error("replay writer stopped")]
    Stopped,
    /// One failed batch answers every claim in it, so the cause is shared.
    #[error("replay store: {0}")]
    Sqlite(#[source] Arc<rusqlite::Error>),
}

fn stopped() -> StorageError {
    StorageError::unavailable(ReplayError::Stopped)
}

#[async_trait]
impl ReplayStore for SqliteStorage {
    async fn insert_once(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        let fp = self.replay.index.fingerprint(client_id.as_str(), jti);
        let now = to_col(now);
        // A live entry is final: entries are never removed before they expire, so a replay is
        // refused here without a trip to the writer. Everything else the writer decides.
        if self.replay.index.is_live(fp, now) {
            return Ok(false);
        }
        let (reply, answer) = oneshot::channel();
        let claim = Claim {
            fp,
            client_id: client_id.to_string(),
            jti: jti.to_owned(),
            expires_at: to_col(expires_at),
            now,
            reply,
        };
        self.replay.staging.push(claim).await;
        Replay::answer(answer).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StorageError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Purge {
            now: to_col(now),
            reply,
        };
        self.replay.jobs.send(job).await.map_err(|_| stopped())?;
        Replay::answer(answer).await
    }

    async fn replay_entries(&self) -> Result<u64, StorageError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM replay_log")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let n: i64 = row.try_get("n").map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
