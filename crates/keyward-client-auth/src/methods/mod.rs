//! One module per authentication method.

mod assertion;
mod client_secret;

#[cfg(feature = "fuzzing")]
pub(crate) use assertion::rules::before_signature;
pub(crate) use assertion::rules::Checked;
pub use assertion::{ClientSecretJwtMethod, PrivateKeyJwtMethod};
pub use client_secret::ClientSecretMethod;

use crate::{presented::Assertion, AuthFailure, Presented};

pub(crate) fn assertion_of(presented: &Presented) -> Result<&Assertion, AuthFailure> {
    match presented {
        Presented::Assertion(a) => Ok(a),
        _ => Err(AuthFailure::MethodMismatch),
    }
}
