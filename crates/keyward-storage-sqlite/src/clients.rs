use async_trait::async_trait;
use keyward_storage::{
    AuditEvent, ClientQuery, ClientStore, CredentialStore, ExpiringSecret, SecretStore, StorageError,
};
use keyward_types::{Client, ClientEntry, ClientId, Credential, StoredSecret};
use sqlx::{Row, Sqlite};
use time::OffsetDateTime;

use crate::{
    audit,
    load_client::parse_client,
    time_col::{db_err, from_col, to_col},
    SqliteStorage,
};

/// One statement that must change a row, with its audit event, in one transaction:
/// `NotFound` (and nothing written) when no row matched.
async fn change_one_row<'q>(
    pool: &sqlx::SqlitePool,
    writes: &crate::write_tx::WriteQueue,
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    audit: &AuditEvent,
) -> Result<(), StorageError> {
    let mut tx = crate::write_tx::begin_write(pool, writes).await?;
    if query.execute(&mut *tx).await.map_err(db_err)?.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    audit::insert(&mut tx, audit).await?;
    tx.commit().await.map_err(db_err)
}

fn metadata(client: &Client) -> Result<String, StorageError> {
    serde_json::to_string(client).map_err(StorageError::json("client metadata"))
}

async fn insert_secret(
    tx: &mut sqlx::SqliteConnection,
    client_id: &ClientId,
    s: &StoredSecret,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO client_secrets (id, client_id, hash, created_at, expires_at, encrypted, not_after) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&s.id)
    .bind(client_id.as_str())
    .bind(s.hash.as_bytes().as_slice())
    .bind(to_col(s.created_at))
    .bind(s.expires_at.map(to_col))
    .bind(s.encrypted.as_deref())
    .bind(s.not_after.map(to_col))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn insert_credential(
    tx: &mut sqlx::SqliteConnection,
    client_id: &ClientId,
    c: &Credential,
) -> Result<(), StorageError> {
    let data = serde_json::to_string(c).map_err(StorageError::json("credential"))?;
    sqlx::query("INSERT INTO credentials (id, client_id, kid, thumbprint, data, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(&c.id)
        .bind(client_id.as_str())
        .bind(&c.kid)
        .bind(&c.thumbprint)
        .bind(data)
        .bind(to_col(c.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// A page of clients in `client_id` order; with a search pattern (bound for each `?` of the
/// condition), only those whose id or name contains it, ignoring case. A substring cannot seek:
/// the ids are found by scanning the `(client_id, client_name)` index in key order until the
/// page is full (named, since the planner would rather walk the rows, metadata and all), then
/// their rows are read.
const LIST: &str = r"
    SELECT metadata FROM clients
    WHERE client_id IN (
        SELECT client_id FROM clients INDEXED BY clients_search
        WHERE client_id > ?
          AND (? IS NULL
               OR lower(client_id) LIKE lower(?) ESCAPE '\'
               OR lower(client_name) LIKE lower(?) ESCAPE '\')
        ORDER BY client_id
        LIMIT ?)
    ORDER BY client_id";

impl SqliteStorage {
    /// A client with all its secrets and credentials, and the audit event, in one transaction.
    async fn insert_full(
        &self,
        client: &Client,
        secrets: impl Iterator<Item = &StoredSecret> + Send,
        credentials: &[Credential],
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        sqlx::query("INSERT INTO clients (client_id, metadata, created_at) VALUES (?, ?, ?)")
            .bind(client.client_id.as_str())
            .bind(metadata(client)?)
            .bind(to_col(client.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for s in secrets {
            insert_secret(&mut tx, &client.client_id, s).await?;
        }
        for c in credentials {
            insert_credential(&mut tx, &client.client_id, c).await?;
        }
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl ClientStore for SqliteStorage {
    async fn insert_client(
        &self,
        client: &Client,
        secret: Option<&StoredSecret>,
        credentials: &[Credential],
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        self.insert_full(client, secret.into_iter(), credentials, audit)
            .await
    }

    async fn restore_client(&self, entry: &ClientEntry, audit: &AuditEvent) -> Result<(), StorageError> {
        self.insert_full(&entry.client, entry.secrets.iter(), &entry.credentials, audit)
            .await
    }

    async fn load_client(&self, client_id: &ClientId) -> Result<Option<ClientEntry>, StorageError> {
        crate::load_client::load(&self.pool, client_id).await
    }

    async fn list_clients(&self, query: &ClientQuery) -> Result<Vec<Client>, StorageError> {
        let pattern = query.like_pattern();
        let rows = sqlx::query(LIST)
            .bind(query.after.as_ref().map(ClientId::as_str).unwrap_or(""))
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(i64::from(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| parse_client(r.try_get("metadata").map_err(db_err)?))
            .collect()
    }

    async fn update_client(&self, client: &Client, audit: &AuditEvent) -> Result<(), StorageError> {
        let query = sqlx::query("UPDATE clients SET metadata = ? WHERE client_id = ?")
            .bind(metadata(client)?)
            .bind(client.client_id.as_str());
        change_one_row(&self.pool, &self.writes, query, audit).await
    }

    async fn delete_client(&self, client_id: &ClientId, audit: &AuditEvent) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        for sql in [
            "DELETE FROM client_secrets WHERE client_id = ?",
            "DELETE FROM credentials WHERE client_id = ?",
        ] {
            sqlx::query(sql)
                .bind(client_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let done = sqlx::query("DELETE FROM clients WHERE client_id = ?")
            .bind(client_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl SecretStore for SqliteStorage {
    async fn rotate_secret(
        &self,
        client_id: &ClientId,
        new: &StoredSecret,
        previous_valid_until: OffsetDateTime,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        let exists = sqlx::query("SELECT 1 FROM clients WHERE client_id = ?")
            .bind(client_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StorageError::NotFound);
        }
        // Secrets already in a grace period go now: at most two may ever be valid.
        sqlx::query("DELETE FROM client_secrets WHERE client_id = ? AND expires_at IS NOT NULL")
            .bind(client_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if previous_valid_until > now {
            sqlx::query(
                "UPDATE client_secrets SET expires_at = ? WHERE client_id = ? AND expires_at IS NULL",
            )
            .bind(to_col(previous_valid_until))
            .bind(client_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        } else {
            sqlx::query("DELETE FROM client_secrets WHERE client_id = ?")
                .bind(client_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        insert_secret(&mut tx, client_id, new).await?;
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn update_client_with_secret(
        &self,
        client: &Client,
        secret: &StoredSecret,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let id = &client.client_id;
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        let updated = sqlx::query("UPDATE clients SET metadata = ? WHERE client_id = ?")
            .bind(metadata(client)?)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        sqlx::query("DELETE FROM client_secrets WHERE client_id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_secret(&mut tx, id, secret).await?;
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn secrets_expiring_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ExpiringSecret>, StorageError> {
        let rows = sqlx::query(
            "SELECT client_id, not_after FROM client_secrets \
             WHERE not_after IS NOT NULL AND not_after < ? AND expires_at IS NULL \
             ORDER BY not_after, client_id LIMIT ?",
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

#[async_trait]
impl CredentialStore for SqliteStorage {
    async fn add_credentials(
        &self,
        client_id: &ClientId,
        credentials: &[Credential],
        max: usize,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let mut tx = crate::write_tx::begin_write(&self.pool, &self.writes).await?;
        // The first write takes SQLite's write lock, so the count below sees every concurrent
        // addition that committed before, and none can commit in between.
        let exists = sqlx::query("UPDATE clients SET client_id = client_id WHERE client_id = ?")
            .bind(client_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if exists == 0 {
            return Err(StorageError::NotFound);
        }
        for c in credentials {
            insert_credential(&mut tx, client_id, c).await?;
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials WHERE client_id = ?")
            .bind(client_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if usize::try_from(count).unwrap_or(usize::MAX) > max {
            return Err(StorageError::LimitReached { limit: max });
        }
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn update_credential(
        &self,
        client_id: &ClientId,
        credential: &Credential,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let data = serde_json::to_string(credential).map_err(StorageError::json("credential"))?;
        let query = sqlx::query("UPDATE credentials SET data = ? WHERE id = ? AND client_id = ?")
            .bind(data)
            .bind(&credential.id)
            .bind(client_id.as_str());
        change_one_row(&self.pool, &self.writes, query, audit).await
    }

    async fn delete_credential(
        &self,
        client_id: &ClientId,
        credential_id: &str,
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let query = sqlx::query("DELETE FROM credentials WHERE id = ? AND client_id = ?")
            .bind(credential_id)
            .bind(client_id.as_str());
        change_one_row(&self.pool, &self.writes, query, audit).await
    }
}
