//! Keys of clients that publish them at a JWKS URL (`jwks_uri`, Keycloak's "Use JWKS URL").
//!
//! One [`JwksCache`] per server holds one entry per URL, shared by every client with that URL.
//! Keys are fetched on first use, kept for the document's `Cache-Control: max-age` (clamped),
//! refreshed in the background before they expire, and refetched once when an assertion names
//! an unknown `kid` — at most once per URL per cooldown, single-flight, so a flood of random
//! `kid`s costs one fetch. A failed refresh keeps the last good set up to a maximum staleness,
//! then fails closed. Fetches only go to public addresses over https unless configured
//! otherwise, and the address checked is the address connected to.
#![forbid(unsafe_code)]

mod cache;
mod config;
mod document;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod http;

pub use cache::{CachedKeys, JwksCache, Lookup};
pub use config::FetchConfig;
pub use error::FetchError;
pub use guard::check_jwks_uri;

/// Makes aws-lc-rs the process's rustls crypto provider (idempotent). keyward builds its own
/// TLS config for JWKS fetches, but with rustls compiled in, any other `reqwest::Client` in the
/// process (tests, tools) needs a process default, and keyward uses one crypto library only.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
