//! Users and their sign-in sessions. A change that ends a user's sessions (see
//! [`UserRecord::ends_sessions`]) deletes them in the change's own transaction.

use async_trait::async_trait;
use keyward_storage::{
    AuditEvent, SessionRecord, SessionStore, StorageError, UserRecord, UserStore, USER_COLUMNS,
};
use sqlx::{sqlite::SqliteRow, Row};
use time::OffsetDateTime;

use crate::{
    audit,
    time_col::{db_err, from_col, to_col},
    write_tx::begin_write,
    SqliteStorage,
};

fn parse_user(r: &SqliteRow) -> Result<UserRecord, StorageError> {
    let roles: &str = r.try_get("roles").map_err(db_err)?;
    Ok(UserRecord {
        username: r.try_get("username").map_err(db_err)?,
        password_hash: r.try_get("password_hash").map_err(db_err)?,
        name: r.try_get("name").map_err(db_err)?,
        email: r.try_get("email").map_err(db_err)?,
        roles: UserRecord::roles_from_column(roles)?,
        enabled: r.try_get("enabled").map_err(db_err)?,
        created_at: from_col(r.try_get("created_at").map_err(db_err)?)?,
        updated_at: from_col(r.try_get("updated_at").map_err(db_err)?)?,
    })
}

fn parse_session(r: &SqliteRow) -> Result<SessionRecord, StorageError> {
    Ok(SessionRecord {
        id_hash: r.try_get("id_hash").map_err(db_err)?,
        username: r.try_get("username").map_err(db_err)?,
        created_at: from_col(r.try_get("created_at").map_err(db_err)?)?,
        last_seen: from_col(r.try_get("last_seen").map_err(db_err)?)?,
        expires_at: from_col(r.try_get("expires_at").map_err(db_err)?)?,
    })
}

#[async_trait]
impl UserStore for SqliteStorage {
    async fn insert_user(&self, user: &UserRecord, audit: &AuditEvent) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.roles_column()?)
        .bind(user.enabled)
        .bind(to_col(user.created_at))
        .bind(to_col(user.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn load_user(&self, username: &str) -> Result<Option<UserRecord>, StorageError> {
        sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(parse_user)
            .transpose()
    }

    async fn list_users(&self, after: Option<&str>, limit: u32) -> Result<Vec<UserRecord>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username > ? ORDER BY username LIMIT ?"
        ))
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(parse_user).collect()
    }

    async fn update_user(&self, user: &UserRecord, audit: &AuditEvent) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let stored = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?"))
            .bind(&user.username)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StorageError::NotFound)?;
        let stored = parse_user(&stored)?;
        sqlx::query(
            "UPDATE users SET password_hash = ?, name = ?, email = ?, roles = ?, enabled = ?, updated_at = ? \
             WHERE username = ?",
        )
        .bind(&user.password_hash)
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.roles_column()?)
        .bind(user.enabled)
        .bind(to_col(user.updated_at))
        .bind(&user.username)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if stored.ends_sessions(user) {
            sqlx::query("DELETE FROM sessions WHERE username = ?")
                .bind(&user.username)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    /// Sessions go with the user (`ON DELETE CASCADE`).
    async fn delete_user(&self, username: &str, audit: &AuditEvent) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let done = sqlx::query("DELETE FROM users WHERE username = ?")
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        audit::insert(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn count_users(&self) -> Result<u64, StorageError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[async_trait]
impl SessionStore for SqliteStorage {
    async fn insert_session(&self, s: &SessionRecord) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let user = sqlx::query("SELECT 1 FROM users WHERE username = ?")
            .bind(&s.username)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if user.is_none() {
            return Err(StorageError::NotFound);
        }
        sqlx::query(
            "INSERT INTO sessions (id_hash, username, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&s.id_hash)
        .bind(&s.username)
        .bind(to_col(s.created_at))
        .bind(to_col(s.last_seen))
        .bind(to_col(s.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn load_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StorageError> {
        sqlx::query(
            "SELECT id_hash, username, created_at, last_seen, expires_at FROM sessions WHERE id_hash = ?",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(parse_session)
        .transpose()
    }

    async fn touch_session(&self, id_hash: &str, last_seen: OffsetDateTime) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        sqlx::query("UPDATE sessions SET last_seen = ? WHERE id_hash = ?")
            .bind(to_col(last_seen))
            .bind(id_hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool, StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_sessions(
        &self,
        now: OffsetDateTime,
        idle_before: OffsetDateTime,
    ) -> Result<u64, StorageError> {
        let mut tx = begin_write(&self.pool, &self.writes).await?;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ? OR last_seen < ?")
            .bind(to_col(now))
            .bind(to_col(idle_before))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
