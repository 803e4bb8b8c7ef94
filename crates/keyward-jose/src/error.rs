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
    #[error("signature verification failed")]
    BadSignature,
    #[error("signing failed")]
    SigningFailed,
    #[error("key generation failed")]
    KeyGeneration,
}
