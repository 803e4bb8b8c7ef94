//! The token path's read of one client: the client, its secrets and its credentials in one
//! statement.
//!
//! One statement rather than three: SQLite runs a statement against one snapshot, so a secret
//! rotation or a credential change committed meanwhile is seen whole or not at all (three
//! separate reads outside a transaction could mix before and after). And each statement is a
//! round trip to sqlx's connection thread, which on a cache miss cost more than the reads.

use keyward_storage::StorageError;
use keyward_types::{ClientEntry, ClientId, Credential, SecretHash, StoredSecret};
use sqlx::{sqlite::SqliteRow, Row};

use crate::time_col::{db_err, from_col};

/// Rows of three kinds, told apart by `kind`, in the order the entry lists them: the client
/// (0), its secrets newest first (1), its credentials oldest first (2). Columns a kind does
/// not use are NULL.
const LOAD: &str = "
SELECT 0 AS kind, metadata AS text, NULL AS hash, NULL AS created_at, NULL AS expires_at,
       NULL AS encrypted, 0 AS sort_at, '' AS sort_id
  FROM clients WHERE client_id = ?1
UNION ALL
SELECT 1, id, hash, created_at, expires_at, encrypted, -created_at, id
  FROM client_secrets WHERE client_id = ?1
UNION ALL
SELECT 2, data, NULL, NULL, NULL, NULL, created_at, id
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
    let mut rows = rows.iter();
    // Secrets and credentials cannot outlive their client (ON DELETE CASCADE), so no client
    // row means no rows at all.
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    if kind(first)? != 0 {
        return Ok(None);
    }
    let client = serde_json::from_str(&text(first)?)
        .map_err(|e| StorageError::Corrupt(format!("client metadata: {e}")))?;
    let mut secrets = Vec::new();
    let mut credentials = Vec::new();
    for row in rows {
        match kind(row)? {
            1 => secrets.push(secret(row)?),
            2 => credentials.push(
                serde_json::from_str::<Credential>(&text(row)?)
                    .map_err(|e| StorageError::Corrupt(format!("credential: {e}")))?,
            ),
            other => return Err(StorageError::Corrupt(format!("client row of kind {other}"))),
        }
    }
    Ok(Some(ClientEntry {
        client,
        secrets,
        credentials,
    }))
}

fn kind(row: &SqliteRow) -> Result<i64, StorageError> {
    row.try_get("kind").map_err(db_err)
}

fn text(row: &SqliteRow) -> Result<String, StorageError> {
    row.try_get("text").map_err(db_err)
}

fn secret(row: &SqliteRow) -> Result<StoredSecret, StorageError> {
    let hash: Vec<u8> = row.try_get("hash").map_err(db_err)?;
    let expires_at: Option<i64> = row.try_get("expires_at").map_err(db_err)?;
    Ok(StoredSecret {
        id: text(row)?,
        hash: SecretHash::from_bytes(&hash)
            .ok_or_else(|| StorageError::Corrupt("secret hash length".into()))?,
        created_at: from_col(row.try_get("created_at").map_err(db_err)?)?,
        expires_at: expires_at.map(from_col).transpose()?,
        encrypted: row.try_get("encrypted").map_err(db_err)?,
    })
}
