use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use aws_lc_rs::hmac;
use keyward_types::{AuthMethod, Client, ClientEntry, ClientId, Credential, SigningAlg};
use thiserror::Error;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::{methods::Checked, AuthError, AuthFailure, AuthenticatedClient, Presented};

/// Where authenticators find clients; the server implements it with its cache over storage.
#[async_trait]
pub trait ClientDirectory: Send + Sync {
    async fn find(&self, client_id: &ClientId) -> Result<Option<Arc<ClientEntry>>, DirectoryError>;
}

#[derive(Debug, Error)]
#[error("{0}")]
pub struct DirectoryError(pub String);

/// Server-wide rules for client assertions.
#[derive(Debug, Clone)]
pub struct AssertionPolicy {
    /// The only `aud` accepted (besides the token endpoint for legacy clients).
    pub issuer: String,
    pub token_endpoint: String,
    /// Largest `exp − (iat or now)`, in seconds.
    pub max_lifetime_secs: i64,
    pub skew_secs: i64,
    /// Algorithms accepted when a client pins none.
    pub allowed_algs: Vec<SigningAlg>,
}

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
    ) -> Result<bool, DirectoryError>;
}

/// Keys a client publishes at its `jwks_uri`, fetched and cached by the server.
#[async_trait]
pub trait RemoteKeys: Send + Sync {
    /// The keys at `jwks_uri` for an assertion naming `kid`; an unknown `kid` may trigger a
    /// refetch. `Err` when no usable set is available (the fetch reason is logged there).
    async fn keys(&self, jwks_uri: &str, kid: Option<&str>) -> Result<Arc<Vec<Credential>>, ()>;
}

/// Decrypts a stored secret that the server must know in clear (`client_secret_jwt`).
pub trait SecretVault: Send + Sync {
    /// `aad` is the secret's id, to which its ciphertext is bound.
    fn open(&self, aad: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>>;
}

/// What an authenticator may need besides the request.
pub struct AuthContext<'a> {
    pub now: OffsetDateTime,
    /// HMAC key for stored secret hashes.
    pub pepper: &'a hmac::Key,
    pub policy: &'a AssertionPolicy,
    pub replay: &'a dyn ReplayGuard,
    pub vault: &'a dyn SecretVault,
    pub remote_keys: &'a dyn RemoteKeys,
}

impl AuthContext<'_> {
    /// The last assertion rule: one atomic insert of `(client_id, jti)`, kept until
    /// `exp + skew` so that a clock a little behind cannot make an old assertion valid again.
    pub(crate) async fn first_use(&self, client: &Client, checked: Checked) -> Result<(), AuthFailure> {
        let keep_until =
            OffsetDateTime::from_unix_timestamp(checked.exp.saturating_add(self.policy.skew_secs))
                .map_err(|_| AuthFailure::ExpMissing)?;
        match self
            .replay
            .first_use(&client.client_id, &checked.jti, keep_until, self.now)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthFailure::Replayed),
            // Fail closed: without a replay check there is no token.
            Err(_) => Err(AuthFailure::ReplayStoreUnavailable),
        }
    }
}

/// One client authentication method. Implement it to add a method: register it with
/// [`Authenticator::register`], and requests from clients registered with that method reach it.
#[async_trait]
pub trait ClientAuthenticator: Send + Sync {
    fn methods(&self) -> &[AuthMethod];

    /// Verifies `presented` for `entry`, whose registered method is one of [`Self::methods`]
    /// and already matched the presented one.
    async fn verify(
        &self,
        presented: &Presented,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthFailure>;
}

/// Dispatches a presented credential to the authenticator of the client's registered method.
#[derive(Default)]
pub struct Authenticator {
    by_method: HashMap<AuthMethod, Arc<dyn ClientAuthenticator>>,
}

impl Authenticator {
    pub fn register(&mut self, auth: Arc<dyn ClientAuthenticator>) {
        for m in auth.methods() {
            self.by_method.insert(*m, auth.clone());
        }
    }

    /// The methods that have an authenticator, for discovery.
    pub fn methods(&self) -> Vec<AuthMethod> {
        let mut v: Vec<_> = self.by_method.keys().copied().collect();
        v.sort_by_key(|m| m.as_str());
        v
    }

    /// Steps 3 and 4 of the token request: find the client, match the presented mechanism to
    /// its registered method (basic and post are not interchangeable), and verify.
    pub async fn authenticate(
        &self,
        presented: &Presented,
        directory: &dyn ClientDirectory,
        ctx: &AuthContext<'_>,
    ) -> Result<AuthenticatedClient, AuthError> {
        if matches!(presented, Presented::None { .. }) {
            return Err(AuthFailure::NoCredentials.into());
        }
        let claimed = presented.claimed_client_id().ok_or(AuthFailure::NoCredentials)?;
        // A lookup, not a registration: an id outside the registration set was never
        // registered under it, so it is simply not found (`client.unknown`), while a client
        // stored before that set was enforced still authenticates.
        let client_id = ClientId::parse(claimed).map_err(|_| AuthFailure::UnknownClient)?;
        let entry = directory
            .find(&client_id)
            .await
            .map_err(|e| AuthError::Unavailable(e.0))?
            .ok_or(AuthFailure::UnknownClient)?;
        if !entry.client.enabled {
            return Err(AuthFailure::ClientDisabled.into());
        }
        let method = entry.client.token_endpoint_auth_method;
        if !presented.fits(method) {
            return Err(AuthFailure::MethodMismatch.into());
        }
        let auth = self
            .by_method
            .get(&method)
            .ok_or(AuthFailure::MethodUnavailable)?;
        match auth.verify(presented, &entry, ctx).await {
            Ok(()) => Ok(AuthenticatedClient::new(entry, method)),
            // Not the client's fault: 503, and never a token without the replay check.
            Err(AuthFailure::ReplayStoreUnavailable) => {
                Err(AuthError::Unavailable("replay store unavailable".into()))
            }
            Err(f) => Err(f.into()),
        }
    }
}
