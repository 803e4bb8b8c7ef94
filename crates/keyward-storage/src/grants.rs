//! What the authorization code flow keeps (DESIGN.md "Users, sign-in and the authorization code
//! flow"): authorization requests waiting for a browser (pushed by a client, RFC 9126, or
//! waiting for the user to sign in or consent), authorization codes, grants (one per code
//! exchange: the family its refresh tokens and access tokens belong to), refresh tokens,
//! revoked access tokens and remembered consents.
//!
//! Every secret value (code, request id, refresh token) is stored as the hex SHA-256 of its
//! value: a read of the tables hands out nothing that can be presented. Single use is enforced
//! by one atomic statement per use, so two concurrent uses race and exactly one wins.

use async_trait::async_trait;
use keyward_types::{ClientId, Scope};
use time::OffsetDateTime;

use crate::StorageError;

/// An authorization request the server holds: its parameters are the server's own JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    /// Hex SHA-256 of the id the client or the browser presents.
    pub id_hash: String,
    pub client_id: ClientId,
    /// The validated request, as the server serialized it.
    pub params: String,
    pub expires_at: OffsetDateTime,
}

/// An issued authorization code and everything it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// Hex SHA-256 of the code.
    pub code_hash: String,
    /// The grant the exchange of this code starts; named now so that a second use can revoke it.
    pub grant_id: String,
    pub client_id: ClientId,
    pub username: String,
    pub redirect_uri: String,
    /// PKCE `S256` challenge (RFC 7636).
    pub code_challenge: String,
    pub scope: Scope,
    pub nonce: Option<String>,
    pub auth_time: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What one presentation of a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// First use: the code is now spent.
    First(CodeRecord),
    /// The code was spent before: the caller revokes `grant_id`.
    Again {
        grant_id: String,
    },
    Unknown,
}

/// One code exchange's family of tokens: every refresh token and user access token issued from
/// it carries its id, and revoking it ends them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub grant_id: String,
    pub client_id: ClientId,
    pub username: String,
    pub scope: Scope,
    pub auth_time: OffsetDateTime,
    pub created_at: OffsetDateTime,
    /// When the last token of the family ends; the row may be purged after it.
    pub expires_at: OffsetDateTime,
    pub revoked: bool,
}

/// A refresh token (opaque to clients). Its scope is its grant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub grant_id: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Set when the token was exchanged for its successor (rotation).
    pub used_at: Option<OffsetDateTime>,
}

/// What a rotation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is spent, the new one stored, the grant's `expires_at` moved.
    Rotated,
    /// The old token was already spent (reuse, or a concurrent rotation that won): the whole
    /// family is revoked, in the same transaction.
    Reused,
    /// No such token, or its grant is revoked or gone.
    Unknown,
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    /// `Conflict` if the id is taken.
    async fn insert_pending_request(&self, request: &PendingRequest) -> Result<(), StorageError>;

    /// The request if it has not expired by `now`; it stays stored.
    async fn load_pending_request(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<PendingRequest>, StorageError>;

    /// Deletes the request and returns it if it had not expired by `now`: single use.
    async fn take_pending_request(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<PendingRequest>, StorageError>;

    /// `Conflict` if the code hash is taken; `NotFound` if its client or user is gone.
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StorageError>;

    /// Spends the code (whether or not it has expired: the caller checks its bindings and
    /// expiry, and a spent code is never good again).
    async fn redeem_code(&self, code_hash: &str, now: OffsetDateTime) -> Result<Redeemed, StorageError>;

    /// Stores a new grant and, if given, its first refresh token, in one transaction.
    /// `NotFound` if its client or user is gone.
    async fn insert_grant(
        &self,
        grant: &GrantRecord,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StorageError>;

    async fn load_grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StorageError>;

    /// Marks the grant revoked (its refresh tokens stop working, its access tokens introspect
    /// inactive); `false` if there was no such grant.
    async fn revoke_grant(&self, grant_id: &str) -> Result<bool, StorageError>;

    /// The refresh token and its grant, spent or not.
    async fn load_refresh(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshRecord, GrantRecord)>, StorageError>;

    /// Spends `old_hash` and stores `new` in the old token's grant (whatever `new.grant_id`
    /// says), in one transaction; see [`Rotation`]. The grant's `expires_at` becomes
    /// `grant_expires_at`. The old token's expiry is the caller's to check before.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new: &RefreshRecord,
        grant_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Rotation, StorageError>;

    /// Records an access token's `jti` as revoked until the token's own expiry.
    async fn revoke_access_token(&self, jti: &str, expires_at: OffsetDateTime) -> Result<(), StorageError>;

    async fn access_token_revoked(&self, jti: &str) -> Result<bool, StorageError>;

    /// The scope `username` has consented to for `client_id`, if any.
    async fn consent(&self, username: &str, client_id: &ClientId) -> Result<Option<Scope>, StorageError>;

    /// Stores the consent (replacing an earlier one for the same user and client).
    /// `NotFound` if the client or user is gone.
    async fn save_consent(
        &self,
        username: &str,
        client_id: &ClientId,
        scope: &Scope,
        now: OffsetDateTime,
    ) -> Result<(), StorageError>;

    /// Deletes expired pending requests, codes expired for more than an hour (kept that long so
    /// that a late second use still revokes what the first issued), expired refresh tokens,
    /// grants past their `expires_at`, and revoked `jti`s past their token's expiry.
    async fn purge_grants(&self, now: OffsetDateTime) -> Result<u64, StorageError>;
}
