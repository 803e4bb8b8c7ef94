//! The client side of keyward: what a confidential client needs besides a server. It reads the
//! client's config (keyward's own, or a Keycloak adapter `keycloak.json` unchanged), holds its
//! credential in redacting, zeroizing types, signs its client assertions (RFC 7523), publishes
//! its public keys, and gets tokens: `client_credentials` ones cached per scope and audience and
//! refreshed single-flight, the authorization code exchange and refresh, and token introspection
//! and revocation.
//!
//! A client authentication method of one's own is a [`ClientAuth`], given to
//! [`TokenClientBuilder::auth`].
#![forbid(unsafe_code)]

mod assertion;
pub mod auth;
pub mod config;
mod error;
mod token_client;

pub use assertion::{ASSERTION_TYPE, DEFAULT_TOKEN_EXPIRATION};
pub use auth::{AuthRequest, ClientAuth};
pub use config::{ClientConfig, Credential, Method};
pub use error::{ClientError, ConfigError};
pub use token_client::{AccessToken, Introspection, TokenClient, TokenClientBuilder, TokenRequest};
