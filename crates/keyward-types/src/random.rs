//! The one source of randomness: the operating system's CSPRNG through aws-lc-rs. Every secret,
//! nonce, key and identifier is drawn here, so a review of "where does randomness come from"
//! reads this file; clippy's `disallowed-methods` (clippy.toml) refuses other sources.
#![allow(clippy::disallowed_methods)]

use aws_lc_rs::error::Unspecified;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The generator, for APIs that take a `&dyn SecureRandom` (signing, key generation).
pub fn rng() -> SystemRandom {
    SystemRandom::new()
}

/// Fills `buf` with random bytes; fails only when the operating system cannot provide them.
pub fn fill(buf: &mut [u8]) -> Result<(), Unspecified> {
    SystemRandom::new().fill(buf)
}

/// A random (version 4) UUID, for record ids and `jti` values that must not repeat.
pub fn uuid() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}
