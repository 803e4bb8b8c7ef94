//! Users (DESIGN.md "Users, sign-in and the authorization code flow"): create, read, list,
//! change, delete, and check a password. Each change is audited like a client change; no audit
//! detail ever holds a password or its hash.
//!
//! One rule spans users: the last enabled administrator stays. It is checked against what
//! storage holds when the change is asked for; two admins demoting each other at the same
//! instant on two nodes could both pass it (the bootstrap admin client can still repair that).

use keyward_storage::{StorageError, UserRecord};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{
    page_size,
    password::{dummy_hash, hash_password, verify_hash, Password},
    user_rules::{check_email, check_name, check_username, checked_roles},
    Action, Actor, AdminError, AdminOps,
};

/// The role that may use the admin console.
pub const ADMIN_ROLE: &str = "admin";
/// The roles a user may have.
pub const ROLES: &[&str] = &[ADMIN_ROLE];

/// A user as shown: the record without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

impl From<&UserRecord> for User {
    fn from(r: &UserRecord) -> Self {
        Self {
            username: r.username.clone(),
            name: r.name.clone(),
            email: r.email.clone(),
            roles: r.roles.clone(),
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A user to create (the body of `POST /admin/users`). Unknown members are refused.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1–64 characters of `A-Z a-z 0-9 . _ @ -`.
    pub username: String,
    /// 8–1024 bytes; stored only as an argon2id hash.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Password,
    /// At most 200 characters.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// A subset of `["admin"]`; none by default.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// A change to a user (the body of `PATCH /admin/users/{username}`): members sent replace the
/// stored ones; `null` clears `name` or `email`. Unknown members are refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// `false` ends the user's sessions and refuses its sign-ins.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A new password (ends the user's sessions).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    pub password: Option<Password>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    /// Replaces the user's roles (a change ends its sessions).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// A member that is present, even as `null` (which clears the field).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The first administrator's record, for a server's first start (which runs before there are
/// admin operations to call): the username and password rules of [`AdminOps::create_user`],
/// role `admin`, enabled.
pub async fn first_admin(
    username: &str,
    password: &Password,
    now: OffsetDateTime,
) -> Result<UserRecord, AdminError> {
    check_username(username)?;
    password.check()?;
    Ok(UserRecord {
        username: username.to_owned(),
        password_hash: hash_password(password).await?,
        name: None,
        email: None,
        roles: vec![ADMIN_ROLE.to_owned()],
        enabled: true,
        created_at: now,
        updated_at: now,
    })
}

/// A page of users in username order.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

fn is_enabled_admin(u: &UserRecord) -> bool {
    u.enabled && u.roles.iter().any(|r| r == ADMIN_ROLE)
}

fn not_found(username: &str) -> AdminError {
    let shown = keyward_types::Untrusted(username).shown();
    AdminError::NotFound(format!("no user '{shown}'").into())
}

impl AdminOps {
    /// Creates a user; its password is stored only as an argon2id hash.
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User, AdminError> {
        // A refusal is recorded under the username only when that is one: the log must not
        // carry whatever a rejected request put there.
        let target = match check_username(&new.username) {
            Ok(()) => new.username.clone(),
            Err(_) => "-".to_owned(),
        };
        self.audited(actor, Action::UserCreate, &target, self.insert_user(actor, new))
            .await
    }

    async fn insert_user(&self, actor: &Actor, new: NewUser) -> Result<User, AdminError> {
        check_username(&new.username)?;
        new.password.check()?;
        check_name(new.name.as_deref())?;
        check_email(new.email.as_deref())?;
        let roles = checked_roles(new.roles.unwrap_or_default())?;
        let now = self.clock.now();
        let record = UserRecord {
            username: new.username,
            password_hash: hash_password(&new.password).await?,
            name: new.name,
            email: new.email,
            roles,
            enabled: true,
            created_at: now,
            updated_at: now,
        };
        let detail = json!({"roles": record.roles, "enabled": record.enabled});
        let audit = self.event(actor, Action::UserCreate, &record.username, detail);
        match self.storage.insert_user(&record, &audit).await {
            Err(StorageError::Conflict(_)) => {
                return Err(AdminError::Conflict(
                    format!("username '{}' is taken", record.username).into(),
                ))
            }
            other => other?,
        }
        tracing::info!(username = %record.username, actor = %actor, "user created");
        Ok(User::from(&record))
    }

    /// A user, from storage.
    pub async fn user(&self, username: &str) -> Result<User, AdminError> {
        Ok(User::from(&self.load_user(username).await?))
    }

    async fn load_user(&self, username: &str) -> Result<UserRecord, AdminError> {
        self.storage
            .load_user(username)
            .await?
            .ok_or_else(|| not_found(username))
    }

    /// Users in username order, `limit` (1–500, default 100) after `after`.
    pub async fn list_users(&self, limit: Option<u32>, after: Option<&str>) -> Result<UserPage, AdminError> {
        let limit = page_size(limit)?;
        let records = self.storage.list_users(after, limit).await?;
        let next_after = (records.len() == limit as usize)
            .then(|| records.last().map(|u| u.username.clone()))
            .flatten();
        Ok(UserPage {
            users: records.iter().map(User::from).collect(),
            next_after,
        })
    }

    /// Changes a user. A new password, `enabled: false` or other roles end its sessions.
    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        patch: UserPatch,
    ) -> Result<User, AdminError> {
        self.audited(
            actor,
            Action::UserUpdate,
            username,
            self.patch_user(actor, username, patch),
        )
        .await
    }

    async fn patch_user(&self, actor: &Actor, username: &str, patch: UserPatch) -> Result<User, AdminError> {
        let current = self.load_user(username).await?;
        let mut updated = current.clone();
        if let Some(name) = patch.name {
            check_name(name.as_deref())?;
            updated.name = name;
        }
        if let Some(email) = patch.email {
            check_email(email.as_deref())?;
            updated.email = email;
        }
        if let Some(roles) = patch.roles {
            updated.roles = checked_roles(roles)?;
        }
        if let Some(enabled) = patch.enabled {
            updated.enabled = enabled;
        }
        if let Some(password) = &patch.password {
            password.check()?;
        }
        if is_enabled_admin(&current) && !is_enabled_admin(&updated) {
            self.ensure_other_admin(username, "disabled or lose role admin")
                .await?;
        }
        if let Some(password) = &patch.password {
            updated.password_hash = hash_password(password).await?;
        }
        updated.updated_at = self.clock.now();
        let detail = json!({
            "changes": changed_fields(&current, &updated),
            "password_changed": patch.password.is_some(),
        });
        let audit = self.event(actor, Action::UserUpdate, username, detail);
        match self.storage.update_user(&updated, &audit).await {
            Err(StorageError::NotFound) => return Err(not_found(username)),
            other => other?,
        }
        tracing::info!(username = %username, actor = %actor, "user updated");
        Ok(User::from(&updated))
    }

    /// Deletes a user and its sessions. The last enabled administrator stays.
    pub async fn delete_user(&self, actor: &Actor, username: &str) -> Result<(), AdminError> {
        self.audited(
            actor,
            Action::UserDelete,
            username,
            self.remove_user(actor, username),
        )
        .await
    }

    async fn remove_user(&self, actor: &Actor, username: &str) -> Result<(), AdminError> {
        let current = self.load_user(username).await?;
        if is_enabled_admin(&current) {
            self.ensure_other_admin(username, "deleted").await?;
        }
        let audit = self.event(actor, Action::UserDelete, username, json!({}));
        match self.storage.delete_user(username, &audit).await {
            Err(StorageError::NotFound) => return Err(not_found(username)),
            other => other?,
        }
        tracing::info!(username = %username, actor = %actor, "user deleted");
        Ok(())
    }

    /// `Conflict` unless an enabled administrator other than `username` exists.
    async fn ensure_other_admin(&self, username: &str, what: &str) -> Result<(), AdminError> {
        let mut after: Option<String> = None;
        loop {
            let page = self.storage.list_users(after.as_deref(), 500).await?;
            if page.iter().any(|u| u.username != username && is_enabled_admin(u)) {
                return Ok(());
            }
            match page.last() {
                Some(last) if page.len() == 500 => after = Some(last.username.clone()),
                _ => break,
            }
        }
        Err(AdminError::Conflict(
            format!(
                "'{username}' is the last enabled user with role admin and cannot be {what}; \
                 make another user an enabled admin first"
            )
            .into(),
        ))
    }

    /// The user whose password this is. An unknown username costs the same argon2 work as a
    /// known one (checked against a dummy hash), and an unknown user, a wrong password and a
    /// disabled user get the same [`AdminError::WrongPassword`], so neither the answer nor its
    /// timing tells which usernames exist.
    pub async fn verify_password(&self, username: &str, password: &Password) -> Result<User, AdminError> {
        let record = self.storage.load_user(username).await?;
        let hash = match &record {
            Some(r) => r.password_hash.as_str(),
            None => dummy_hash().await?,
        };
        // Over-long input is checked against the hash all the same (a bounded amount of work:
        // the body that carried it is bounded), and can never match a stored password.
        let matches = verify_hash(password, hash).await? && password.check().is_ok();
        match record {
            Some(r) if matches && r.enabled => Ok(User::from(&r)),
            _ => Err(AdminError::WrongPassword),
        }
    }
}

/// `{field: {old, new}}` for each changed field that is not the password hash.
fn changed_fields(old: &UserRecord, new: &UserRecord) -> Value {
    let mut changes = serde_json::Map::new();
    let (o, n) = (User::from(old), User::from(new));
    let mut put = |field: &str, a: Value, b: Value| {
        if a != b {
            changes.insert(field.to_owned(), json!({"old": a, "new": b}));
        }
    };
    put("name", json!(o.name), json!(n.name));
    put("email", json!(o.email), json!(n.email));
    put("roles", json!(o.roles), json!(n.roles));
    put("enabled", json!(o.enabled), json!(n.enabled));
    Value::Object(changes)
}
