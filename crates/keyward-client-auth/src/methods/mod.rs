//! keyward's own methods, one module per mechanism.

mod assertion;
mod client_secret;

#[cfg(feature = "fuzzing")]
pub(crate) use assertion::{read_assertion, rules::before_signature};
pub use assertion::{Assertion, ClientAssertionMethod, JWT_BEARER};
pub use client_secret::{ClientSecretBasicMethod, ClientSecretPostMethod};
