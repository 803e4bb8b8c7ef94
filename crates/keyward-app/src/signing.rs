//! Writing the server's token-signing keys: the first one, a new one when the configured
//! algorithm changes, and `keyward admin rotate-signing-key`. The replaced key stays published
//! for `max_access_token_lifetime`, so every token it signed still verifies until it expires.
//! Every key write carries its audit events (`signing_key.create`, `.rotate`, `.retire`,
//! `.delete`), which the storage writes in the key's own transaction.

use keyward_jose::SigningKey;
use keyward_server::{Config, Keyring};
use keyward_storage::{SigningKeyAudit, SigningKeyRecord, Storage};
use keyward_types::SigningAlg;
use time::{Duration, OffsetDateTime};

use crate::StartupError;

/// Makes sure an active key of `token_signing_alg` exists: creates the first key on first
/// start, and rotates when the configured algorithm changed.
pub(crate) async fn ensure_active_key(
    storage: &dyn Storage,
    keyring: &Keyring,
    config: &Config,
    now: OffsetDateTime,
) -> Result<(), StartupError> {
    let alg = config.token_signing_alg;
    let records = storage.signing_keys().await?;
    let active = records.iter().find(|r| r.retire_at.is_none());
    if active.is_some_and(|r| r.alg == alg.as_str()) {
        return Ok(());
    }
    rotate(storage, keyring, alg, config, now, STARTUP_ACTOR)
        .await
        .map(|_| ())
}

/// Who the audit log names for a key made at start (the first key, or a changed algorithm).
pub(crate) const STARTUP_ACTOR: &str = "keyward-serve";
/// Who the audit log names for `keyward admin rotate-signing-key`.
pub(crate) const CLI_ACTOR: &str = "keyward-cli";

/// Adds a fresh active key of `alg` and returns its `kid`; `actor` is recorded with it.
pub(crate) async fn rotate(
    storage: &dyn Storage,
    keyring: &Keyring,
    alg: SigningAlg,
    config: &Config,
    now: OffsetDateTime,
    actor: &str,
) -> Result<String, StartupError> {
    // RSA generation takes up to a second of CPU: keep it off the async workers.
    let key = tokio::task::spawn_blocking(move || SigningKey::generate(alg))
        .await
        .map_err(StartupError::KeyGenerationStopped)?
        .map_err(|source| StartupError::KeyGeneration { alg, source })?;
    let record = SigningKeyRecord {
        kid: key.kid().to_owned(),
        alg: alg.as_str().to_owned(),
        encrypted_key: keyring.seal(key.kid(), key.pkcs8())?,
        created_at: now,
        retire_at: None,
    };
    let publish_old_for = Duration::seconds(i64::from(config.max_access_token_lifetime));
    storage
        .add_signing_key(
            &record,
            now + publish_old_for,
            now,
            &SigningKeyAudit {
                at: now,
                actor: actor.to_owned(),
            },
        )
        .await?;
    tracing::info!(kid = key.kid(), alg = %alg, actor, "new active signing key");
    Ok(key.kid().to_owned())
}
