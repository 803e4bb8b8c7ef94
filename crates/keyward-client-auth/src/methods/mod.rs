//! One module per authentication method.

mod client_secret;

pub use client_secret::ClientSecretMethod;
