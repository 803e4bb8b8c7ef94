//! The public half of a PKCS#8 private key, so a keystore entry's key can be checked against its
//! certificate (or stand in for a missing one). The private key is only parsed, never kept.

use aws_lc_rs::{
    rsa::KeyPair as RsaKeyPair,
    signature::{
        EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
        ECDSA_P384_SHA384_FIXED_SIGNING,
    },
};
use keyward_types::{EcCurve, PublicJwk};

use crate::{
    spki::{ec_jwk, jwk_from_pkcs1_der},
    KeyError,
};

pub(crate) fn public_jwk(pkcs8: &[u8]) -> Result<PublicJwk, KeyError> {
    if let Ok(k) = RsaKeyPair::from_pkcs8(pkcs8) {
        return jwk_from_pkcs1_der(k.public_key().as_ref());
    }
    if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8) {
        return ec_jwk(EcCurve::P256, 32, k.public_key().as_ref());
    }
    if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8) {
        return ec_jwk(EcCurve::P384, 48, k.public_key().as_ref());
    }
    if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8) {
        return Ok(PublicJwk::ed25519(k.public_key().as_ref()));
    }
    Err(KeyError::UnsupportedKeyType(
        "the keystore's private key (not RSA, EC P-256/P-384 or Ed25519)".into(),
    ))
}
