//! Client secrets: a fresh one and the record the store keeps of it.

use keyward_types::{AuthMethod, ClientId, ClientSecret, SecretHash, StoredSecret};

use crate::{AdminError, AdminOps, BoxError};

/// The server's own keys, as far as secrets need them: the pepper secrets are hashed with, and
/// the key-encryption key that seals a secret the server must read again.
pub trait SecretKeys: Send + Sync {
    fn hash(&self, secret: &ClientSecret) -> SecretHash;
    /// Encrypts `plaintext`, bound to `aad` (the secret's id) so it cannot be moved to another row.
    fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, BoxError>;
}

impl AdminOps {
    /// A fresh secret and the record the store keeps of it: its HMAC, and, for methods where the
    /// server must compute a MAC with it (`client_secret_jwt`), the secret encrypted under the
    /// key-encryption key, bound to the secret's id. Never the clear secret.
    pub(crate) fn new_secret(
        &self,
        client_id: &ClientId,
        method: &AuthMethod,
    ) -> Result<(ClientSecret, StoredSecret), AdminError> {
        let secret = ClientSecret::generate_for(method).map_err(|_| AdminError::Rng)?;
        let id = format!("{}-{}", client_id, crate::random_id()?.replace('-', ""));
        let encrypted = if method.needs_clear_secret() {
            Some(
                self.secrets
                    .seal(&id, secret.expose().as_bytes())
                    .map_err(AdminError::Seal)?,
            )
        } else {
            None
        };
        let record = StoredSecret {
            hash: self.secrets.hash(&secret),
            id,
            created_at: self.clock.now(),
            expires_at: None,
            encrypted,
        };
        Ok((secret, record))
    }
}
