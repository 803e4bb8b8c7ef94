//! Client secrets: a fresh one and the record the store keeps of it.

use keyward_types::{Client, ClientSecret, SecretHash, StoredSecret};
use time::{Duration, OffsetDateTime};

use crate::{AdminError, AdminOps, BoxError};

/// The server's own keys, as far as secrets need them: the pepper secrets are hashed with, and
/// the key-encryption key that seals a secret the server must read again.
pub trait SecretKeys: Send + Sync {
    fn hash(&self, secret: &ClientSecret) -> SecretHash;
    /// Encrypts `plaintext`, bound to `aad` (the secret's id) so it cannot be moved to another row.
    fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, BoxError>;
}

impl AdminOps {
    /// A fresh secret for `client` and the record the store keeps of it: its HMAC, and, for
    /// methods where the server must compute a MAC with it (`client_secret_jwt`), the secret
    /// encrypted under the key-encryption key, bound to the secret's id. Never the clear
    /// secret. Its lifetime is the client's `client_secret_lifetime`, else the server's.
    pub(crate) fn new_secret(&self, client: &Client) -> Result<(ClientSecret, StoredSecret), AdminError> {
        let method = &client.token_endpoint_auth_method;
        let secret = ClientSecret::generate_for(method).map_err(|_| AdminError::Rng)?;
        let id = format!("{}-{}", client.client_id, crate::random_id()?.replace('-', ""));
        let encrypted = if method.needs_clear_secret() {
            Some(
                self.secrets
                    .seal(&id, secret.expose().as_bytes())
                    .map_err(AdminError::Seal)?,
            )
        } else {
            None
        };
        let now = self.clock.now();
        let record = StoredSecret {
            hash: self.secrets.hash(&secret),
            id,
            created_at: now,
            expires_at: None,
            not_after: self.secret_lifetime(client).map(|l| now + l),
            encrypted,
        };
        Ok((secret, record))
    }

    /// How long `client`'s new secrets live; `None` for ever.
    pub(crate) fn secret_lifetime(&self, client: &Client) -> Option<Duration> {
        let seconds = client
            .client_secret_lifetime
            .unwrap_or(self.limits.default_client_secret_lifetime);
        (seconds > 0).then(|| Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX)))
    }
}

/// RFC 7591 `client_secret_expires_at` of a client's secrets: the current secret's end of
/// lifetime in seconds since the epoch, 0 when it does not expire or there is none.
pub fn client_secret_expires_at(secrets: &[StoredSecret]) -> i64 {
    secrets
        .iter()
        .find(|s| s.is_current())
        .and_then(|s| s.not_after)
        .map_or(0, OffsetDateTime::unix_timestamp)
}
