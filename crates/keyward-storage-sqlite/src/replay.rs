//! The replay store on SQLite. One writer task owns one connection and commits inserts in
//! batches (group commit): under load, one transaction and one WAL fsync carry hundreds of
//! inserts, so the store is neither one lock nor one fsync per request. Each caller is answered
//! only after the batch holding its insert has committed, so an accepted assertion is durable.

use async_trait::async_trait;
use keyward_storage::{ReplayStore, StorageError};
use keyward_types::ClientId;
use sqlx::{sqlite::SqliteConnection, Connection, Row};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::{
    time_col::{db_err, to_col},
    SqliteStorage,
};

/// Upper bound of one batch: bounds the time a transaction holds SQLite's write lock.
const MAX_BATCH: usize = 512;

struct Insert {
    client_id: String,
    jti: String,
    expires_at: i64,
    now: i64,
    reply: oneshot::Sender<Result<bool, StorageError>>,
}

#[derive(Debug, Clone)]
pub(crate) struct ReplayWriter {
    tx: mpsc::Sender<Insert>,
}

impl ReplayWriter {
    pub(crate) fn spawn(conn: SqliteConnection) -> Self {
        // Bounded queue: under overload callers wait here instead of memory growing.
        let (tx, rx) = mpsc::channel(8 * MAX_BATCH);
        tokio::spawn(run(conn, rx));
        Self { tx }
    }
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Insert>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match commit_batch(&mut conn, &batch).await {
            Ok(fresh) => {
                for (job, fresh) in batch.drain(..).zip(fresh) {
                    let _ = job.reply.send(Ok(fresh));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "replay batch failed; rejecting its requests");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StorageError::Unavailable(e.to_string())));
                }
            }
        }
    }
}

async fn commit_batch(conn: &mut SqliteConnection, batch: &[Insert]) -> Result<Vec<bool>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let mut fresh = Vec::with_capacity(batch.len());
    for job in batch {
        // Inserts a new pair, or takes over an expired one; an unexpired row is left alone
        // and reported as a replay (0 rows changed).
        let done = sqlx::query(
            "INSERT INTO replay (client_id, jti, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at
             WHERE replay.expires_at <= ?4",
        )
        .bind(&job.client_id)
        .bind(&job.jti)
        .bind(job.expires_at)
        .bind(job.now)
        .execute(&mut *tx)
        .await?;
        fresh.push(done.rows_affected() == 1);
    }
    tx.commit().await?;
    Ok(fresh)
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
        let (reply, answer) = oneshot::channel();
        let job = Insert {
            client_id: client_id.to_string(),
            jti: jti.to_owned(),
            expires_at: to_col(expires_at),
            now: to_col(now),
            reply,
        };
        let gone = || StorageError::Unavailable("replay writer stopped".into());
        self.replay.tx.send(job).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM replay WHERE expires_at <= ?")
            .bind(to_col(now))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn replay_entries(&self) -> Result<u64, StorageError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM replay")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let n: i64 = row.try_get("n").map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
