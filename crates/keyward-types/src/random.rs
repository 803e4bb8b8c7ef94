//! The one source of randomness: the operating system's CSPRNG through aws-lc-rs. Every secret,
//! nonce, key and identifier is drawn here, so "where does randomness come from" is answered by
//! this file; clippy's `disallowed-methods` (clippy.toml) refuses the other sources.
#![allow(clippy::disallowed_methods)]

use aws_lc_rs::{
    error::Unspecified,
    rand::{SecureRandom, SystemRandom},
};

/// The generator, for APIs that take a `&dyn SecureRandom` (signing, key generation).
pub fn rng() -> SystemRandom {
    SystemRandom::new()
}

/// Fills `buf` with random bytes; fails only when the operating system cannot provide them.
pub fn fill(buf: &mut [u8]) -> Result<(), Unspecified> {
    SystemRandom::new().fill(buf)
}

/// A random (version 4) UUID for record ids and `jti` values. Drawn from aws-lc's generator
/// rather than `Uuid::new_v4`, which makes one `getrandom` system call per id (about 1 µs in a
/// VM) on the token path.
pub fn uuid() -> Result<uuid::Uuid, Unspecified> {
    let mut bytes = [0u8; 16];
    fill(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid())
}
