use async_trait::async_trait;
use keyward_storage::{AuditEvent, ExpiringSecret, SecretStore, StorageError};
use keyward_types::{Client, ClientId, StoredSecret};
use sqlx::Row;
use time::OffsetDateTime;

use crate::{
    time_col::{db_err, from_col, to_col},
    write::{begin, client_changed, commit, lock_client, Tx},
    PostgresStorage,
};

pub(crate) async fn insert_secret(
    tx: &mut Tx,
    client_id: &ClientId,
    s: &StoredSecret,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO client_secrets (id, client_id, hash, created_at, expires_at, encrypted, not_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id)
    .bind(client_id.as_str())
    .bind(s.hash.as_bytes().as_slice())
    .bind(to_col(s.created_at))
    .bind(s.expires_at.map(to_col))
    .bind(s.encrypted.as_deref())
    .bind(s.not_after.map(to_col))
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

    async fn update_client_with_secret(
        &self,
        client: &Client,
        secret: &StoredSecret,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let id = &client.client_id;
        let mut tx = begin(&self.pool).await?;
        lock_client(&mut tx, id).await?;
        let metadata = serde_json::to_string(client).map_err(StorageError::json("client metadata"))?;
        sqlx::query("UPDATE clients SET metadata = $1 WHERE client_id = $2")
            .bind(metadata)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM client_secrets WHERE client_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_secret(&mut tx, id, secret).await?;
        commit(tx, Some(audit), &client_changed(id)).await
    }

    async fn secrets_expiring_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ExpiringSecret>, StorageError> {
        let rows = sqlx::query(
            "SELECT client_id, not_after FROM client_secrets
             WHERE not_after IS NOT NULL AND not_after < $1 AND expires_at IS NULL
             ORDER BY not_after, client_id LIMIT $2",
        )
        .bind(to_col(before))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let id: &str = r.try_get("client_id").map_err(db_err)?;
                ExpiringSecret::from_row(id, from_col(r.try_get("not_after").map_err(db_err)?)?)
            })
            .collect()
    }
}
