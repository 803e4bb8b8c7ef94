//! JWS compact serialization on aws-lc-rs: the server's signing keys, public JWKs with RFC 7638
//! thumbprints, and signature verification against a public JWK.
//!
//! Why not a general JOSE crate: keyward checks an assertion's header and claims in a fixed order
//! *before* it spends a signature verification (DESIGN.md "Client assertion rules"), and it never
//! lets a token pick its own key or algorithm. That needs the split-parse-verify steps exposed;
//! the crypto itself is aws-lc-rs, and the JWS framing here is a few lines of base64 and JSON.
#![forbid(unsafe_code)]

mod b64;
mod compact;
mod error;
mod key_rules;
mod public_key;
mod signing_key;
mod verifying_key;

pub use b64::{b64_decode, b64_encode};
pub use compact::{CompactJws, JwsHeader};
pub use error::JoseError;
pub use keyward_types::{Jwks, PublicJwk};
pub use public_key::{check_public_jwk, credential_from_jwk, KeyCheckError};
pub use signing_key::SigningKey;
pub use verifying_key::{hmac_algorithm, hmac_min_key_len, verify_hmac, VerifyingKey};
