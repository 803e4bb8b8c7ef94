use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoseError {
    #[error("not a compact JWS: expected three dot-separated parts")]
    NotCompact,
    #[error("invalid base64url in the {0}")]
    BadBase64(&'static str),
    #[error("invalid JSON in the {0}")]
    BadJson(&'static str),
    #[error("unsupported or forbidden algorithm")]
    UnsupportedAlg,
    #[error("the key does not fit the algorithm")]
    KeyAlgMismatch,
    #[error("invalid key material")]
    InvalidKey,
    /// The key fails a rule of `check_public_jwk` (weak or malformed key material).
    #[error(transparent)]
    KeyRefused(#[from] crate::KeyCheckError),
    /// RFC 7515 §4 / RFC 7519 §4: a member name twice makes readers disagree on its value.
    #[error("the {0} is not strict JSON")]
    NotStrictJson(
        &'static str,
        #[source] keyward_types::strict_json::StrictJsonError,
    ),
    /// RFC 7518 §3.2: an HMAC key shorter than the hash output.
    #[error("the HMAC key is {len} bytes; {alg} needs at least {min}")]
    HmacKeyTooShort {
        alg: keyward_types::SigningAlg,
        len: usize,
        min: usize,
    },
    #[error("signature verification failed")]
    BadSignature,
    #[error("signing failed")]
    SigningFailed,
    #[error("key generation failed")]
    KeyGeneration,
}
