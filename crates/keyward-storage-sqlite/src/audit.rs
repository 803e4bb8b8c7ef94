use async_trait::async_trait;
use keyward_storage::{ActionFilter, AuditEvent, AuditQuery, AuditRecord, AuditStore, StorageError};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::{
    time_col::{db_err, from_col, to_col},
    SqliteStorage,
};

pub(crate) async fn insert(tx: &mut sqlx::SqliteConnection, e: &AuditEvent) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(to_col(e.at))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.target)
    .bind(&e.outcome)
    .bind(e.detail.to_string())
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl AuditStore for SqliteStorage {
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        insert(&mut tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StorageError> {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT id, at, actor, action, target, outcome, detail FROM audit_events WHERE id < ",
        );
        sql.push_bind(q.before.unwrap_or(i64::MAX));
        if let Some(target) = &q.target {
            sql.push(" AND target = ").push_bind(target);
        }
        if let Some(actor) = &q.actor {
            sql.push(" AND actor = ").push_bind(actor);
        }
        match &q.action {
            Some(ActionFilter::Exact(a)) => {
                sql.push(" AND action = ").push_bind(a);
            }
            // `substr`, not LIKE: LIKE folds case and gives `_` and `%` a meaning.
            Some(ActionFilter::Prefix(p)) => {
                sql.push(" AND substr(action, 1, ")
                    .push_bind(i64::try_from(p.chars().count()).unwrap_or(i64::MAX))
                    .push(") = ")
                    .push_bind(p);
            }
            None => {}
        }
        if let Some(since) = q.since {
            sql.push(" AND at >= ").push_bind(to_col(since));
        }
        if let Some(until) = q.until {
            sql.push(" AND at < ").push_bind(to_col(until));
        }
        sql.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(q.limit));
        let rows = sql.build().fetch_all(&self.pool).await.map_err(db_err)?;
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
