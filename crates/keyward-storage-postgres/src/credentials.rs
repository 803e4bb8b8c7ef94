use async_trait::async_trait;
use keyward_storage::{AuditEvent, CredentialStore, StorageError};
use keyward_types::{ClientId, Credential};

use crate::{
    time_col::{db_err, to_col},
    write::{begin, change_one_row, client_changed, commit, lock_client, Tx},
    PostgresStorage,
};

fn data(c: &Credential) -> Result<String, StorageError> {
    serde_json::to_string(c).map_err(StorageError::json("credential"))
}

/// `Conflict` (from the unique constraints) when the client already lists the key or the kid.
pub(crate) async fn insert_credential(
    tx: &mut Tx,
    client_id: &ClientId,
    c: &Credential,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO credentials (id, client_id, kid, thumbprint, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.id)
    .bind(client_id.as_str())
    .bind(&c.kid)
    .bind(&c.thumbprint)
    .bind(data(c)?)
    .bind(to_col(c.created_at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl CredentialStore for PostgresStorage {
    async fn add_credentials(
        &self,
        client_id: &ClientId,
        credentials: &[Credential],
        max: usize,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let mut tx = begin(&self.pool).await?;
        // With the client's row locked, two batches for one client (from any nodes) cannot
        // both count the list before either adds to it and so pass `max` together.
        lock_client(&mut tx, client_id).await?;
        // Inserting before counting makes a duplicate a Conflict even in a batch that would
        // also be too large: the more specific answer.
        for c in credentials {
            insert_credential(&mut tx, client_id, c).await?;
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials WHERE client_id = $1")
            .bind(client_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if usize::try_from(count).unwrap_or(usize::MAX) > max {
            return Err(StorageError::LimitReached { limit: max });
        }
        commit(tx, Some(audit), &client_changed(client_id)).await
    }

    async fn update_credential(
        &self,
        client_id: &ClientId,
        credential: &Credential,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let query = sqlx::query("UPDATE credentials SET data = $1 WHERE id = $2 AND client_id = $3")
            .bind(data(credential)?)
            .bind(&credential.id)
            .bind(client_id.as_str());
        change_one_row(&self.pool, query, client_id, audit).await
    }

    async fn delete_credential(
        &self,
        client_id: &ClientId,
        credential_id: &str,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let query = sqlx::query("DELETE FROM credentials WHERE id = $1 AND client_id = $2")
            .bind(credential_id)
            .bind(client_id.as_str());
        change_one_row(&self.pool, query, client_id, audit).await
    }
}
