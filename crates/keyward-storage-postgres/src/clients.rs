use async_trait::async_trait;
use keyward_storage::{
    client_entry_from_rows, AuditEvent, ClientQuery, ClientRow, ClientStore, StorageError,
};
use keyward_types::{Client, ClientEntry, ClientId, Credential, SecretHash, StoredSecret};
use sqlx::{postgres::PgRow, Row};

use crate::{
    credentials::insert_credential,
    secrets::insert_secret,
    time_col::{db_err, from_col, to_col},
    write::{begin, change_one_row, client_changed, commit},
    PostgresStorage,
};

/// The metadata is kept as the serde_json text it was written as (not JSONB, which would
/// normalise it), so a client loads exactly as it was stored.
fn metadata(client: &Client) -> Result<String, StorageError> {
    serde_json::to_string(client).map_err(StorageError::json("client metadata"))
}

fn parse_client(row: &PgRow) -> Result<Client, StorageError> {
    let json: &str = row.try_get("metadata").map_err(db_err)?;
    serde_json::from_str(json).map_err(StorageError::json("client metadata"))
}

fn parse_secret(r: &PgRow) -> Result<StoredSecret, StorageError> {
    let hash: Vec<u8> = r.try_get("hash").map_err(db_err)?;
    let expires_at: Option<i64> = r.try_get("expires_at").map_err(db_err)?;
    let not_after: Option<i64> = r.try_get("not_after").map_err(db_err)?;
    Ok(StoredSecret {
        id: r.try_get("id").map_err(db_err)?,
        hash: SecretHash::from_bytes(&hash)
            .ok_or_else(|| StorageError::Corrupt("secret hash length".into()))?,
        created_at: from_col(r.try_get("created_at").map_err(db_err)?)?,
        expires_at: expires_at.map(from_col).transpose()?,
        not_after: not_after.map(from_col).transpose()?,
        encrypted: r.try_get("encrypted").map_err(db_err)?,
    })
}

fn parse_credential(r: &PgRow) -> Result<Credential, StorageError> {
    let data: &str = r.try_get("data").map_err(db_err)?;
    serde_json::from_str(data).map_err(StorageError::json("credential"))
}

/// The token path's read of one client, as one statement so that it sees one snapshot (a
/// rotation or credential change committed meanwhile is seen whole or not at all) and costs one
/// round trip. Rows of the kinds of [`ClientRow`] (0 client, 1 secret, 2 credential) in the
/// order `client_entry_from_rows` expects; each kind fills its own columns, named as the
/// parsers above read them.
const LOAD: &str = "
SELECT 0 AS kind, metadata, NULL::text AS id, NULL::bytea AS hash, NULL::bigint AS created_at,
       NULL::bigint AS expires_at, NULL::bytea AS encrypted, NULL::bigint AS not_after,
       NULL::text AS data,
       0::bigint AS sort_at, ''::text AS sort_id
  FROM clients WHERE client_id = $1
UNION ALL
SELECT 1, NULL, id, hash, created_at, expires_at, encrypted, not_after, NULL, -created_at, id
  FROM client_secrets WHERE client_id = $1
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, data, created_at, id
  FROM credentials WHERE client_id = $1
ORDER BY kind, sort_at, sort_id";

fn kind(row: &PgRow) -> Result<i64, StorageError> {
    row.try_get::<i32, _>("kind").map(i64::from).map_err(db_err)
}

/// A page of clients in `client_id` order; with a search pattern, only those whose id or name
/// contains it, ignoring case. A substring cannot use a B-tree index: the search scans rows in
/// key order until the page is full, reading the stored `client_name` column, never the JSON.
const LIST: &str = r"
    SELECT metadata FROM clients
    WHERE client_id > $1
      AND ($2::text IS NULL OR client_id ILIKE $2 ESCAPE '\' OR client_name ILIKE $2 ESCAPE '\')
    ORDER BY client_id
    LIMIT $3";

impl PostgresStorage {
    /// A client with all its secrets and credentials, its audit event and its announcement, in
    /// one transaction.
    async fn insert_full(
        &self,
        client: &Client,
        secrets: impl Iterator<Item = &StoredSecret> + Send,
        credentials: &[Credential],
        audit: &AuditEvent,
    ) -> Result<(), StorageError> {
        let mut tx = begin(&self.pool).await?;
        sqlx::query("INSERT INTO clients (client_id, metadata, created_at) VALUES ($1, $2, $3)")
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
        commit(tx, Some(audit), &client_changed(&client.client_id)).await
    }
}

#[async_trait]
impl ClientStore for PostgresStorage {
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
        let rows = sqlx::query(LOAD)
            .bind(client_id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        client_entry_from_rows(rows.iter().map(|row| match kind(row)? {
            ClientRow::CLIENT => parse_client(row).map(ClientRow::Client),
            ClientRow::SECRET => parse_secret(row).map(ClientRow::Secret),
            ClientRow::CREDENTIAL => parse_credential(row).map(ClientRow::Credential),
            other => Err(ClientRow::unknown_kind(other)),
        }))
    }

    async fn list_clients(&self, query: &ClientQuery) -> Result<Vec<Client>, StorageError> {
        let rows = sqlx::query(LIST)
            .bind(query.after.as_ref().map(ClientId::as_str).unwrap_or(""))
            .bind(query.like_pattern())
            .bind(i64::from(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(parse_client).collect()
    }

    async fn update_client(&self, client: &Client, audit: &AuditEvent) -> Result<(), StorageError> {
        let query = sqlx::query("UPDATE clients SET metadata = $1 WHERE client_id = $2")
            .bind(metadata(client)?)
            .bind(client.client_id.as_str());
        change_one_row(&self.pool, query, &client.client_id, audit).await
    }

    /// Secrets and credentials go with the client (`ON DELETE CASCADE`).
    async fn delete_client(&self, client_id: &ClientId, audit: &AuditEvent) -> Result<(), StorageError> {
        let query = sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id.as_str());
        change_one_row(&self.pool, query, client_id, audit).await
    }
}
