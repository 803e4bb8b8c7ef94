//! How every write ends: its audit record and its change announcement go in the write's own
//! transaction, so a committed change is always recorded and announced to the other nodes, and
//! a failed one is neither.

use keyward_storage::{AuditEvent, Change, StorageError};
use keyward_types::ClientId;
use sqlx::{postgres::PgArguments, query::Query, PgPool, Postgres, Transaction};

use crate::{
    changes,
    time_col::{db_err, to_col},
};

pub(crate) type Tx = Transaction<'static, Postgres>;

pub(crate) async fn begin(pool: &PgPool) -> Result<Tx, StorageError> {
    pool.begin().await.map_err(db_err)
}

/// Records `audit` (if any), announces `change`, and commits. `NOTIFY` is delivered at commit,
/// so listeners never hear of a change they cannot yet read.
pub(crate) async fn commit(
    mut tx: Tx,
    audit: Option<&AuditEvent>,
    change: &Change,
) -> Result<(), StorageError> {
    if let Some(event) = audit {
        insert_audit(&mut tx, event).await?;
    }
    changes::notify(&mut *tx, change).await?;
    tx.commit().await.map_err(db_err)
}

/// Locks the client's row until the transaction ends, so writes that must see a client's
/// whole state (rotation, the credential limit) run one at a time per client across all
/// nodes. `NotFound` if there is no such client.
pub(crate) async fn lock_client(tx: &mut Tx, client_id: &ClientId) -> Result<(), StorageError> {
    sqlx::query("SELECT 1 FROM clients WHERE client_id = $1 FOR UPDATE")
        .bind(client_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?
        .map(|_| ())
        .ok_or(StorageError::NotFound)
}

/// One statement that must change a row of `client_id`'s, with its audit event and
/// announcement: `NotFound` (and nothing written) when no row matched.
pub(crate) async fn change_one_row<'q>(
    pool: &PgPool,
    query: Query<'q, Postgres, PgArguments>,
    client_id: &ClientId,
    audit: &AuditEvent,
) -> Result<(), StorageError> {
    let mut tx = begin(pool).await?;
    if query.execute(&mut *tx).await.map_err(db_err)?.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    commit(tx, Some(audit), &client_changed(client_id)).await
}

pub(crate) fn client_changed(client_id: &ClientId) -> Change {
    Change::Client {
        client_id: client_id.to_string(),
    }
}

/// One audit record, inside the caller's transaction.
pub(crate) async fn insert_audit(tx: &mut Tx, e: &AuditEvent) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)",
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
