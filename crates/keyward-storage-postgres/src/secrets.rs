use async_trait::async_trait;
use keyward_storage::{AuditEvent, SecretStore, StorageError};
use keyward_types::{ClientId, StoredSecret};
use time::OffsetDateTime;

use crate::{
    time_col::{db_err, to_col},
    write::{begin, client_changed, commit, lock_client, Tx},
    PostgresStorage,
};

pub(crate) async fn insert_secret(
    tx: &mut Tx,
    client_id: &ClientId,
    s: &StoredSecret,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO client_secrets (id, client_id, hash, created_at, expires_at, encrypted)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&s.id)
    .bind(client_id.as_str())
    .bind(s.hash.as_bytes().as_slice())
    .bind(to_col(s.created_at))
    .bind(s.expires_at.map(to_col))
    .bind(s.encrypted.as_deref())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl SecretStore for PostgresStorage {
    async fn rotate_secret(
        &self,
        client_id: &ClientId,
        new: &StoredSecret,
        previous_valid_until: OffsetDateTime,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let mut tx = begin(&self.pool).await?;
        // Two nodes rotating one client at once would otherwise both keep "the" current secret
        // and leave three valid.
        lock_client(&mut tx, client_id).await?;
        // Secrets already in a grace period go now: at most two may ever be valid. The current
        // one starts its grace period, or goes too when there is none.
        let graced = previous_valid_until > now;
        sqlx::query("DELETE FROM client_secrets WHERE client_id = $1 AND (expires_at IS NOT NULL OR NOT $2)")
            .bind(client_id.as_str())
            .bind(graced)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("UPDATE client_secrets SET expires_at = $1 WHERE client_id = $2 AND expires_at IS NULL")
            .bind(to_col(previous_valid_until))
            .bind(client_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_secret(&mut tx, client_id, new).await?;
        commit(tx, Some(audit), &client_changed(client_id)).await
    }
}
