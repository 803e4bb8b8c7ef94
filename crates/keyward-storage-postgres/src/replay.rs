//! The replay store on PostgreSQL: one statement per assertion, shared by every node. The
//! primary key `(client_id, jti)` makes the insert the check; a concurrent second insert of one
//! pair waits for the first to commit and then sees it, so exactly one wins across all nodes.
//! Each statement commits on its own (`synchronous_commit` as the server has it, `on` by
//! default), so an accepted assertion is durable before the caller hears `true`.

use async_trait::async_trait;
use keyward_storage::{ReplayStore, StorageError};
use keyward_types::ClientId;
use time::OffsetDateTime;

use crate::{
    time_col::{db_err, to_col},
    PostgresStorage,
};

#[async_trait]
impl ReplayStore for PostgresStorage {
    async fn insert_once(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        // Inserts a new pair, or takes over an expired one (the row is locked and the WHERE
        // re-checked on its newest version); an unexpired row is left alone and reported as a
        // replay (0 rows changed).
        let done = sqlx::query(
            "INSERT INTO replay (client_id, jti, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
             WHERE replay.expires_at <= $4",
        )
        .bind(client_id.as_str())
        .bind(jti)
        .bind(to_col(expires_at))
        .bind(to_col(now))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM replay WHERE expires_at <= $1")
            .bind(to_col(now))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn replay_entries(&self) -> Result<u64, StorageError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM replay")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
