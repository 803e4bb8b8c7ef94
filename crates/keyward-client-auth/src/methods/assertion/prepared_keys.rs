//! Parsed public keys, kept between requests.
//!
//! Turning a JWK into a key the verifier can use (base64 decoding, building the RSA key,
//! checking that an EC point is on its curve) costs microseconds per `private_key_jwt` request
//! for RSA and EC keys, the same work for the same key every time; BENCHMARKS.md has the
//! figures.
//!
//! A cached key is used only for the exact key material it was made from: the entry is found
//! by the credential's thumbprint and then the JWK's key material is compared with the
//! credential's own, so a wrong or stale thumbprint can cost a parse, never verify with
//! another key. The algorithm is part of the entry, as it is of [`VerifyingKey`].
//! Whether a credential may be used at all (enabled, not expired, its `alg`) is decided before
//! this cache is asked, on every request.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use keyward_jose::{JoseError, VerifyingKey};
use keyward_types::{Credential, JwkParams, SigningAlg};

/// Entries kept at most; a full cache starts over. A parsed key takes about a kilobyte, so
/// this bounds the cache to a few MiB.
const CAPACITY: usize = 4_096;

#[derive(Default)]
pub(crate) struct PreparedKeys {
    by_thumbprint: RwLock<HashMap<String, Prepared>>,
}

impl std::fmt::Debug for PreparedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedKeys").finish_non_exhaustive()
    }
}

struct Prepared {
    alg: SigningAlg,
    /// The key material [`VerifyingKey::from_jwk`] read.
    material: JwkParams,
    key: Arc<VerifyingKey>,
}

impl PreparedKeys {
    /// The key of `credential` bound to `alg`, parsed once.
    pub(crate) fn get(
        &self,
        credential: &Credential,
        alg: SigningAlg,
    ) -> Result<Arc<VerifyingKey>, JoseError> {
        let jwk = &credential.jwk;
        if let Some(p) = self.read().get(&credential.thumbprint) {
            if p.alg == alg && p.material == jwk.params {
                return Ok(p.key.clone());
            }
        }
        let key = Arc::new(VerifyingKey::from_jwk(jwk, alg)?);
        let mut map = self
            .by_thumbprint
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            credential.thumbprint.clone(),
            Prepared {
                alg,
                material: jwk.params.clone(),
                key: key.clone(),
            },
        );
        Ok(key)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Prepared>> {
        // Nothing panics while holding the lock; should something ever, the map is still valid.
        self.by_thumbprint
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.read().len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use keyward_jose::SigningKey;
    use time::OffsetDateTime;

    use super::*;

    fn credential(key: &SigningKey, thumbprint: &str) -> Credential {
        let jwk = key.public_jwk().clone();
        Credential {
            id: "id".into(),
            name: None,
            kid: "kid".into(),
            alg: Some(key.alg()),
            thumbprint: thumbprint.into(),
            jwk,
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: None,
            enabled: true,
            certificate: None,
        }
    }

    #[test]
    fn a_key_is_parsed_once_and_verifies() {
        let signer = SigningKey::generate(SigningAlg::ES256).unwrap();
        let c = credential(&signer, "t1");
        let cache = PreparedKeys::default();
        let sig = signer.sign(b"input").unwrap();
        let first = cache.get(&c, SigningAlg::ES256).unwrap();
        let second = cache.get(&c, SigningAlg::ES256).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        second.verify(b"input", &sig).unwrap();
        assert_eq!(cache.len(), 1);
    }

    /// Two credentials claiming one thumbprint (an imported file could say anything) each
    /// verify with their own key.
    #[test]
    fn a_shared_thumbprint_never_lends_another_key() {
        let a = SigningKey::generate(SigningAlg::ES256).unwrap();
        let b = SigningKey::generate(SigningAlg::ES256).unwrap();
        let cache = PreparedKeys::default();
        let (ca, cb) = (credential(&a, "same"), credential(&b, "same"));
        let sig_a = a.sign(b"input").unwrap();
        cache
            .get(&ca, SigningAlg::ES256)
            .unwrap()
            .verify(b"input", &sig_a)
            .unwrap();
        let kb = cache.get(&cb, SigningAlg::ES256).unwrap();
        assert!(
            kb.verify(b"input", &sig_a).is_err(),
            "b's key must not accept a's signature"
        );
        kb.verify(b"input", &b.sign(b"input").unwrap()).unwrap();
    }

    #[test]
    fn the_algorithm_is_part_of_the_entry() {
        let rsa = SigningKey::generate(SigningAlg::RS256).unwrap();
        let c = credential(&rsa, "r");
        let cache = PreparedKeys::default();
        let rs = cache.get(&c, SigningAlg::RS256).unwrap();
        let ps = cache.get(&c, SigningAlg::PS256).unwrap();
        assert_eq!((rs.alg(), ps.alg()), (SigningAlg::RS256, SigningAlg::PS256));
        assert!(cache.get(&c, SigningAlg::ES256).is_err());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let signer = SigningKey::generate(SigningAlg::EdDSA).unwrap();
        let cache = PreparedKeys::default();
        for i in 0..=CAPACITY {
            cache
                .get(&credential(&signer, &format!("t{i}")), SigningAlg::EdDSA)
                .unwrap();
        }
        assert_eq!(cache.len(), 1);
    }
}
