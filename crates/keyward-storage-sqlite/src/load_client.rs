//! The token path's read of one client: the client, its secrets and its credentials in one
//! statement.
//!
//! One statement rather than three: SQLite runs a statement against one snapshot, so a secret
//! rotation or a credential change committed meanwhile is seen whole or not at all (three
//! separate reads outside a transaction could mix before and after). And each statement is a
//! round trip to sqlx's connection thread, which on a cache miss cost more than the reads.

use keyward_storage::{client_entry_from_rows, ClientRow, StorageError};
use keyward_types::{Client, ClientEntry, ClientId, Credential, SecretHash, StoredSecret};
use sqlx::{sqlite::SqliteRow, Row};

use crate::time_col::{db_err, from_col};

/// Rows of the kinds of [`ClientRow`] (0 client, 1 secret, 2 credential) in the order
/// `client_entry_from_rows` expects. Columns a kind does not use are NULL.
const LOAD: &str = "
SELECT 0 AS kind, metadata AS text, NULL AS hash, NULL AS created_at, NULL AS expires_at,
       NULL AS encrypted, NULL AS not_after, 0 AS sort_at, '' AS sort_id
  FROM clients WHERE client_id = ?1
UNION ALL
SELECT 1, id, hash, created_at, expires_at, encrypted, not_after, -created_at, id
  FROM client_secrets WHERE client_id = ?1
UNION ALL
SELECT 2, data, NULL, NULL, NULL, NULL, NULL, created_at, id
  FROM credentials WHERE client_id = ?1
ORDER BY kind, sort_at, sort_id";

pub(crate) async fn load(
    pool: &sqlx::SqlitePool,
    client_id: &ClientId,
) -> Result<Option<ClientEntry>, StorageError> {
    let rows = sqlx::query(LOAD)
        .bind(client_id.as_str())
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    client_entry_from_rows(rows.iter().map(|row| match kind(row)? {
        ClientRow::CLIENT => parse_client(&text(row)?).map(ClientRow::Client),
        ClientRow::SECRET => secret(row).map(ClientRow::Secret),
        ClientRow::CREDENTIAL => parse_credential(&text(row)?).map(ClientRow::Credential),
        other => Err(ClientRow::unknown_kind(other)),
    }))
}

fn kind(row: &SqliteRow) -> Result<i64, StorageError> {
    row.try_get("kind").map_err(db_err)
}

fn text(row: &SqliteRow) -> Result<String, StorageError> {
    row.try_get("text").map_err(db_err)
}

/// A client's stored metadata document (also read by the client list).
pub(crate) fn parse_client(json: &str) -> Result<Client, StorageError> {
    serde_json::from_str(json).map_err(StorageError::json("client metadata"))
}

fn parse_credential(json: &str) -> Result<Credential, StorageError> {
    serde_json::from_str(json).map_err(StorageError::json("credential"))
}

fn secret(row: &SqliteRow) -> Result<StoredSecret, StorageError> {
    let hash: Vec<u8> = row.try_get("hash").map_err(db_err)?;
    let expires_at: Option<i64> = row.try_get("expires_at").map_err(db_err)?;
    let not_after: Option<i64> = row.try_get("not_after").map_err(db_err)?;
    Ok(StoredSecret {
        id: text(row)?,
        hash: SecretHash::from_bytes(&hash)
            .ok_or_else(|| StorageError::Corrupt("secret hash length".into()))?,
        created_at: from_col(row.try_get("created_at").map_err(db_err)?)?,
        expires_at: expires_at.map(from_col).transpose()?,
        not_after: not_after.map(from_col).transpose()?,
        encrypted: row.try_get("encrypted").map_err(db_err)?,
    })
}
