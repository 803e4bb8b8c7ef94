//! The server's token-signing keys at start and from `keyward admin rotate-signing-key`. The
//! keys are written by [`keyward_admin::SigningKeyWriter`], the same code the admin API and the
//! console rotate with; this module only names who asks.

use keyward_admin::{Actor, SigningKeyInfo, SigningKeyWriter};
use keyward_server::{Config, Keyring};
use keyward_storage::Storage;
use keyward_types::SigningAlg;
use time::{Duration, OffsetDateTime};

use crate::StartupError;

/// Who the audit log names for a key made at start (the first key, or a changed algorithm).
const STARTUP_ACTOR: &str = "keyward-serve";
/// Who the audit log names for `keyward admin rotate-signing-key`.
const CLI_ACTOR: &str = "keyward-cli";

fn writer<'a>(storage: &'a dyn Storage, keyring: &'a Keyring, config: &Config) -> SigningKeyWriter<'a> {
    SigningKeyWriter {
        storage,
        secrets: keyring,
        publish_replaced_for: Duration::seconds(i64::from(config.max_access_token_lifetime)),
    }
}

/// Makes sure an active key of `token_signing_alg` exists: creates the first key on first
/// start, and rotates when the configured algorithm changed.
pub(crate) async fn ensure_active_key(
    storage: &dyn Storage,
    keyring: &Keyring,
    config: &Config,
    now: OffsetDateTime,
) -> Result<(), StartupError> {
    writer(storage, keyring, config)
        .ensure_active(config.token_signing_alg, now, &Actor::new(STARTUP_ACTOR))
        .await
        .map_err(StartupError::SigningKey)?;
    Ok(())
}

/// Adds a fresh active key of `alg` for `keyward admin rotate-signing-key`.
pub(crate) async fn rotate_from_cli(
    storage: &dyn Storage,
    keyring: &Keyring,
    alg: SigningAlg,
    config: &Config,
    now: OffsetDateTime,
) -> Result<SigningKeyInfo, StartupError> {
    writer(storage, keyring, config)
        .rotate(alg, now, &Actor::new(CLI_ACTOR))
        .await
        .map_err(StartupError::SigningKey)
}
