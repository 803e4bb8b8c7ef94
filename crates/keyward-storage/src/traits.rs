use async_trait::async_trait;
use keyward_types::{Client, ClientEntry, ClientId, Credential, StoredSecret};
use time::OffsetDateTime;

use crate::{
    AuditEvent, AuditQuery, AuditRecord, Change, ClientQuery, GrantStore, SessionStore, SigningKeyAudit,
    SigningKeyRecord, StorageError, UserStore,
};

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts a new client with its first secret (if its method uses one) and its initial
    /// credentials, all or nothing. `Conflict` if the `client_id` is taken.
    async fn insert_client(
        &self,
        client: &Client,
        secret: Option<&StoredSecret>,
        credentials: &[Credential],
        audit: &AuditEvent,
    ) -> Result<(), StorageError>;

    /// The client and its secrets, as the token path needs them.
    async fn load_client(&self, client_id: &ClientId) -> Result<Option<ClientEntry>, StorageError>;

    /// Clients ordered by `client_id`, starting after `query.after` (keyset pagination), at most
    /// `query.limit`, only those that match `query.search` when it is set.
    async fn list_clients(&self, query: &ClientQuery) -> Result<Vec<Client>, StorageError>;

    /// Replaces the stored metadata of an existing client. `NotFound` if there is none.
    async fn update_client(&self, client: &Client, audit: &AuditEvent) -> Result<(), StorageError>;

    /// Removes a client and everything that belongs to it. `NotFound` if there is none.
    async fn delete_client(&self, client_id: &ClientId, audit: &AuditEvent) -> Result<(), StorageError>;

    /// Inserts a client exactly as exported from another backend: every secret (hashes and
    /// encrypted copies as they are) and every credential, all or nothing. `Conflict` if the
    /// `client_id` is taken.
    async fn restore_client(&self, entry: &ClientEntry, audit: &AuditEvent) -> Result<(), StorageError>;
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Makes `new` the client's current secret, in one transaction: the secret that was current
    /// stays valid until `previous_valid_until` (removed at once when that is not after `now`),
    /// and any older secret is removed, so at most two are ever valid. `NotFound` without client.
    async fn rotate_secret(
        &self,
        client_id: &ClientId,
        new: &StoredSecret,
        previous_valid_until: OffsetDateTime,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StorageError>;

    /// Replaces an existing client's metadata and all its secrets by `secret`, in one
    /// transaction: an authenticator switch that needs a new secret never leaves the client
    /// switched without one. `NotFound` if there is no such client.
    async fn update_client_with_secret(
        &self,
        client: &Client,
        secret: &StoredSecret,
        audit: &AuditEvent,
    ) -> Result<(), StorageError>;

    /// Current secrets (not in a rotation's grace period) whose lifetime ends before
    /// `before`, soonest first, at most `limit`: what the expiry warning reports.
    async fn secrets_expiring_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ExpiringSecret>, StorageError>;
}

/// A current client secret whose lifetime ends soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringSecret {
    pub client_id: ClientId,
    pub not_after: OffsetDateTime,
}

impl ExpiringSecret {
    /// From a backend's row: the stored client id must still parse.
    pub fn from_row(client_id: &str, not_after: OffsetDateTime) -> Result<Self, StorageError> {
        let client_id =
            ClientId::parse(client_id).map_err(|_| StorageError::Corrupt("stored client_id".into()))?;
        Ok(Self { client_id, not_after })
    }
}

/// A client's credential list (public keys for `private_key_jwt`).
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Adds keys to a client's list, all or none, if the list then holds at most `max`.
    /// `NotFound` for an unknown client, `Conflict` when a key (thumbprint) or `kid` is already
    /// listed, `LimitReached` when the list would grow past `max`.
    async fn add_credentials(
        &self,
        client_id: &ClientId,
        credentials: &[Credential],
        max: usize,
        audit: &AuditEvent,
    ) -> Result<(), StorageError>;

    /// Replaces a stored credential's mutable fields (name, enabled, expires_at) by id.
    /// `NotFound` unless the credential exists and belongs to `client_id`.
    async fn update_credential(
        &self,
        client_id: &ClientId,
        credential: &Credential,
        audit: &AuditEvent,
    ) -> Result<(), StorageError>;

    /// `NotFound` unless the credential exists and belongs to `client_id`.
    async fn delete_credential(
        &self,
        client_id: &ClientId,
        credential_id: &str,
        audit: &AuditEvent,
    ) -> Result<(), StorageError>;
}

#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError>;

    /// Adds a new active key; every key that is still active gets `retire_at = retire_others_at`.
    /// Keys whose `retire_at` is before `now` are deleted. The events of
    /// [`SigningKeyAudit::events`] are written in the same transaction, naming the keys it
    /// retired and deleted.
    async fn add_signing_key(
        &self,
        key: &SigningKeyRecord,
        retire_others_at: OffsetDateTime,
        now: OffsetDateTime,
        audit: &SigningKeyAudit,
    ) -> Result<(), StorageError>;

    /// Inserts a key record exactly as exported from another backend, retiring nothing.
    /// `Conflict` if its `kid` is taken.
    async fn restore_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StorageError>;
}

/// The assertion replay store (RFC 7523 §3 item 7): a `(client_id, jti)` pair is accepted once
/// until it expires. The insert is the check: two concurrent uses of one assertion race on one
/// atomic insert, and exactly one wins.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// `true` if the pair was not in the store (now it is, until `expires_at`); `false` if an
    /// unexpired entry exists: a replay. An entry whose `expires_at` is not after `now` no
    /// longer counts. Returns only once the entry is durable.
    async fn insert_once(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StorageError>;

    /// Deletes expired entries; returns how many.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StorageError>;

    /// Number of stored entries, expired or not (for tests and metrics).
    async fn replay_entries(&self) -> Result<u64, StorageError>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records an event that is not part of a write (e.g. a rejected admin request).
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StorageError>;

    /// The events that match `query`, newest first (by id, so a page boundary stays put while
    /// new events are appended).
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StorageError>;
}

/// Cache invalidation between keyward nodes that share one database.
///
/// Every write through the other store traits announces itself (a backend that serves several
/// nodes does so in the write's own transaction, so a committed change is never unannounced);
/// [`ChangeFeed::announce`] is for changes that are not storage writes, such as clearing a
/// JWKS cache.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    async fn announce(&self, change: &Change) -> Result<(), StorageError>;

    /// Every node's changes, this one's included. After any gap in delivery (a lost database
    /// connection) the stream yields [`Change::All`], so no missed change leaves a stale cache.
    /// `None` for a backend that only ever serves one node.
    async fn subscribe(&self) -> Result<Option<tokio::sync::mpsc::Receiver<Change>>, StorageError>;
}

/// Everything a server node needs from its database.
#[async_trait]
pub trait Storage:
    ClientStore
    + SecretStore
    + CredentialStore
    + SigningKeyStore
    + ReplayStore
    + AuditStore
    + UserStore
    + SessionStore
    + GrantStore
    + ChangeFeed
    + 'static
{
    /// Cheap round trip for readiness checks.
    async fn ping(&self) -> Result<(), StorageError>;
}
