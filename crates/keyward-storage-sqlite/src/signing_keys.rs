use async_trait::async_trait;
use keyward_storage::{SigningKeyAudit, SigningKeyRecord, SigningKeyStore, StorageError, TouchedKey};
use sqlx::{sqlite::SqliteRow, Row};
use time::OffsetDateTime;

use crate::{
    time_col::{db_err, from_col, to_col},
    SqliteStorage,
};

#[async_trait]
impl SigningKeyStore for SqliteStorage {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT kid, alg, encrypted_key, created_at, retire_at FROM signing_keys ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                let retire_at: Option<i64> = r.try_get("retire_at").map_err(db_err)?;
                Ok(SigningKeyRecord {
                    kid: r.try_get("kid").map_err(db_err)?,
                    alg: r.try_get("alg").map_err(db_err)?,
                    encrypted_key: r.try_get("encrypted_key").map_err(db_err)?,
                    created_at: from_col(r.try_get("created_at").map_err(db_err)?)?,
                    retire_at: retire_at.map(from_col).transpose()?,
                })
            })
            .collect()
    }

    async fn add_signing_key(
        &self,
        key: &SigningKeyRecord,
        retire_others_at: OffsetDateTime,
        now: OffsetDateTime,
        audit: &SigningKeyAudit,
    ) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        let deleted = sqlx::query(
            "DELETE FROM signing_keys WHERE retire_at IS NOT NULL AND retire_at <= ? RETURNING kid, alg",
        )
        .bind(to_col(now))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let retired =
            sqlx::query("UPDATE signing_keys SET retire_at = ? WHERE retire_at IS NULL RETURNING kid, alg")
                .bind(to_col(retire_others_at))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
        insert(&mut tx, key).await?;
        let events = audit.events(key, &touched(retired)?, retire_others_at, &touched(deleted)?);
        for event in &events {
            crate::audit::insert(&mut tx, event).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn restore_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        insert(&mut tx, key).await?;
        tx.commit().await.map_err(db_err)
    }
}

async fn insert(tx: &mut sqlx::SqliteConnection, key: &SigningKeyRecord) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, encrypted_key, created_at, retire_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(&key.encrypted_key)
    .bind(to_col(key.created_at))
    .bind(key.retire_at.map(to_col))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The keys named by a `RETURNING kid, alg`.
fn touched(rows: Vec<SqliteRow>) -> Result<Vec<TouchedKey>, StorageError> {
    rows.into_iter()
        .map(|r| {
            Ok(TouchedKey {
                kid: r.try_get("kid").map_err(db_err)?,
                alg: r.try_get("alg").map_err(db_err)?,
            })
        })
        .collect()
}
