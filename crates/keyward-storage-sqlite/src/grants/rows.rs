//! Rows of the grant tables, read back into records. A stored value that no longer parses
//! (a client id, a scope) is `Corrupt`, never skipped.

use keyward_storage::{CodeRecord, GrantRecord, PendingRequest, RefreshRecord, StorageError};
use keyward_types::{ClientId, Scope};
use sqlx::{sqlite::SqliteRow, Row};
use time::OffsetDateTime;

use crate::time_col::{db_err, from_col};

pub(super) const PENDING_COLUMNS: &str = "id_hash, client_id, params, expires_at";
pub(super) const CODE_COLUMNS: &str =
    "code_hash, grant_id, client_id, username, redirect_uri, code_challenge, \
     scope, nonce, auth_time, expires_at";
pub(super) const GRANT_COLUMNS: &str =
    "grant_id, client_id, username, scope, auth_time, created_at, expires_at, revoked";

fn time_at(r: &SqliteRow, column: &str) -> Result<OffsetDateTime, StorageError> {
    from_col(r.try_get(column).map_err(db_err)?)
}

fn client_id(r: &SqliteRow) -> Result<ClientId, StorageError> {
    let id: &str = r.try_get("client_id").map_err(db_err)?;
    ClientId::parse(id).map_err(|_| StorageError::Corrupt("stored client_id".into()))
}

/// A scope as stored: the `Display` string of [`Scope`].
pub(super) fn scope_from_column(column: &str) -> Result<Scope, StorageError> {
    Scope::parse(column).map_err(|_| StorageError::Corrupt("stored scope".into()))
}

fn scope(r: &SqliteRow) -> Result<Scope, StorageError> {
    scope_from_column(r.try_get("scope").map_err(db_err)?)
}

pub(super) fn parse_pending(r: &SqliteRow) -> Result<PendingRequest, StorageError> {
    Ok(PendingRequest {
        id_hash: r.try_get("id_hash").map_err(db_err)?,
        client_id: client_id(r)?,
        params: r.try_get("params").map_err(db_err)?,
        expires_at: time_at(r, "expires_at")?,
    })
}

pub(super) fn parse_code(r: &SqliteRow) -> Result<CodeRecord, StorageError> {
    Ok(CodeRecord {
        code_hash: r.try_get("code_hash").map_err(db_err)?,
        grant_id: r.try_get("grant_id").map_err(db_err)?,
        client_id: client_id(r)?,
        username: r.try_get("username").map_err(db_err)?,
        redirect_uri: r.try_get("redirect_uri").map_err(db_err)?,
        code_challenge: r.try_get("code_challenge").map_err(db_err)?,
        scope: scope(r)?,
        nonce: r.try_get("nonce").map_err(db_err)?,
        auth_time: time_at(r, "auth_time")?,
        expires_at: time_at(r, "expires_at")?,
    })
}

pub(super) fn parse_grant(r: &SqliteRow) -> Result<GrantRecord, StorageError> {
    Ok(GrantRecord {
        grant_id: r.try_get("grant_id").map_err(db_err)?,
        client_id: client_id(r)?,
        username: r.try_get("username").map_err(db_err)?,
        scope: scope(r)?,
        auth_time: time_at(r, "auth_time")?,
        created_at: time_at(r, "created_at")?,
        expires_at: time_at(r, "expires_at")?,
        revoked: r.try_get("revoked").map_err(db_err)?,
    })
}

/// A refresh token joined with its grant: the token's own times are prefixed `r_`.
pub(super) fn parse_refresh(r: &SqliteRow) -> Result<RefreshRecord, StorageError> {
    let used_at: Option<i64> = r.try_get("r_used_at").map_err(db_err)?;
    Ok(RefreshRecord {
        token_hash: r.try_get("token_hash").map_err(db_err)?,
        grant_id: r.try_get("grant_id").map_err(db_err)?,
        created_at: time_at(r, "r_created_at")?,
        expires_at: time_at(r, "r_expires_at")?,
        used_at: used_at.map(from_col).transpose()?,
    })
}
