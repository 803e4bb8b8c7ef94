//! The two methods that send a signed client assertion (RFC 7523 §2.2): `client_secret_jwt`
//! (HMAC over the shared secret) and `private_key_jwt` (the client's own key, with a next key
//! held for rotation).

use std::sync::{Arc, RwLock};

use aws_lc_rs::hmac;
use keyward_jose::{hmac_algorithm, JoseError, SigningKey};
use keyward_types::{ClientSecret, PublicJwk, SigningAlg};
use time::Duration;

use super::{AuthRequest, ClientAuth};
use crate::{
    assertion::{self, Signer},
    ClientError, ASSERTION_TYPE,
};

/// `client_secret_jwt`: an HS256/384/512 assertion keyed with the client secret.
#[derive(Debug)]
pub struct SecretJwt {
    pub secret: ClientSecret,
    pub alg: SigningAlg,
    /// Each assertion's lifetime (`token-expiration`).
    pub lifetime: Duration,
}

impl ClientAuth for SecretJwt {
    fn method(&self) -> &str {
        "client_secret_jwt"
    }

    fn authenticate(&self, request: &mut AuthRequest<'_>) -> Result<(), ClientError> {
        // The config admits only HS256/384/512 here; another alg is refused, never guessed.
        let algorithm = hmac_algorithm(self.alg).ok_or(ClientError::Signing(JoseError::KeyAlgMismatch))?;
        let key = hmac::Key::new(algorithm, self.secret.expose().as_bytes());
        send_assertion(request, Signer::Hmac(self.alg, &key), self.lifetime)
    }
}

/// A signing key and the `kid` it is published and sent with.
#[derive(Debug)]
pub struct NamedKey {
    pub key: SigningKey,
    pub kid: String,
}

/// The client's current key and, during a rotation, the next one. Both are published (so a
/// server that reads the client's JWKS knows the next key before it is used); only the current
/// one signs.
#[derive(Debug)]
pub struct KeyRing {
    pub current: Arc<NamedKey>,
    pub next: Option<Arc<NamedKey>>,
}

/// `private_key_jwt`: an assertion signed with the client's private key.
#[derive(Debug)]
pub struct PrivateKeyJwt {
    keys: RwLock<KeyRing>,
    lifetime: Duration,
}

impl PrivateKeyJwt {
    pub fn new(keys: KeyRing, lifetime: Duration) -> Self {
        Self {
            keys: RwLock::new(keys),
            lifetime,
        }
    }

    fn ring(&self) -> std::sync::RwLockReadGuard<'_, KeyRing> {
        // A panic while the ring was swapped leaves either ring, both usable.
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The key that signs now.
    pub fn current(&self) -> Arc<NamedKey> {
        self.ring().current.clone()
    }
}

impl ClientAuth for PrivateKeyJwt {
    fn method(&self) -> &str {
        "private_key_jwt"
    }

    fn authenticate(&self, request: &mut AuthRequest<'_>) -> Result<(), ClientError> {
        let key = self.current();
        send_assertion(request, Signer::Key(&key.key, &key.kid), self.lifetime)
    }

    fn public_keys(&self) -> Vec<PublicJwk> {
        let ring = self.ring();
        std::iter::once(&ring.current)
            .chain(ring.next.iter())
            .map(|named| {
                let mut jwk = named.key.public_jwk().clone();
                jwk.kid = Some(named.kid.clone());
                jwk
            })
            .collect()
    }

    /// The next key becomes the current one; the old current key is no longer published.
    fn rotate(&self) -> bool {
        let mut ring = self.keys.write().unwrap_or_else(|p| p.into_inner());
        match ring.next.take() {
            Some(next) => {
                ring.current = next;
                true
            }
            None => false,
        }
    }
}

/// Signs an assertion for `request` and adds it with `client_id` (RFC 7523 §2.2).
fn send_assertion(
    request: &mut AuthRequest<'_>,
    signer: Signer<'_>,
    lifetime: Duration,
) -> Result<(), ClientError> {
    let signed = assertion::sign(signer, request.client_id, request.audience, lifetime, request.now)?;
    request.param("client_id", request.client_id);
    request.param("client_assertion_type", ASSERTION_TYPE);
    request.param("client_assertion", signed);
    Ok(())
}
