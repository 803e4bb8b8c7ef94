//! The server's token-signing keys, written once for every caller: the first key at start, a
//! new one when the configured algorithm changes, `keyward admin rotate-signing-key`, and the
//! admin API and console ([`AdminOps::rotate_signing_key`]). The replaced key stays published
//! for `max_access_token_lifetime`, so every token it signed still verifies until it expires.
//! The storage writes the key's audit events (`signing_key.create`, `.rotate`, `.retire`,
//! `.delete`) in the key's own transaction and announces the change to the other nodes.

use std::sync::Arc;

use async_trait::async_trait;
use keyward_jose::SigningKey;
use keyward_storage::{SigningKeyAudit, SigningKeyRecord, Storage};
use keyward_types::SigningAlg;
use time::{Duration, OffsetDateTime};

use crate::{Action, Actor, AdminError, AdminOps, BoxError, SecretKeys};

/// Where a signing key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKeyState {
    /// Signs new tokens.
    Active,
    /// No longer signs; published at `/jwks` until `until`, so the tokens it signed verify.
    Retiring { until: OffsetDateTime },
    /// No longer published since `since`; the next rotation deletes the record.
    Retired { since: OffsetDateTime },
}

/// A signing key as an admin sees it: never its private part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub alg: String,
    pub created_at: OffsetDateTime,
    /// `None` for the active key.
    pub retire_at: Option<OffsetDateTime>,
    pub state: SigningKeyState,
}

impl SigningKeyInfo {
    fn of(record: &SigningKeyRecord, now: OffsetDateTime) -> Self {
        let state = match record.retire_at {
            None => SigningKeyState::Active,
            Some(until) if until > now => SigningKeyState::Retiring { until },
            Some(since) => SigningKeyState::Retired { since },
        };
        Self {
            kid: record.kid.clone(),
            alg: record.alg.clone(),
            created_at: record.created_at,
            retire_at: record.retire_at,
            state,
        }
    }
}

/// What the server gives the operations so that a key written here signs on this node at once
/// (other nodes hear of it through the storage's change feed, or their periodic reload).
#[async_trait]
pub trait SigningKeysReload: Send + Sync {
    async fn reload(&self) -> Result<(), BoxError>;
}

/// Refuses an algorithm the server cannot sign tokens with (HMAC, and RSA/EC sizes it has no
/// key generator for).
pub fn check_token_signing_alg(alg: SigningAlg) -> Result<(), AdminError> {
    if SigningKey::SUPPORTED.contains(&alg) {
        return Ok(());
    }
    let supported: Vec<&str> = SigningKey::SUPPORTED.iter().map(|a| a.as_str()).collect();
    Err(AdminError::InvalidRequest(
        format!(
            "alg {alg} cannot sign tokens; use one of {}",
            supported.join(", ")
        )
        .into(),
    ))
}

/// Writes signing keys: into `storage`, sealed by `secrets` (the key-encryption key, bound to
/// the key's `kid`), the replaced key published for `publish_replaced_for`.
pub struct SigningKeyWriter<'a> {
    pub storage: &'a dyn Storage,
    pub secrets: &'a dyn SecretKeys,
    /// The longest an access token lives (`max_access_token_lifetime`).
    pub publish_replaced_for: Duration,
}

impl SigningKeyWriter<'_> {
    /// A fresh active key of `alg`; the active one retires. `actor` is recorded with it.
    pub async fn rotate(
        &self,
        alg: SigningAlg,
        now: OffsetDateTime,
        actor: &Actor,
    ) -> Result<SigningKeyInfo, AdminError> {
        check_token_signing_alg(alg)?;
        // RSA generation takes up to a second of CPU: keep it off the async workers.
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(alg))
            .await
            .map_err(|_| AdminError::GenerationPanicked)?
            .map_err(|source| AdminError::SigningKeyGeneration { alg, source })?;
        let record = SigningKeyRecord {
            kid: key.kid().to_owned(),
            alg: alg.as_str().to_owned(),
            encrypted_key: self
                .secrets
                .seal(key.kid(), key.pkcs8())
                .map_err(AdminError::Seal)?,
            created_at: now,
            retire_at: None,
        };
        let audit = SigningKeyAudit {
            at: now,
            actor: actor.as_str().to_owned(),
        };
        self.storage
            .add_signing_key(&record, now + self.publish_replaced_for, now, &audit)
            .await?;
        tracing::info!(kid = key.kid(), alg = %alg, %actor, "new active signing key");
        Ok(SigningKeyInfo::of(&record, now))
    }

    /// Makes sure an active key of `alg` exists: the first key on first start, a rotation when
    /// the configured algorithm changed. `None` when the active key already fits.
    pub async fn ensure_active(
        &self,
        alg: SigningAlg,
        now: OffsetDateTime,
        actor: &Actor,
    ) -> Result<Option<SigningKeyInfo>, AdminError> {
        let records = self.storage.signing_keys().await?;
        let active = records.iter().find(|r| r.retire_at.is_none());
        if active.is_some_and(|r| r.alg == alg.as_str()) {
            return Ok(None);
        }
        self.rotate(alg, now, actor).await.map(Some)
    }
}

impl AdminOps {
    /// The signing keys, newest first (the active one first among keys made at one instant).
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyInfo>, AdminError> {
        let now = self.clock.now();
        let mut keys: Vec<SigningKeyInfo> = self
            .storage
            .signing_keys()
            .await?
            .iter()
            .map(|r| SigningKeyInfo::of(r, now))
            .collect();
        keys.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.retire_at.is_none().cmp(&a.retire_at.is_none()))
                .then_with(|| b.retire_at.cmp(&a.retire_at))
        });
        Ok(keys)
    }

    /// A new active signing key of `alg` (default: the configured `token_signing_alg`); the
    /// key it replaces stays published for `max_access_token_lifetime`. This node signs with
    /// the new key when this returns; a refusal is recorded in the audit log.
    pub async fn rotate_signing_key(
        &self,
        actor: &Actor,
        alg: Option<SigningAlg>,
    ) -> Result<SigningKeyInfo, AdminError> {
        self.audited(
            actor,
            Action::SigningKeyRotate,
            "-",
            self.write_signing_key(actor, alg),
        )
        .await
    }

    async fn write_signing_key(
        &self,
        actor: &Actor,
        alg: Option<SigningAlg>,
    ) -> Result<SigningKeyInfo, AdminError> {
        let writer = SigningKeyWriter {
            storage: &*self.storage,
            secrets: &*self.secrets,
            publish_replaced_for: Duration::seconds(i64::from(self.limits.max_access_token_lifetime)),
        };
        let alg = alg.unwrap_or(self.limits.token_signing_alg);
        let info = writer.rotate(alg, self.clock.now(), actor).await?;
        if let Some(reload) = &self.signing_keys_reload {
            // The key is committed: a failed reload here is the database being away, and the
            // server's periodic reload is the backstop. The caller is told of the rotation.
            if let Err(e) = reload.reload().await {
                tracing::warn!(error = %e, kid = %info.kid, "signing key reload after a rotation failed");
            }
        }
        Ok(info)
    }

    /// Has this node reload its signing keys through `reload` after every rotation made here.
    pub fn with_signing_keys_reload(mut self, reload: Arc<dyn SigningKeysReload>) -> Self {
        self.signing_keys_reload = Some(reload);
        self
    }
}
