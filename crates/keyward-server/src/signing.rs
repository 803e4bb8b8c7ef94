//! The server's token-signing keys: one active key signs, replaced keys stay published at
//! `/jwks` until every token they signed has expired.

use std::sync::Arc;

use keyward_jose::{Jwks, SigningKey};
use keyward_storage::{SigningKeyRecord, Storage};
use keyward_types::SigningAlg;
use parking_lot::RwLock;
use time::{Duration, OffsetDateTime};

use crate::{error::StartError, keyring::Keyring};

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
pub(crate) struct SigningKeys(RwLock<Arc<KeySet>>);

impl SigningKeys {
    pub(crate) fn current(&self) -> Arc<KeySet> {
        self.0.read().clone()
    }

    pub(crate) async fn load(
        storage: &dyn Storage,
        keyring: &Keyring,
        now: OffsetDateTime,
    ) -> Result<Self, StartError> {
        Ok(Self(RwLock::new(Arc::new(
            read_keys(storage, keyring, now).await?,
        ))))
    }

    pub(crate) async fn reload(
        &self,
        storage: &dyn Storage,
        keyring: &Keyring,
        now: OffsetDateTime,
    ) -> Result<(), StartError> {
        let set = read_keys(storage, keyring, now).await?;
        *self.0.write() = Arc::new(set);
        Ok(())
    }
}

async fn read_keys(
    storage: &dyn Storage,
    keyring: &Keyring,
    now: OffsetDateTime,
) -> Result<KeySet, StartError> {
    let records = storage.signing_keys().await?;
    let mut active = None;
    let mut published = Vec::new();
    for r in records {
        if r.retire_at.is_some_and(|t| t <= now) {
            continue;
        }
        let alg: SigningAlg = r
            .alg
            .parse()
            .map_err(|_| StartError::Key(format!("stored key {} has alg {}", r.kid, r.alg)))?;
        let pkcs8 = keyring.open(&r.kid, &r.encrypted_key)?;
        let key = Arc::new(SigningKey::from_pkcs8(alg, pkcs8).map_err(|e| StartError::Key(e.to_string()))?);
        if r.retire_at.is_none() {
            active = Some(key.clone());
        }
        published.push(key);
    }
    let active = active.ok_or_else(|| StartError::Key("no active signing key".into()))?;
    let jwks = Jwks {
        keys: published.iter().map(|k| k.public_jwk().clone()).collect(),
    };
    let jwks_body = serde_json::to_vec(&jwks)
        .map_err(|e| StartError::Key(e.to_string()))?
        .into();
    Ok(KeySet {
        active,
        published,
        jwks_body,
    })
}

/// Makes sure an active key of `alg` exists: creates the first key on first start, and rotates
/// when the configured algorithm changed.
pub(crate) async fn ensure_active_key(
    storage: &dyn Storage,
    keyring: &Keyring,
    alg: SigningAlg,
    now: OffsetDateTime,
    publish_old_for: Duration,
) -> Result<(), StartError> {
    let records = storage.signing_keys().await?;
    let active = records.iter().find(|r| r.retire_at.is_none());
    if active.is_some_and(|r| r.alg == alg.as_str()) {
        return Ok(());
    }
    rotate(storage, keyring, alg, now, publish_old_for)
        .await
        .map(|_| ())
}

/// Adds a fresh active key; the previous ones stay published for `publish_old_for`.
pub(crate) async fn rotate(
    storage: &dyn Storage,
    keyring: &Keyring,
    alg: SigningAlg,
    now: OffsetDateTime,
    publish_old_for: Duration,
) -> Result<String, StartError> {
    // RSA generation takes up to a second of CPU: keep it off the async workers.
    let key = tokio::task::spawn_blocking(move || SigningKey::generate(alg))
        .await
        .map_err(|e| StartError::Key(e.to_string()))?
        .map_err(|e| StartError::Key(e.to_string()))?;
    let record = SigningKeyRecord {
        kid: key.kid().to_owned(),
        alg: alg.as_str().to_owned(),
        encrypted_key: keyring.seal(key.kid(), key.pkcs8())?,
        created_at: now,
        retire_at: None,
    };
    storage
        .add_signing_key(&record, now + publish_old_for, now)
        .await?;
    tracing::info!(kid = key.kid(), alg = %alg, "new active signing key");
    Ok(key.kid().to_owned())
}
