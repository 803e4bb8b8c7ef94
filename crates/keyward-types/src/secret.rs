use std::fmt;

use aws_lc_rs::hmac;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::AuthMethod;

/// A client secret in clear text. It exists only while a request is checked or right after the
/// server generated it to show it once: no `Display`, no `Serialize`, a `Debug` that prints
/// nothing of it, and its memory is wiped on drop.
#[derive(Clone)]
pub struct ClientSecret(Zeroizing<String>);

/// Random bytes in a generated secret that is only ever compared (`client_secret_basic`,
/// `client_secret_post`, the bootstrap admin client): 256 bits, beyond any guessing.
const SECRET_BYTES: usize = 32;

/// Random bytes in a generated `client_secret_jwt` secret. The secret's text is the HMAC key
/// (OIDC Core §10.1), and RFC 7518 §3.2 wants a key at least as long as the hash output: 64
/// bytes for HS512. 64 random bytes are 86 base64url characters, so every HS algorithm fits
/// and the key holds 512 bits of entropy, what HS512 promises.
const JWT_SECRET_BYTES: usize = 64;

impl ClientSecret {
    /// 32 bytes from the OS CSPRNG, base64url without padding (43 characters).
    pub fn generate() -> Result<Self, aws_lc_rs::error::Unspecified> {
        Self::generate_bytes::<SECRET_BYTES>()
    }

    /// A fresh secret for a client of `method`: [`JWT_SECRET_BYTES`] for a method whose secret
    /// is an HMAC key (`client_secret_jwt`, 86 characters), else [`SECRET_BYTES`].
    pub fn generate_for(method: &AuthMethod) -> Result<Self, aws_lc_rs::error::Unspecified> {
        if method.needs_clear_secret() {
            Self::generate_bytes::<JWT_SECRET_BYTES>()
        } else {
            Self::generate()
        }
    }

    fn generate_bytes<const N: usize>() -> Result<Self, aws_lc_rs::error::Unspecified> {
        let mut bytes = Zeroizing::new([0u8; N]);
        crate::random::fill(bytes.as_mut())?;
        Ok(Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))))
    }

    pub fn from_presented(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The clear text, for the one response that shows it or for an HMAC.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// HMAC-SHA256(pepper, secret): what the store keeps for a secret that is only ever compared.
/// A slow password hash would add nothing for a 256-bit random value and cap throughput.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn compute(pepper: &hmac::Key, secret: &ClientSecret) -> Self {
        let tag = hmac::sign(pepper, secret.expose().as_bytes());
        let mut out = [0u8; 32];
        // HMAC-SHA256 tags are always 32 bytes; the zip keeps this free of indexing.
        for (o, t) in out.iter_mut().zip(tag.as_ref()) {
            *o = *t;
        }
        Self(out)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison, so response timing says nothing about how many bytes matched.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = ClientSecret::from_presented("hunter2-very-secret".into());
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
    }

    #[test]
    fn generated_secrets_are_256_bit_and_distinct() {
        let a = ClientSecret::generate().ok();
        let b = ClientSecret::generate().ok();
        assert_eq!(a.as_ref().map(|s| s.expose().len()), Some(43));
        assert_ne!(a.map(|s| s.expose().to_owned()), b.map(|s| s.expose().to_owned()));
    }

    #[test]
    fn client_secret_jwt_secrets_are_512_bit() {
        let jwt = ClientSecret::generate_for(&AuthMethod::ClientSecretJwt).ok();
        let jwt2 = ClientSecret::generate_for(&AuthMethod::ClientSecretJwt).ok();
        let basic = ClientSecret::generate_for(&AuthMethod::ClientSecretBasic).ok();
        let post = ClientSecret::generate_for(&AuthMethod::ClientSecretPost).ok();
        assert_eq!(jwt.as_ref().map(|s| s.expose().len()), Some(86));
        let decoded = jwt.as_ref().and_then(|s| URL_SAFE_NO_PAD.decode(s.expose()).ok());
        assert_eq!(decoded.map(|d| d.len()), Some(JWT_SECRET_BYTES));
        assert_ne!(
            jwt.map(|s| s.expose().to_owned()),
            jwt2.map(|s| s.expose().to_owned())
        );
        assert_eq!(basic.map(|s| s.expose().len()), Some(43));
        assert_eq!(post.map(|s| s.expose().len()), Some(43));
    }

    #[test]
    fn hash_matches_only_same_secret() {
        let pepper = hmac::Key::new(hmac::HMAC_SHA256, b"pepper");
        let a = SecretHash::compute(&pepper, &ClientSecret::from_presented("a".into()));
        let a2 = SecretHash::compute(&pepper, &ClientSecret::from_presented("a".into()));
        let b = SecretHash::compute(&pepper, &ClientSecret::from_presented("b".into()));
        assert!(a.matches(&a2));
        assert!(!a.matches(&b));
    }
}
