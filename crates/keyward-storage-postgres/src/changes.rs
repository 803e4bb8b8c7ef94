//! The change feed over PostgreSQL `LISTEN/NOTIFY`: writes announce themselves with
//! `pg_notify` in their own transaction (see `write.rs`), which PostgreSQL delivers at commit
//! to every node listening, this one included.

use async_trait::async_trait;
use keyward_storage::{Change, ChangeFeed, StorageError};
use sqlx::PgExecutor;
use tokio::sync::mpsc;

use crate::{listener, time_col::db_err, PostgresStorage};

pub(crate) async fn notify<'e>(conn: impl PgExecutor<'e>, change: &Change) -> Result<(), StorageError> {
    let payload = serde_json::to_string(change).map_err(StorageError::json("change"))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(listener::CHANNEL)
        .bind(payload)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ChangeFeed for PostgresStorage {
    async fn announce(&self, change: &Change) -> Result<(), StorageError> {
        notify(&self.pool, change).await
    }

    /// Listens before returning when the database is reachable, so every change committed
    /// after this returns is delivered. When it is not, the receiver is returned anyway and
    /// yields [`Change::All`] once the listener is connected.
    async fn subscribe(&self) -> Result<Option<mpsc::Receiver<Change>>, StorageError> {
        Ok(Some(
            listener::spawn(
                self.listen_options.clone(),
                self.connect_timeout,
                self.listen_heartbeat,
            )
            .await,
        ))
    }
}
