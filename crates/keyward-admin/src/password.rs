//! User passwords: a newtype that cannot leak, and argon2id (RFC 9106) hashing with the
//! parameters OWASP recommends for argon2id (m = 19 MiB, t = 2, p = 1). The slow hash runs on
//! tokio's blocking pool so a sign-in never stalls the request threads.

use std::sync::OnceLock;

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::AdminError;

/// Lengths a password may have, in bytes: long enough to resist guessing, short enough to bound
/// the work one request can cause.
pub const PASSWORD_BYTES: std::ops::RangeInclusive<usize> = 8..=1024;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// A password as a user typed it. `Debug` prints nothing of it, there is no `Display` and no
/// `Serialize`, and the memory is wiped on drop.
///
/// The length rule is checked by the operation that stores a password
/// ([`Password::check`]), so its refusal names the field like every other rule does.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(password: String) -> Self {
        Self(Zeroizing::new(password))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The length rule for a password about to be stored.
    pub fn check(&self) -> Result<(), AdminError> {
        if PASSWORD_BYTES.contains(&self.0.len()) {
            Ok(())
        } else {
            Err(AdminError::user_field(
                "password",
                format!(
                    "must be {} to {} bytes long",
                    PASSWORD_BYTES.start(),
                    PASSWORD_BYTES.end()
                ),
            ))
        }
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Password::new)
    }
}

fn argon2() -> Result<Argon2<'static>, AdminError> {
    let params =
        Params::new(MEMORY_KIB, ITERATIONS, LANES, None).map_err(|e| AdminError::PasswordHash(e.into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) of `password` with a fresh salt.
pub async fn hash_password(password: &Password) -> Result<String, AdminError> {
    let mut salt = [0u8; 16];
    keyward_types::random::fill(&mut salt).map_err(|_| AdminError::Rng)?;
    let password = password.clone();
    blocking(move || {
        let salt = SaltString::encode_b64(&salt).map_err(AdminError::PasswordHash)?;
        let hash = argon2()?
            .hash_password(password.expose().as_bytes(), &salt)
            .map_err(AdminError::PasswordHash)?;
        Ok(hash.to_string())
    })
    .await
}

/// Whether `password` matches the PHC string `hash`. A hash that does not parse matches
/// nothing. The work is the same for a match and a mismatch.
pub async fn verify_hash(password: &Password, hash: &str) -> Result<bool, AdminError> {
    let (password, hash) = (password.clone(), hash.to_owned());
    blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return Ok(false);
        };
        Ok(argon2()?
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

/// A hash of no one's password with the parameters of a real one, verified against when the
/// username is unknown so that the answer takes as long as for a known user.
pub(crate) async fn dummy_hash() -> Result<&'static str, AdminError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_password(&Password::new("keyward-dummy-password".into())).await?;
    Ok(DUMMY.get_or_init(|| hash))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| AdminError::HashingPanicked)?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_the_fixed_parameters() {
        let hash = hash_password(&Password::new("correct horse".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_hash(&Password::new("correct horse".into()), &hash)
            .await
            .unwrap());
        assert!(!verify_hash(&Password::new("wrong horse".into()), &hash)
            .await
            .unwrap());
        assert!(!verify_hash(&Password::new("x".into()), "not a hash")
            .await
            .unwrap());
    }

    #[test]
    fn debug_shows_nothing_of_the_password() {
        let shown = format!("{:?}", Password::new("hunter22hunter".into()));
        assert_eq!(shown, "Password([redacted])");
    }

    #[test]
    fn length_rule_names_the_field() {
        assert!(Password::new("1234567".into()).check().is_err());
        assert!(Password::new("12345678".into()).check().is_ok());
        assert!(Password::new("x".repeat(1024)).check().is_ok());
        let err = Password::new("x".repeat(1025)).check().unwrap_err();
        assert!(
            err.to_string().starts_with("invalid_request: password: "),
            "{err}"
        );
    }
}
