//! Client authentication at the token endpoint (DESIGN.md "The token request, step by step",
//! steps 2–4). Every method, keyward's four and any registered from outside, is a
//! [`ClientAuthMethod`]: it reads its own mechanism from the request ([`RequestParts`]) and
//! verifies it. The [`Authenticator`] takes what the one presenting method read
//! ([`Presented`]), routes it once to the client's registered method, and returns an
//! [`AuthenticatedClient`], a type no other crate can make.
#![forbid(unsafe_code)]

mod authenticated;
mod authenticator;
mod basic;
mod failure;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod method;
mod methods;
mod ports;
mod presented;
mod request;

pub use authenticated::AuthenticatedClient;
pub use authenticator::{AssertionPolicy, AuthContext, Authenticator, DuplicateMethod};
pub use failure::{AuthError, AuthFailure};
pub use method::{built_in_methods, ClientAuthMethod, ClientAuthenticator};
pub use methods::{
    Assertion, ClientAssertionMethod, ClientSecretBasicMethod, ClientSecretPostMethod, JWT_BEARER,
};
pub use ports::{
    ClientDirectory, DirectoryError, RemoteKeys, RemoteKeysError, ReplayError, ReplayGuard, SecretVault,
    VaultError,
};
pub use presented::{Presentation, Presented};
pub use request::{FormParams, RepeatedParameter, RequestParts, TlsInfo};
