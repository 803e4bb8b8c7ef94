//! Checks a public JWK a client registers: a supported type and size, no private or symmetric
//! material, key material a cryptographer would accept (the rules of `key_rules.rs`), and an
//! algorithm that fits the key.

use keyward_types::{Credential, EcCurve, JwkError, JwkParams, OkpCurve, PublicJwk, SigningAlg};
use thiserror::Error;

use crate::{key_rules, VerifyingKey};

#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyCheckError {
    #[error("the key contains private or symmetric key material; register the public key only")]
    PrivateMaterial,
    #[error("key type {0} is not supported (RSA, EC P-256/P-384, OKP Ed25519)")]
    UnsupportedType(String),
    #[error("curve {0} is not supported (P-256, P-384, Ed25519)")]
    UnsupportedCurve(String),
    #[error("RSA key of {bits} bits is too weak; at least 2048 bits are required")]
    KeyTooWeak { bits: usize },
    #[error("RSA key of {bits} bits is larger than the 8192 bits supported")]
    KeyTooLarge { bits: usize },
    #[error("algorithm {alg} does not fit a {kty} key")]
    AlgMismatch { alg: String, kty: String },
    #[error("the key material is invalid")]
    Invalid,
    #[error("an RSA integer has leading zero octets; RFC 7518 §6.3.1.1 encodes n and e minimally")]
    LeadingZero,
    #[error("the RSA modulus is even, so it is not the product of two primes")]
    RsaModulusEven,
    #[error("RSA public exponent 1 makes every signature trivial to forge; use 65537")]
    RsaExponentOne,
    #[error("the RSA public exponent is even, so no private key can exist for it; use 65537")]
    RsaExponentEven,
    #[error("RSA public exponent of {bits} bits is too large; at most 33 bits (use 65537)")]
    RsaExponentTooLarge { bits: usize },
    #[error("the Ed25519 key is a point of small order: anyone could forge signatures for it")]
    Ed25519SmallOrder,
    #[error("the Ed25519 key is not canonically encoded (RFC 8032 §5.1.3)")]
    Ed25519NonCanonical,
    #[error("the Ed25519 key is not in the prime-order subgroup, so no key generator made it")]
    Ed25519MixedOrder,
}

/// A checked public JWK as a credential (enabled, no expiry): `kid` is the JWK's or else its
/// RFC 7638 thumbprint, and the stored JWK carries that `kid` and `use: sig`. The credential
/// is bound to `requested`, else to the JWK's own `alg`, else to the only algorithm of its
/// type (EC, Ed25519); an RSA key with neither verifies any RSA algorithm (RFC 7517 §4.4 makes `alg` optional, and a FAPI client signs PS256
/// with an RSA key registered without one).
pub fn credential_from_jwk(
    mut jwk: PublicJwk,
    requested: Option<SigningAlg>,
    id: impl FnOnce(&str) -> String,
    now: time::OffsetDateTime,
) -> Result<Credential, KeyCheckError> {
    let checked = check_public_jwk(&jwk, requested)?;
    // A key type with a single algorithm is registered with it, so the list says which.
    let alg = if requested.is_some() || jwk.alg.is_some() {
        Some(checked)
    } else {
        jwk.params.only_alg()
    };
    let thumbprint = jwk.thumbprint();
    let kid = jwk.kid.clone().unwrap_or_else(|| thumbprint.clone());
    jwk.kid = Some(kid.clone());
    jwk.alg = alg.map(|a| a.to_string());
    jwk.use_ = Some("sig".into());
    Ok(Credential {
        id: id(&thumbprint),
        name: None,
        kid,
        alg,
        thumbprint,
        jwk,
        created_at: now,
        expires_at: None,
        enabled: true,
        certificate: None,
    })
}

/// The algorithm a key is registered with: `requested`, else the JWK's own `alg`, else the
/// default for its type (RS256 for RSA, ES256/ES384 by curve, EdDSA).
pub fn check_public_jwk(jwk: &PublicJwk, requested: Option<SigningAlg>) -> Result<SigningAlg, KeyCheckError> {
    let default = match &jwk.params {
        JwkParams::Rsa { n, e } => {
            let n = n.decode().ok_or(KeyCheckError::Invalid)?;
            let e = e.decode().ok_or(KeyCheckError::Invalid)?;
            key_rules::check_rsa(&n, &e)?;
            SigningAlg::RS256
        }
        JwkParams::Ec {
            crv: EcCurve::P256, ..
        } => SigningAlg::ES256,
        JwkParams::Ec {
            crv: EcCurve::P384, ..
        } => SigningAlg::ES384,
        JwkParams::Okp {
            crv: OkpCurve::Ed25519,
            x,
        } => {
            let x = x.decode().ok_or(KeyCheckError::Invalid)?;
            key_rules::check_ed25519(&x)?;
            SigningAlg::EdDSA
        }
    };
    let mismatch = |alg: &str| KeyCheckError::AlgMismatch {
        alg: alg.to_owned(),
        kty: jwk.kty().to_owned(),
    };
    let from_jwk = match jwk.alg.as_deref() {
        Some(a) => Some(a.parse::<SigningAlg>().map_err(|_| mismatch(a))?),
        None => None,
    };
    let alg = requested.or(from_jwk).unwrap_or(default);
    if alg.is_symmetric() {
        return Err(mismatch(alg.as_str()));
    }
    // Building the verifier proves the material is a valid key of that type for that alg.
    VerifyingKey::from_jwk(jwk, alg).map_err(|e| match e {
        crate::JoseError::KeyAlgMismatch => mismatch(alg.as_str()),
        crate::JoseError::KeyRefused(refused) => refused,
        _ => KeyCheckError::Invalid,
    })?;
    Ok(alg)
}

/// A JWK refused while parsing, as the key check that refuses it: secrets are private
/// material, a missing or unreadable member makes the key invalid.
impl From<JwkError> for KeyCheckError {
    fn from(e: JwkError) -> Self {
        match e {
            JwkError::PrivateMaterial(_) | JwkError::Symmetric => KeyCheckError::PrivateMaterial,
            JwkError::UnsupportedType(kty) => KeyCheckError::UnsupportedType(kty),
            JwkError::UnsupportedCurve(crv) => KeyCheckError::UnsupportedCurve(crv),
            _ => KeyCheckError::Invalid,
        }
    }
}
