//! Public keys (SubjectPublicKeyInfo and PKCS#1) to public JWKs. Only the key types keyward
//! verifies pass; the rest are named in the error. Size and algorithm rules are applied later,
//! in one place, by `keyward_jose::check_public_jwk`.

use keyward_types::{EcCurve, PublicJwk};
use x509_parser::{
    oid_registry::{
        OID_EC_P256, OID_KEY_TYPE_DSA, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
        OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519, OID_SIG_ED448,
    },
    prelude::FromDer,
    public_key::RSAPublicKey,
    x509::SubjectPublicKeyInfo,
};

use crate::KeyError;

/// A DER `SubjectPublicKeyInfo` (PEM `PUBLIC KEY`).
pub(crate) fn jwk_from_spki_der(der: &[u8]) -> Result<PublicJwk, KeyError> {
    let (rest, spki) = SubjectPublicKeyInfo::from_der(der)
        .map_err(|_| KeyError::Unrecognized("not a SubjectPublicKeyInfo public key".into()))?;
    if !rest.is_empty() {
        return Err(KeyError::Broken("trailing bytes after the public key".into()));
    }
    jwk_from_spki(&spki)
}

/// A DER PKCS#1 `RSAPublicKey` (PEM `RSA PUBLIC KEY`).
pub(crate) fn jwk_from_pkcs1_der(der: &[u8]) -> Result<PublicJwk, KeyError> {
    let (rest, key) =
        RSAPublicKey::from_der(der).map_err(|_| KeyError::Broken("not a PKCS#1 RSA public key".into()))?;
    if !rest.is_empty() {
        return Err(KeyError::Broken("trailing bytes after the public key".into()));
    }
    Ok(rsa_jwk(key.modulus, key.exponent))
}

pub(crate) fn jwk_from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<PublicJwk, KeyError> {
    let alg = &spki.algorithm.algorithm;
    let key = spki.subject_public_key.data.as_ref();
    if *alg == OID_PKCS1_RSAENCRYPTION {
        let (_, rsa) =
            RSAPublicKey::from_der(key).map_err(|_| KeyError::Broken("invalid RSA public key".into()))?;
        Ok(rsa_jwk(rsa.modulus, rsa.exponent))
    } else if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .ok_or_else(|| KeyError::Broken("EC public key without a named curve".into()))?;
        let (name, len) = if curve == OID_EC_P256 {
            (EcCurve::P256, 32)
        } else if curve == OID_NIST_EC_P384 {
            (EcCurve::P384, 48)
        } else if curve == OID_NIST_EC_P521 {
            return Err(KeyError::UnsupportedCurve("P-521".into()));
        } else {
            return Err(KeyError::UnsupportedCurve(curve.to_id_string()));
        };
        ec_jwk(name, len, key)
    } else if *alg == OID_SIG_ED25519 {
        if key.len() != 32 {
            return Err(KeyError::Broken("an Ed25519 public key is 32 bytes".into()));
        }
        Ok(PublicJwk::ed25519(key))
    } else if *alg == OID_SIG_ED448 {
        Err(KeyError::UnsupportedCurve("Ed448".into()))
    } else if *alg == OID_KEY_TYPE_DSA {
        Err(KeyError::UnsupportedKeyType("DSA".into()))
    } else {
        Err(KeyError::UnsupportedKeyType(alg.to_id_string()))
    }
}

/// JWK integers carry no leading zero octets (RFC 7518 §6.3.1); DER integers may.
fn rsa_jwk(modulus: &[u8], exponent: &[u8]) -> PublicJwk {
    PublicJwk::rsa(strip_zeros(modulus), strip_zeros(exponent))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    b.get(first..).unwrap_or_default()
}

/// An uncompressed SEC1 point `04 || x || y` as an EC JWK.
pub(crate) fn ec_jwk(curve: EcCurve, len: usize, point: &[u8]) -> Result<PublicJwk, KeyError> {
    match point.split_first() {
        Some((4, xy)) if xy.len() == 2 * len => {
            let (x, y) = xy.split_at(len);
            Ok(PublicJwk::ec(curve, x, y))
        }
        _ => Err(KeyError::Broken(format!(
            "an uncompressed {} point is expected",
            curve.as_str()
        ))),
    }
}
