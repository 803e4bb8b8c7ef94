//! People (administrators, and end users of the authorization code flow) and their server-side
//! sign-in sessions (DESIGN.md "Users, sign-in and the authorization code flow").

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{AuditEvent, StorageError};

/// A user as stored. `password_hash` is an argon2id PHC string, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    pub password_hash: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub enabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The hash is left out: a stray `{:?}` must not hand an offline guesser its input.
impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("password_hash", &"[redacted]")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("roles", &self.roles)
            .field("enabled", &self.enabled)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// The `users` columns, in the order every backend selects and inserts them.
pub const USER_COLUMNS: &str = "username, password_hash, name, email, roles, enabled, created_at, updated_at";

impl UserRecord {
    /// `roles` as the `roles` column holds them: a JSON array of strings.
    pub fn roles_column(&self) -> Result<String, StorageError> {
        serde_json::to_string(&self.roles).map_err(StorageError::json("user roles"))
    }

    /// `roles` from the `roles` column.
    pub fn roles_from_column(column: &str) -> Result<Vec<String>, StorageError> {
        serde_json::from_str(column).map_err(StorageError::json("user roles"))
    }

    /// Whether a change from `self` to `new` must end the user's sessions: a new password, a
    /// disabled account, or other roles (a session must not keep powers the user lost).
    pub fn ends_sessions(&self, new: &UserRecord) -> bool {
        self.password_hash != new.password_hash || !new.enabled || self.roles != new.roles
    }
}

/// A sign-in session. Only the SHA-256 of the cookie's random value is stored, so a read of
/// the table does not hand out live cookies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the cookie's random value.
    pub id_hash: String,
    pub username: String,
    pub created_at: OffsetDateTime,
    pub last_seen: OffsetDateTime,
    /// Absolute expiry, however active the session is.
    pub expires_at: OffsetDateTime,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict` if the username is taken.
    async fn insert_user(&self, user: &UserRecord, audit: &AuditEvent) -> Result<(), StorageError>;

    async fn load_user(&self, username: &str) -> Result<Option<UserRecord>, StorageError>;

    /// Users ordered by username, starting after `after` (keyset pagination).
    async fn list_users(&self, after: Option<&str>, limit: u32) -> Result<Vec<UserRecord>, StorageError>;

    /// Replaces every field but `username` and `created_at`. When the password hash changes,
    /// the user is disabled or its roles change ([`UserRecord::ends_sessions`]), the user's
    /// sessions are deleted in the same transaction. `NotFound` if there is no such user.
    async fn update_user(&self, user: &UserRecord, audit: &AuditEvent) -> Result<(), StorageError>;

    /// Deletes the user and its sessions. `NotFound` if there is no such user.
    async fn delete_user(&self, username: &str, audit: &AuditEvent) -> Result<(), StorageError>;

    async fn count_users(&self) -> Result<u64, StorageError>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// `NotFound` if the user does not exist; `Conflict` if the id is taken.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StorageError>;

    async fn load_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StorageError>;

    /// Sets `last_seen`; a session that is gone is not an error (it was signed out or purged).
    async fn touch_session(&self, id_hash: &str, last_seen: OffsetDateTime) -> Result<(), StorageError>;

    /// `true` if there was such a session.
    async fn delete_session(&self, id_hash: &str) -> Result<bool, StorageError>;

    /// Deletes sessions whose expires_at <= now or whose last_seen < idle_before; returns how many.
    async fn purge_sessions(
        &self,
        now: OffsetDateTime,
        idle_before: OffsetDateTime,
    ) -> Result<u64, StorageError>;
}
