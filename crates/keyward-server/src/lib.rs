//! The keyward HTTP server: token endpoint, the authorization code flow (authorize, sign-in,
//! consent, logout, PAR, userinfo, introspection, revocation), discovery, JWKS, health, metrics,
//! admin API, and the admin console.
//! It is built from injected parts (a storage, the keyring, a clock, the config) and knows no
//! database backend; opening one, first-start work and operations on the database belong to
//! `keyward-app`. Method logic lives in `keyward-client-auth`, SQL in the storage crates; this
//! crate wires requests to them and turns every error into a response in one place ([`error`]).
#![forbid(unsafe_code)]

mod access_token;
mod admin;
mod api_schemas;
mod authorize;
mod backchannel;
mod background;
mod config;
mod console;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod keyring;
mod listener;
mod metrics;
mod oauth;
mod panic_guard;
mod public;
mod rate_limit;
mod remote_keys;
mod replay;
mod serve;
mod signing;
mod state;

pub use admin::{ADMIN_SCOPE, BOOTSTRAP_CLIENT};
pub use config::{Config, ConfigError, LogFormat};
pub use error::ServeError;
pub use keyring::{Keyring, KeyringError};
pub use keyward_jwks_fetch::install_crypto_provider;
pub use listener::{raise_open_files_limit, tls::TlsError};
pub use panic_guard::panic_message;
pub use rate_limit::ProxyHeader;
pub use serve::{RunningServer, ServerBuilder};
pub use signing::SigningKeyError;
