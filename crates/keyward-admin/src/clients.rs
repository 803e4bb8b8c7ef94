//! Clients: register, read, list, change, delete, and rotate a client's secret.

use keyward_storage::{ClientQuery, StorageError};
use keyward_types::{Client, ClientEntry, ClientId, ClientSecret, Credential, StoredSecret};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use time::{Duration, OffsetDateTime};

use crate::{
    client_secret_expires_at, inline_jwks::credentials_from_jwks, json::metadata_document, page_size, Action,
    Actor, AdminError, AdminOps, ClientMetadata, ADMIN_SCOPE, BOOTSTRAP_CLIENT,
};

/// A registered client with what it was registered with; `secret` is shown this once.
#[derive(Debug)]
pub struct CreatedClient {
    pub client: Client,
    pub credentials: Vec<Credential>,
    pub secret: Option<ClientSecret>,
    /// RFC 7591: when the secret expires, 0 for never (and for clients without a secret).
    pub client_secret_expires_at: i64,
}

/// A changed client; `secret` is set, and shown this once, when switching the authenticator
/// needed a new one.
#[derive(Debug)]
pub struct UpdatedClient {
    pub client: Client,
    pub secret: Option<ClientSecret>,
    pub client_secret_expires_at: i64,
}

/// A change of metadata: the members sent replace the stored ones, `null` resets one to its
/// default. Checked as a whole once merged, by the rules of a registration.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(transparent)]
pub struct ClientPatch(pub Map<String, Value>);

/// A page of clients in `client_id` order.
#[derive(Debug)]
pub struct ClientPage {
    pub clients: Vec<Client>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the previous secret keeps working, in seconds (default 0, at most the server's
    /// `max_secret_grace_period`).
    pub grace_period_seconds: Option<u64>,
}

/// A new secret, shown this once.
#[derive(Debug)]
pub struct RotatedSecret {
    pub client_id: ClientId,
    pub secret: ClientSecret,
    /// Until when the previous secret still works; `None` when it stopped at once.
    pub previous_secret_expires_at: Option<OffsetDateTime>,
    /// When the new secret expires; `None` for never.
    pub expires_at: Option<OffsetDateTime>,
}

/// Longest search string a client list accepts (longer than any id or name worth typing).
const MAX_SEARCH_CHARS: usize = 200;

/// A client id as an admin typed it: one that cannot exist is simply not found.
pub(crate) fn parse_id(raw: &str) -> Result<ClientId, AdminError> {
    ClientId::parse(raw).map_err(|_| not_found_raw(raw))
}

fn not_found(id: &ClientId) -> AdminError {
    AdminError::NotFound(format!("no client '{id}'").into())
}

fn not_found_raw(raw: &str) -> AdminError {
    AdminError::NotFound(format!("no client '{}'", raw.chars().take(64).collect::<String>()).into())
}

impl AdminOps {
    /// The client and its credentials, from storage (not the token path's cache).
    pub async fn client(&self, raw_id: &str) -> Result<ClientEntry, AdminError> {
        self.load(&parse_id(raw_id)?).await
    }

    pub(crate) async fn load(&self, id: &ClientId) -> Result<ClientEntry, AdminError> {
        self.storage.load_client(id).await?.ok_or_else(|| not_found(id))
    }

    /// Clients in `client_id` order, `limit` (1–500, default 100) after `after`; with `search`,
    /// only those whose `client_id` or `client_name` contains it, ignoring case (`%`, `_` and
    /// `\` match themselves). An empty search is none.
    pub async fn list_clients(
        &self,
        limit: Option<u32>,
        after: Option<&str>,
        search: Option<&str>,
    ) -> Result<ClientPage, AdminError> {
        let limit = page_size(limit)?;
        let after = after
            .map(ClientId::parse)
            .transpose()
            .map_err(|_| AdminError::InvalidRequest("after is not a client_id".into()))?;
        let search = search.filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
            return Err(AdminError::InvalidRequest(
                format!("search is longer than {MAX_SEARCH_CHARS} characters").into(),
            ));
        }
        let query = ClientQuery {
            after,
            limit,
            search: search.map(str::to_owned),
        };
        let clients = self.storage.list_clients(&query).await?;
        let next_after = (clients.len() == limit as usize)
            .then(|| clients.last().map(|c| c.client_id.to_string()))
            .flatten();
        Ok(ClientPage { clients, next_after })
    }

    /// Registers a client; secret-based clients get a generated secret, returned only here.
    pub async fn create_client(
        &self,
        actor: &Actor,
        meta: ClientMetadata,
    ) -> Result<CreatedClient, AdminError> {
        self.audited(actor, Action::ClientCreate, "-", self.insert_client(actor, meta))
            .await
    }

    async fn insert_client(&self, actor: &Actor, meta: ClientMetadata) -> Result<CreatedClient, AdminError> {
        let jwks = meta.jwks.clone();
        let sent_expiry = meta.client_secret_expires_at;
        let now = self.clock.now();
        let client = meta.into_client(None, now, &self.limits)?;
        let credentials = credentials_from_jwks(
            jwks.as_ref(),
            &client,
            now,
            self.limits.max_credentials_per_client,
        )?;
        let method = &client.token_endpoint_auth_method;
        let secret = if method.uses_secret() {
            Some(self.new_secret(&client)?)
        } else {
            None
        };
        let expires_at = expires_at_of(secret.as_ref().map(|s| &s.1));
        check_read_only_expiry(sent_expiry, expires_at)?;
        // What the client may do, so that granting `keyward:admin` is visible in the log.
        let detail = json!({
            "token_endpoint_auth_method": method.as_str(),
            "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
            "scope": client.scope.to_string(),
            "enabled": client.enabled,
            "jwks_uri": client.jwks_uri,
            "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
            "first_party": client.first_party,
            "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
            "credentials": credentials.iter().map(|c| json!({"kid": c.kid, "thumbprint": c.thumbprint})).collect::<Vec<_>>(),
        });
        let audit = self.event(actor, Action::ClientCreate, client.client_id.as_str(), detail);
        let stored = secret.as_ref().map(|s| &s.1);
        match self
            .storage
            .insert_client(&client, stored, &credentials, &audit)
            .await
        {
            Err(StorageError::Conflict(_)) => {
                let id = &client.client_id;
                return Err(AdminError::Conflict(
                    format!("client_id '{id}' is already registered").into(),
                ));
            }
            other => other?,
        }
        self.directory.invalidate(&client.client_id);
        tracing::info!(client_id = %client.client_id, actor = %actor, "client created");
        Ok(CreatedClient {
            client,
            credentials,
            secret: secret.map(|s| s.0),
            client_secret_expires_at: expires_at,
        })
    }

    /// Changes a client's metadata; `enabled: false` disables it at once. A change of
    /// `token_endpoint_auth_method` switches the authenticator (see [`crate::switch`]).
    pub async fn update_client(
        &self,
        actor: &Actor,
        raw_id: &str,
        patch: ClientPatch,
    ) -> Result<UpdatedClient, AdminError> {
        self.audited(
            actor,
            Action::ClientUpdate,
            raw_id,
            self.patch_client(actor, raw_id, patch),
        )
        .await
    }

    async fn patch_client(
        &self,
        actor: &Actor,
        raw_id: &str,
        mut patch: ClientPatch,
    ) -> Result<UpdatedClient, AdminError> {
        let id = parse_id(raw_id)?;
        let entry = self.load(&id).await?;
        let current = &entry.client;
        if patch.0.contains_key("jwks") {
            return Err(AdminError::field(
                "jwks",
                "keys are registered with the client; changing them by PATCH is not supported yet",
            ));
        }
        let sent_expiry = patch.0.remove("client_secret_expires_at");
        let now = self.clock.now();
        let updated = merged(current, &patch)?.into_client(Some(current), now, &self.limits)?;
        let stored_expiry = check_update(&entry, &updated, sent_expiry)?;
        let secret = if crate::switch::needs_new_secret(current, &updated, &entry.secrets, now) {
            Some(self.new_secret(&updated)?)
        } else {
            None
        };
        let changes = changed_fields(current, &updated)?;
        let detail = match &secret {
            // Which secret now works, never the secret itself.
            Some((_, record)) => json!({"changes": changes, "secret_generated": {"id": record.id}}),
            None => json!({"changes": changes}),
        };
        let audit = self.event(actor, Action::ClientUpdate, id.as_str(), detail);
        match &secret {
            Some((_, record)) => {
                self.storage
                    .update_client_with_secret(&updated, record, &audit)
                    .await?
            }
            None => self.storage.update_client(&updated, &audit).await?,
        }
        self.directory.invalidate(&id);
        let (old, new) = (
            &current.token_endpoint_auth_method,
            &updated.token_endpoint_auth_method,
        );
        if old != new {
            tracing::info!(client_id = %id, actor = %actor, from = %old, to = %new,
                secret_generated = secret.is_some(), "client authenticator switched");
        }
        let client_secret_expires_at = match &secret {
            Some((_, record)) => expires_at_of(Some(record)),
            None => stored_expiry,
        };
        Ok(UpdatedClient {
            client: updated,
            secret: secret.map(|s| s.0),
            client_secret_expires_at,
        })
    }

    /// Deletes a client with its secrets and credentials. The bootstrap admin client stays.
    pub async fn delete_client(&self, actor: &Actor, raw_id: &str) -> Result<(), AdminError> {
        self.audited(
            actor,
            Action::ClientDelete,
            raw_id,
            self.remove_client(actor, raw_id),
        )
        .await
    }

    async fn remove_client(&self, actor: &Actor, raw_id: &str) -> Result<(), AdminError> {
        let id = parse_id(raw_id)?;
        if id.as_str() == BOOTSTRAP_CLIENT {
            return Err(AdminError::Conflict(
                "the bootstrap admin client cannot be deleted".into(),
            ));
        }
        let audit = self.event(actor, Action::ClientDelete, id.as_str(), json!({}));
        match self.storage.delete_client(&id, &audit).await {
            Err(StorageError::NotFound) => return Err(not_found(&id)),
            other => other?,
        }
        self.directory.invalidate(&id);
        Ok(())
    }

    /// Regenerates a client's secret; the previous one keeps working for the grace period.
    pub async fn rotate_secret(
        &self,
        actor: &Actor,
        raw_id: &str,
        request: RotateRequest,
    ) -> Result<RotatedSecret, AdminError> {
        self.audited(
            actor,
            Action::SecretRotate,
            raw_id,
            self.new_client_secret(actor, raw_id, request),
        )
        .await
    }

    async fn new_client_secret(
        &self,
        actor: &Actor,
        raw_id: &str,
        request: RotateRequest,
    ) -> Result<RotatedSecret, AdminError> {
        let id = parse_id(raw_id)?;
        let grace = request.grace_period_seconds.unwrap_or(0);
        let max = self.limits.max_secret_grace_period;
        if grace > max {
            return Err(AdminError::field(
                "grace_period_seconds",
                format!("at most {max} seconds"),
            ));
        }
        let entry = self.load(&id).await?;
        let method = &entry.client.token_endpoint_auth_method;
        if !method.uses_secret() {
            let message = format!("client '{id}' uses {method} and has no secret");
            return Err(AdminError::InvalidRequest(message.into()));
        }
        let (secret, record) = self.new_secret(&entry.client)?;
        let now = self.clock.now();
        // The grace period never outlives the rotated-out secret's own lifetime.
        let mut until = now + Duration::seconds(i64::try_from(grace).unwrap_or(i64::MAX));
        if let Some(end) = entry
            .secrets
            .iter()
            .find(|s| s.is_current())
            .and_then(|s| s.not_after)
        {
            until = until.min(end);
        }
        let audit = self.event(
            actor,
            Action::SecretRotate,
            id.as_str(),
            json!({"grace_period_seconds": grace, "previous_valid_until": (until > now).then(|| crate::rfc3339(until)),
                   "expires_at": record.not_after.map(crate::rfc3339)}),
        );
        self.storage
            .rotate_secret(&id, &record, until, now, &audit)
            .await?;
        self.directory.invalidate(&id);
        Ok(RotatedSecret {
            client_id: id,
            secret,
            previous_secret_expires_at: (until > now).then_some(until),
            expires_at: record.not_after,
        })
    }
}

/// The rules a change must pass besides the registration rules (which `into_client` ran on
/// the merged metadata); returns the stored `client_secret_expires_at`.
fn check_update(
    entry: &ClientEntry,
    updated: &Client,
    sent_expiry: Option<Value>,
) -> Result<i64, AdminError> {
    if updated.client_id.as_str() == BOOTSTRAP_CLIENT
        && (!updated.enabled || !updated.scope.contains(ADMIN_SCOPE))
    {
        return Err(AdminError::Conflict(
            "the bootstrap admin client cannot be disabled or lose scope keyward:admin".into(),
        ));
    }
    if updated.jwks_uri.is_some() && !entry.credentials.is_empty() {
        return Err(AdminError::field(
            "jwks_uri",
            "the client has registered keys; use either those or a jwks_uri, not both",
        ));
    }
    let stored = client_secret_expires_at(&entry.secrets);
    if let Some(sent) = sent_expiry {
        let sent = sent
            .as_i64()
            .ok_or_else(|| AdminError::field("client_secret_expires_at", "must be a number of seconds"))?;
        check_read_only_expiry(Some(sent), stored)?;
    }
    Ok(stored)
}

/// `client_secret_expires_at` of a new secret record (0: never, or no secret).
fn expires_at_of(record: Option<&StoredSecret>) -> i64 {
    record
        .and_then(|r| r.not_after)
        .map_or(0, OffsetDateTime::unix_timestamp)
}

/// `client_secret_expires_at` is the server's to set: a request may carry it (a registration
/// response sent back as it came) only with the value it has.
fn check_read_only_expiry(sent: Option<i64>, actual: i64) -> Result<(), AdminError> {
    match sent {
        Some(v) if v != actual => Err(AdminError::field(
            "client_secret_expires_at",
            "is set by the server; change client_secret_lifetime instead",
        )),
        _ => Ok(()),
    }
}

/// The stored metadata with the patch applied, read again by the registration rules.
fn merged(current: &Client, patch: &ClientPatch) -> Result<ClientMetadata, AdminError> {
    let mut merged = serde_json::to_value(ClientMetadata::from(current)).map_err(AdminError::Encode)?;
    if let Some(obj) = merged.as_object_mut() {
        for (k, v) in &patch.0 {
            if v.is_null() {
                obj.remove(k);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
    let document = serde_json::to_vec(&merged).map_err(AdminError::Encode)?;
    metadata_document(&document)
}

/// `{field: {old, new}}` for each metadata field whose stored value changed (an absent value is
/// `null`), compared as registered, so a patch that sends a value already stored records nothing
/// for it. Client metadata holds no secret and no key: those change through their own
/// operations, which record thumbprints.
fn changed_fields(current: &Client, updated: &Client) -> Result<Map<String, Value>, AdminError> {
    let as_object = |c: &Client| -> Result<Map<String, Value>, AdminError> {
        match serde_json::to_value(ClientMetadata::from(c)).map_err(AdminError::Encode)? {
            Value::Object(o) => Ok(o),
            _ => Ok(Map::new()),
        }
    };
    let (old, new) = (as_object(current)?, as_object(updated)?);
    let mut changes = Map::new();
    for key in old.keys().chain(new.keys()) {
        let (o, n) = (old.get(key), new.get(key));
        if o != n && !changes.contains_key(key) {
            let value = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
            changes.insert(key.clone(), json!({"old": value(o), "new": value(n)}));
        }
    }
    Ok(changes)
}
