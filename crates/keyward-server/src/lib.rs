//! The keyward HTTP server: token endpoint, discovery, JWKS, health, metrics, admin API.
//! Method logic lives in `keyward-client-auth`, SQL in the storage crates; this crate wires
//! requests to them and turns every error into a response in one place ([`error`]).
#![forbid(unsafe_code)]

mod access_token;
mod admin;
mod bootstrap;
mod config;
mod directory;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod keyring;
mod metrics;
mod panic_guard;
mod public;
mod remote_keys;
mod replay;
mod serve;
mod signing;
mod state;
mod sync;
mod transfer;

pub use config::{Config, ConfigError, LogFormat};
pub use keyward_jwks_fetch::install_crypto_provider;
pub use panic_guard::panic_message;
pub use serve::{open_storage, rotate_signing_key, start, RunningServer};
pub use transfer::{export, import, ImportSummary};
