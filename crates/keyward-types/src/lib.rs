//! Newtypes shared by every keyward crate. Parsing happens here, at the edge: a value of one of
//! these types is already valid, so the code that receives it never checks again.
#![forbid(unsafe_code)]

mod alg;
mod auth_method;
mod client;
mod client_id;
mod clock;
mod error;
mod grant;
mod jwk;
mod log_safe;
pub mod random;
mod scope;
mod secret;
pub mod strict_json;

pub use alg::SigningAlg;
pub use auth_method::{AuthMethod, CustomMethod};
pub use client::{CertificateInfo, Client, ClientEntry, Credential, StoredSecret};
pub use client_id::ClientId;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::TypeError;
pub use grant::GrantType;
pub use jwk::{Base64Url, EcCurve, JwkError, JwkParams, Jwks, OkpCurve, PublicJwk};
pub use log_safe::{Untrusted, LOG_VALUE_MAX_CHARS};
pub use scope::{Scope, USER_SCOPES};
pub use secret::{ClientSecret, SecretHash};
