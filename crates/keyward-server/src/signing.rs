//! The server's token-signing keys: one active key signs, replaced keys stay published at
//! `/jwks` until every token they signed has expired. Which key is active is decided where keys
//! are written (`keyward_admin::SigningKeyWriter`); the server reads them at start, on every
//! reload, and at once after a rotation made through its own admin operations.

use std::sync::Arc;

use async_trait::async_trait;
use keyward_admin::{BoxError, SigningKeysReload};
use keyward_jose::{JoseError, Jwks, SigningKey};
use keyward_storage::{Storage, StorageError};
use keyward_types::{Clock, SigningAlg};
use parking_lot::RwLock;
use thiserror::Error;
use time::OffsetDateTime;

use crate::keyring::{Keyring, KeyringError};

/// Why the stored signing keys cannot be used.
#[derive(Debug, Error)]
pub enum SigningKeyError {
    #[error("keys: cannot read the signing keys: {0}")]
    Storage(#[from] StorageError),
    #[error("keys: stored key {kid} has alg {alg}")]
    UnknownAlg { kid: String, alg: String },
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("keys: stored key {kid} is not a usable {alg} key: {source}")]
    Unusable {
        kid: String,
        alg: SigningAlg,
        #[source]
        source: JoseError,
    },
    #[error("keys: no active signing key")]
    NoActiveKey,
    #[error("keys: cannot render the JWKS: {0}")]
    Render(#[source] serde_json::Error),
}

/// The keys in use right now; swapped whole on reload.
#[derive(Debug)]
pub(crate) struct KeySet {
    pub(crate) active: Arc<SigningKey>,
    pub(crate) published: Vec<Arc<SigningKey>>,
    /// `/jwks` body, rendered once per reload.
    pub(crate) jwks_body: bytes::Bytes,
}

impl KeySet {
    pub(crate) fn find(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.published.iter().find(|k| k.kid() == kid)
    }
}

#[derive(Debug)]
pub(crate) struct SigningKeys {
    current: RwLock<Arc<KeySet>>,
    /// One reload at a time: a periodic reload that read the keys before a rotation committed
    /// must not swap its older set in after the reload that followed the rotation.
    reloading: tokio::sync::Mutex<()>,
}

impl SigningKeys {
    pub(crate) fn current(&self) -> Arc<KeySet> {
        self.current.read().clone()
    }

    pub(crate) async fn load(
        storage: &dyn Storage,
        keyring: &Keyring,
        now: OffsetDateTime,
    ) -> Result<Self, SigningKeyError> {
        Ok(Self {
            current: RwLock::new(Arc::new(read_keys(storage, keyring, now).await?)),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    pub(crate) async fn reload(
        &self,
        storage: &dyn Storage,
        keyring: &Keyring,
        now: OffsetDateTime,
    ) -> Result<(), SigningKeyError> {
        let _one_at_a_time = self.reloading.lock().await;
        let set = read_keys(storage, keyring, now).await?;
        *self.current.write() = Arc::new(set);
        Ok(())
    }
}

/// Reloads this node's keys when a rotation is made through the admin operations, so the new
/// key signs at once (a rotation elsewhere arrives by the change feed or the periodic reload).
pub(crate) struct ReloadAfterRotation {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) keyring: Keyring,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keys: Arc<SigningKeys>,
}

#[async_trait]
impl SigningKeysReload for ReloadAfterRotation {
    async fn reload(&self) -> Result<(), BoxError> {
        Ok(self
            .keys
            .reload(&*self.storage, &self.keyring, self.clock.now())
            .await?)
    }
}

async fn read_keys(
    storage: &dyn Storage,
    keyring: &Keyring,
    now: OffsetDateTime,
) -> Result<KeySet, SigningKeyError> {
    let records = storage.signing_keys().await?;
    let mut active = None;
    let mut published = Vec::new();
    for r in records {
        if r.retire_at.is_some_and(|t| t <= now) {
            continue;
        }
        let alg: SigningAlg = r.alg.parse().map_err(|_| SigningKeyError::UnknownAlg {
            kid: r.kid.clone(),
            alg: r.alg.clone(),
        })?;
        let pkcs8 = keyring.open(&r.kid, &r.encrypted_key)?;
        let key = SigningKey::from_pkcs8(alg, pkcs8).map_err(|source| SigningKeyError::Unusable {
            kid: r.kid.clone(),
            alg,
            source,
        })?;
        let key = Arc::new(key);
        if r.retire_at.is_none() {
            active = Some(key.clone());
        }
        published.push(key);
    }
    let active = active.ok_or(SigningKeyError::NoActiveKey)?;
    let jwks = Jwks {
        keys: published.iter().map(|k| k.public_jwk().clone()).collect(),
    };
    let jwks_body = serde_json::to_vec(&jwks).map_err(SigningKeyError::Render)?.into();
    Ok(KeySet {
        active,
        published,
        jwks_body,
    })
}
