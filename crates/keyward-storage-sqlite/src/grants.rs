//! The authorization code flow's state. Every write runs in a `BEGIN IMMEDIATE` transaction,
//! so a single use (taking a request, redeeming a code, rotating a refresh token) is decided
//! by one writer at a time: of two concurrent uses, exactly one finds the row unspent.

mod rows;

use async_trait::async_trait;
use keyward_storage::{
    CodeRecord, GrantRecord, GrantStore, PendingRequest, Redeemed, RefreshRecord, Rotation, StorageError,
};
use keyward_types::{ClientId, Scope};
use time::{Duration, OffsetDateTime};

use crate::{
    time_col::{db_err, to_col},
    write_tx::begin_write,
    SqliteStorage,
};

use rows::{
    parse_code, parse_grant, parse_pending, parse_refresh, scope_from_column, CODE_COLUMNS, GRANT_COLUMNS,
    PENDING_COLUMNS,
};

/// How long a code outlives its expiry: a late second use must still find it, to revoke the
/// grant the first use started.
const CODE_KEPT_AFTER_EXPIRY: Duration = Duration::hours(1);

/// A foreign-key failure means the client or user is gone: `NotFound`, not an unavailable store.
fn write_err(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StorageError::NotFound,
        _ => db_err(e),
    }
}

async fn insert_refresh(
    tx: &mut sqlx::SqliteConnection,
    refresh: &RefreshRecord,
    grant_id: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&refresh.token_hash)
    .bind(grant_id)
    .bind(to_col(refresh.created_at))
    .bind(to_col(refresh.expires_at))
    .bind(refresh.used_at.map(to_col))
    .execute(&mut *tx)
    .await
    .map_err(write_err)?;
    Ok(())
}

#[async_trait]
impl GrantStore for SqliteStorage {
    async fn insert_pending_request(&self, p: &PendingRequest) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        sqlx::query(&format!(
            "INSERT INTO pending_requests ({PENDING_COLUMNS}) VALUES (?, ?, ?, ?)"
        ))
        .bind(&p.id_hash)
        .bind(p.client_id.as_str())
        .bind(&p.params)
        .bind(to_col(p.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(write_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn load_pending_request(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<PendingRequest>, StorageError> {
        sqlx::query(&format!(
            "SELECT {PENDING_COLUMNS} FROM pending_requests WHERE id_hash = ? AND expires_at > ?"
        ))
        .bind(id_hash)
        .bind(to_col(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(parse_pending)
        .transpose()
    }

    async fn take_pending_request(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<PendingRequest>, StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let row = sqlx::query(&format!(
            "DELETE FROM pending_requests WHERE id_hash = ? AND expires_at > ? RETURNING {PENDING_COLUMNS}"
        ))
        .bind(id_hash)
        .bind(to_col(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let taken = row.as_ref().map(parse_pending).transpose()?;
        tx.commit().await.map_err(db_err)?;
        Ok(taken)
    }

    async fn insert_code(&self, c: &CodeRecord) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        sqlx::query(&format!(
            "INSERT INTO authorization_codes ({CODE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&c.code_hash)
        .bind(&c.grant_id)
        .bind(c.client_id.as_str())
        .bind(&c.username)
        .bind(&c.redirect_uri)
        .bind(&c.code_challenge)
        .bind(c.scope.to_string())
        .bind(&c.nonce)
        .bind(to_col(c.auth_time))
        .bind(to_col(c.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(write_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn redeem_code(&self, code_hash: &str, now: OffsetDateTime) -> Result<Redeemed, StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let first = sqlx::query(&format!(
            "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL \
             RETURNING {CODE_COLUMNS}"
        ))
        .bind(to_col(now))
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let redeemed = match first {
            Some(row) => Redeemed::First(parse_code(&row)?),
            None => sqlx::query_scalar("SELECT grant_id FROM authorization_codes WHERE code_hash = ?")
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .map_or(Redeemed::Unknown, |grant_id| Redeemed::Again { grant_id }),
        };
        tx.commit().await.map_err(db_err)?;
        Ok(redeemed)
    }

    async fn insert_grant(
        &self,
        g: &GrantRecord,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        sqlx::query(&format!(
            "INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&g.grant_id)
        .bind(g.client_id.as_str())
        .bind(&g.username)
        .bind(g.scope.to_string())
        .bind(to_col(g.auth_time))
        .bind(to_col(g.created_at))
        .bind(to_col(g.expires_at))
        .bind(g.revoked)
        .execute(&mut *tx)
        .await
        .map_err(write_err)?;
        if let Some(refresh) = refresh {
            insert_refresh(&mut tx, refresh, &g.grant_id).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn load_grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StorageError> {
        sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE grant_id = ?"))
            .bind(grant_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(parse_grant)
            .transpose()
    }

    async fn revoke_grant(&self, grant_id: &str) -> Result<bool, StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let done = sqlx::query("UPDATE grants SET revoked = 1 WHERE grant_id = ?")
            .bind(grant_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn load_refresh(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshRecord, GrantRecord)>, StorageError> {
        let row = sqlx::query(
            "SELECT r.token_hash, r.created_at AS r_created_at, r.expires_at AS r_expires_at, \
             r.used_at AS r_used_at, g.grant_id, g.client_id, g.username, g.scope, g.auth_time, \
             g.created_at, g.expires_at, g.revoked \
             FROM refresh_tokens r JOIN grants g ON g.grant_id = r.grant_id WHERE r.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| Ok((parse_refresh(&r)?, parse_grant(&r)?)))
            .transpose()
    }

    /// The old token is spent by one `UPDATE` that also requires its grant unrevoked; when it
    /// finds nothing, the token's state says why.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new: &RefreshRecord,
        grant_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Rotation, StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let spent: Option<String> = sqlx::query_scalar(
            "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL \
             AND EXISTS (SELECT 1 FROM grants g WHERE g.grant_id = refresh_tokens.grant_id AND NOT g.revoked) \
             RETURNING grant_id",
        )
        .bind(to_col(now))
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let rotation = if let Some(grant_id) = spent {
            insert_refresh(&mut tx, new, &grant_id).await?;
            sqlx::query("UPDATE grants SET expires_at = ? WHERE grant_id = ?")
                .bind(to_col(grant_expires_at))
                .bind(&grant_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            Rotation::Rotated
        } else {
            let found: Option<(String, Option<i64>, bool)> = sqlx::query_as(
                "SELECT g.grant_id, r.used_at, g.revoked \
                 FROM refresh_tokens r JOIN grants g ON g.grant_id = r.grant_id WHERE r.token_hash = ?",
            )
            .bind(old_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            match found {
                Some((grant_id, Some(_), false)) => {
                    sqlx::query("UPDATE grants SET revoked = 1 WHERE grant_id = ?")
                        .bind(&grant_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    Rotation::Reused
                }
                _ => Rotation::Unknown,
            }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(rotation)
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: OffsetDateTime) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(jti)
            .bind(to_col(expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn access_token_revoked(&self, jti: &str) -> Result<bool, StorageError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?)")
            .bind(jti)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn consent(&self, username: &str, client_id: &ClientId) -> Result<Option<Scope>, StorageError> {
        let scope: Option<String> =
            sqlx::query_scalar("SELECT scope FROM consents WHERE username = ? AND client_id = ?")
                .bind(username)
                .bind(client_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        scope.map(|s| scope_from_column(&s)).transpose()
    }

    async fn save_consent(
        &self,
        username: &str,
        client_id: &ClientId,
        scope: &Scope,
        now: OffsetDateTime,
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        sqlx::query(
            "INSERT INTO consents (username, client_id, scope, granted_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (username, client_id) DO UPDATE SET scope = excluded.scope, \
             granted_at = excluded.granted_at",
        )
        .bind(username)
        .bind(client_id.as_str())
        .bind(scope.to_string())
        .bind(to_col(now))
        .execute(&mut *tx)
        .await
        .map_err(write_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// Refresh tokens go before grants, so the count does not depend on what the grants'
    /// cascade would have taken with them.
    async fn purge_grants(&self, now: OffsetDateTime) -> Result<u64, StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let now_col = to_col(now);
        // Before the earliest date there is no code to purge.
        let codes_before = now.checked_sub(CODE_KEPT_AFTER_EXPIRY).map_or(i64::MIN, to_col);
        let mut purged = 0;
        for (sql, before) in [
            ("DELETE FROM pending_requests WHERE expires_at <= ?", now_col),
            (
                "DELETE FROM authorization_codes WHERE expires_at <= ?",
                codes_before,
            ),
            ("DELETE FROM refresh_tokens WHERE expires_at <= ?", now_col),
            ("DELETE FROM grants WHERE expires_at <= ?", now_col),
            ("DELETE FROM revoked_tokens WHERE expires_at <= ?", now_col),
        ] {
            let done = sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            purged += done.rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(purged)
    }
}
