//! keyward as an application: what happens between a configuration and a running server, and
//! the operations that work on the database directly. `keyward-server` serves HTTP from the
//! parts this crate prepares; it knows no backend and writes no keys.
#![forbid(unsafe_code)]

mod bootstrap;
mod error;
mod files;
mod signing;
mod storage;
mod transfer;

use std::sync::Arc;

use keyward_server::{Config, Keyring, RunningServer, ServerBuilder};
use keyward_types::{Clock, SigningAlg};

pub use error::StartupError;
pub use storage::open_storage;
pub use transfer::{export, import, ImportSummary, TransferError};

/// Validates the config, opens its storage, makes sure an active signing key of
/// `token_signing_alg`, the bootstrap admin client and a first user exist, then starts the server.
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<RunningServer, StartupError> {
    Ok(prepare(config, clock).await?.start().await?)
}

/// Everything [`start`] does before the server starts, for a caller that adds auth methods
/// ([`ServerBuilder::auth_method`]) before starting it.
pub async fn prepare(config: Config, clock: Arc<dyn Clock>) -> Result<ServerBuilder, StartupError> {
    config.validate()?;
    files::secure_data_dir(&config)?;
    let storage = open_storage(&config.database_url, &config).await?;
    let keyring = Keyring::load(&config)?;
    signing::ensure_active_key(&*storage, &keyring, &config, clock.now()).await?;
    bootstrap::ensure_admin_client(&*storage, &keyring, &config, &*clock).await?;
    bootstrap::ensure_admin_user(&*storage, &config, &*clock).await?;
    Ok(ServerBuilder::new(config, storage, keyring, clock))
}

/// `keyward admin rotate-signing-key`: a new active key of `alg` (default `token_signing_alg`);
/// running nodes pick it up within `signing_key_reload_seconds`. Returns the new `kid`.
pub async fn rotate_signing_key(
    config: &Config,
    alg: Option<SigningAlg>,
    clock: &dyn Clock,
) -> Result<String, StartupError> {
    files::secure_data_dir(config)?;
    let storage = open_storage(&config.database_url, config).await?;
    let keyring = Keyring::load(config)?;
    let alg = alg.unwrap_or(config.token_signing_alg);
    let key = signing::rotate_from_cli(&*storage, &keyring, alg, config, clock.now()).await?;
    Ok(key.kid)
}
