use keyward_jose::KeyCheckError;
use thiserror::Error;

/// Why key material was refused. Each variant has a stable [`KeyError::code`] that the admin API
/// returns beside the message, so scripts can tell the cases apart. Messages never contain key
/// bytes or passwords.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    #[error("key material is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Unrecognized(String),
    #[error("the file is broken: {0}")]
    Broken(String),
    /// The keystore declares more key-derivation work, entries or certificates than one import
    /// may cost (see [`crate::WorkBudget`]); refused before the expensive work starts.
    #[error("the keystore asks for more work than one import may cost ({what}: at most {limit}); export it again with fewer entries or the tool's default iteration count")]
    TooExpensive { what: &'static str, limit: u64 },
    /// An encryption or key-derivation scheme keyward refuses to run, such as scrypt, which no
    /// keytool or OpenSSL PKCS#12 export writes.
    #[error("the keystore is protected with {0}, which keyward does not read; export it again with keytool or OpenSSL (PBES2 with PBKDF2 and AES, or the legacy PKCS#12 algorithms)")]
    UnsupportedProtection(String),
    /// Whoever asked for the import went away (closed connection) before it finished.
    #[error("the import was abandoned before it finished")]
    Cancelled,
    #[error("{0} is required for this format")]
    PasswordRequired(&'static str),
    #[error("the store password is wrong, or the keystore was altered after it was written (integrity check failed)")]
    WrongPassword,
    #[error("the key password is wrong")]
    WrongKeyPassword,
    #[error("no entry with alias '{alias}'; the keystore holds: {}", .available.join(", "))]
    UnknownAlias { alias: String, available: Vec<String> },
    #[error("the keystore holds several entries; name one with `alias`: {}", .0.join(", "))]
    AliasRequired(Vec<String>),
    #[error("the keystore holds no key entry or certificate")]
    Empty,
    #[error("this is a private key; send the certificate or public key instead (keyward never keeps private keys)")]
    PrivateKeyGiven,
    #[error("the key contains private key material ({0}); send the public key only")]
    PrivateMaterial(&'static str),
    #[error("symmetric keys cannot be client credentials; use client_secret_jwt for shared secrets")]
    SymmetricKey,
    #[error("key type {0} is not supported (RSA, EC P-256/P-384, Ed25519)")]
    UnsupportedKeyType(String),
    #[error("curve {0} is not supported (P-256, P-384, Ed25519)")]
    UnsupportedCurve(String),
    #[error("the private key in the keystore does not belong to its certificate")]
    KeyMismatch,
    #[error("unknown key type '{0}' (RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384, Ed25519)")]
    UnknownKeyType(String),
    #[error("unknown format '{0}' (pem, der, jwk, jwks, pkcs12, jks)")]
    UnknownFormat(String),
    #[error("unknown keystore format '{0}' (pkcs12, jks)")]
    UnknownKeystoreFormat(String),
    #[error("{field} must be at least {min} characters")]
    PasswordTooShort { field: &'static str, min: usize },
    #[error("{0}")]
    InvalidRequest(String),
    #[error("key generation failed: {0}")]
    Generation(String),
    /// The self-signed certificate for a generated key could not be made.
    #[error("key generation failed: {0}")]
    Certificate(#[source] rcgen::Error),
    /// A size, curve or algorithm rule of `keyward_jose::check_public_jwk`.
    #[error(transparent)]
    Check(keyward_jose::KeyCheckError),
}

impl KeyError {
    /// Stable machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::TooLarge { .. } => "too_large",
            KeyError::Unrecognized(_) => "unrecognized_format",
            KeyError::Broken(_) => "broken_file",
            KeyError::TooExpensive { .. } => "too_expensive",
            KeyError::UnsupportedProtection(_) => "unsupported_protection",
            KeyError::Cancelled => "cancelled",
            KeyError::PasswordRequired(_) => "password_required",
            KeyError::WrongPassword => "wrong_password",
            KeyError::WrongKeyPassword => "wrong_key_password",
            KeyError::UnknownAlias { .. } => "unknown_alias",
            KeyError::AliasRequired(_) => "alias_required",
            KeyError::Empty => "empty_keystore",
            KeyError::PrivateKeyGiven => "private_key_given",
            KeyError::PrivateMaterial(_) => "private_key_material",
            KeyError::SymmetricKey => "symmetric_key",
            KeyError::UnsupportedKeyType(_) => "unsupported_key_type",
            KeyError::UnsupportedCurve(_) => "unsupported_curve",
            KeyError::KeyMismatch => "key_mismatch",
            KeyError::UnknownKeyType(_) => "unknown_key_type",
            KeyError::UnknownFormat(_) => "unknown_format",
            KeyError::UnknownKeystoreFormat(_) => "unknown_keystore_format",
            KeyError::PasswordTooShort { .. } => "password_too_short",
            KeyError::InvalidRequest(_) => "invalid_request",
            KeyError::Generation(_) | KeyError::Certificate(_) => "generation_failed",
            KeyError::Check(c) => match c {
                KeyCheckError::PrivateMaterial => "private_key_material",
                KeyCheckError::UnsupportedType(_) => "unsupported_key_type",
                KeyCheckError::UnsupportedCurve(_) => "unsupported_curve",
                KeyCheckError::KeyTooWeak { .. } => "weak_key",
                KeyCheckError::RsaExponentOne | KeyCheckError::Ed25519SmallOrder => "weak_key",
                KeyCheckError::KeyTooLarge { .. } => "key_too_large",
                KeyCheckError::AlgMismatch { .. } => "alg_mismatch",
                _ => "invalid_key",
            },
        }
    }
}
