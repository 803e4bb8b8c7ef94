//! Client authentication at the token endpoint (DESIGN.md "The token request, step by step",
//! steps 2–4): what the client presented becomes one [`Presented`] value, the registered method
//! is matched against it in one place ([`Authenticator::authenticate`]), and the method's
//! [`ClientAuthenticator`] returns an [`AuthenticatedClient`], a type no other crate can make.
#![forbid(unsafe_code)]

mod authenticated;
mod authenticator;
mod basic;
mod failure;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod methods;
mod presented;

pub use authenticated::AuthenticatedClient;
pub use authenticator::{
    AssertionPolicy, AuthContext, Authenticator, ClientAuthenticator, ClientDirectory, DirectoryError,
    RemoteKeys, ReplayGuard, SecretVault,
};
pub use failure::{AuthError, AuthFailure};
pub use methods::{ClientSecretJwtMethod, ClientSecretMethod, PrivateKeyJwtMethod};
pub use presented::{Assertion, Presented, TokenRequestCredentials, JWT_BEARER};
