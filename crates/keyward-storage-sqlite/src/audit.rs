use async_trait::async_trait;
use keyward_storage::{AuditEvent, AuditRecord, AuditStore, StorageError};
use sqlx::{Row, Sqlite, Transaction};

use crate::{
    time_col::{db_err, from_col, to_col},
    SqliteStorage,
};

pub(crate) async fn insert(tx: &mut Transaction<'_, Sqlite>, e: &AuditEvent) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(to_col(e.at))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.target)
    .bind(&e.outcome)
    .bind(e.detail.to_string())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl AuditStore for SqliteStorage {
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool).await?;
        insert(&mut tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, outcome, detail FROM audit_events
             WHERE id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                let detail: String = r.try_get("detail").map_err(db_err)?;
                Ok(AuditRecord {
                    id: r.try_get("id").map_err(db_err)?,
                    event: AuditEvent {
                        at: from_col(r.try_get("at").map_err(db_err)?)?,
                        actor: r.try_get("actor").map_err(db_err)?,
                        action: r.try_get("action").map_err(db_err)?,
                        target: r.try_get("target").map_err(db_err)?,
                        outcome: r.try_get("outcome").map_err(db_err)?,
                        detail: serde_json::from_str(&detail).map_err(StorageError::json("audit detail"))?,
                    },
                })
            })
            .collect()
    }
}
