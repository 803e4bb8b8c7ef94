//! RFC 7523 client assertions: the rules both JWT methods share ([`rules`]), then one module
//! per method for key selection and signature.

pub(crate) mod rules;

mod client_secret_jwt;
mod prepared_keys;
mod private_key_jwt;

pub use client_secret_jwt::ClientSecretJwtMethod;
pub use private_key_jwt::PrivateKeyJwtMethod;
