//! What the methods need from the server, one trait per need, each with its own error that
//! keeps the cause.

use std::{error::Error, sync::Arc};

use async_trait::async_trait;
use keyward_types::{ClientEntry, ClientId, Credential};
use thiserror::Error;
use time::OffsetDateTime;
use zeroize::Zeroizing;

type Cause = Box<dyn Error + Send + Sync + 'static>;

/// Where authenticators find clients; the server implements it with its cache over storage.
#[async_trait]
pub trait ClientDirectory: Send + Sync {
    async fn find(&self, client_id: &ClientId) -> Result<Option<Arc<ClientEntry>>, DirectoryError>;
}

/// The client could not be looked up (answered with 503, never as a failure or a success).
#[derive(Debug, Error)]
#[error("client directory unavailable")]
pub struct DirectoryError(#[source] pub Cause);

/// Records a used assertion; see `keyward_storage::ReplayStore`.
#[async_trait]
pub trait ReplayGuard: Send + Sync {
    /// `Ok(true)` the first time, `Ok(false)` for a replay; kept until `expires_at`.
    async fn first_use(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, ReplayError>;
}

/// The replay store could not record the assertion: without that check there is no token.
#[derive(Debug, Error)]
#[error("replay store unavailable")]
pub struct ReplayError(#[source] pub Cause);

/// Keys a client publishes at its `jwks_uri`, fetched and cached by the server.
#[async_trait]
pub trait RemoteKeys: Send + Sync {
    /// The keys at `jwks_uri` for an assertion naming `kid`; an unknown `kid` may trigger a
    /// refetch.
    async fn keys(&self, jwks_uri: &str, kid: Option<&str>) -> Result<Arc<Vec<Credential>>, RemoteKeysError>;
}

/// No usable key set at the client's `jwks_uri` (the client's fault: `key.jwks_unavailable`).
#[derive(Debug, Error)]
#[error("no usable keys at the client's jwks_uri")]
pub struct RemoteKeysError(#[source] pub Cause);

/// Decrypts a stored secret that the server must know in clear (`client_secret_jwt`).
pub trait SecretVault: Send + Sync {
    /// `aad` is the secret's id, to which its ciphertext is bound.
    fn open(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError>;
}

/// A stored secret that does not decrypt (another key-encryption key, a damaged row).
#[derive(Debug, Error)]
#[error("stored secret cannot be decrypted")]
pub struct VaultError(#[source] pub Cause);
