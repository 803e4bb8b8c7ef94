use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use keyward_types::{Base64Url, EcCurve, JwkParams, OkpCurve, SigningAlg};

use crate::{key_rules, JoseError, PublicJwk};

/// A public key bound to exactly one algorithm. The binding is made when the key is loaded, from
/// what was registered, never from a token's header, so an `alg` in a token cannot turn an RSA
/// public key into an HMAC secret (the classic algorithm-confusion attack).
#[derive(Clone)]
pub struct VerifyingKey {
    alg: SigningAlg,
    key: ParsedPublicKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// A verifier for `jwk` bound to `alg`. The key material rules of
    /// [`crate::check_public_jwk`] run here too (RSA `n` and `e`, Ed25519 point order and
    /// encoding), so a key stored before a rule existed can never verify: it fails with
    /// [`JoseError::KeyRefused`].
    pub fn from_jwk(jwk: &PublicJwk, alg: SigningAlg) -> Result<Self, JoseError> {
        let bytes = |v: &Base64Url| v.decode().ok_or(JoseError::InvalidKey);
        let key = match (&jwk.params, alg) {
            (JwkParams::Rsa { n, e }, _) => {
                let params: &'static signature::RsaParameters = match alg {
                    SigningAlg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    SigningAlg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    SigningAlg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    SigningAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    SigningAlg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    SigningAlg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return Err(JoseError::KeyAlgMismatch),
                };
                let (n, e) = (bytes(n)?, bytes(e)?);
                key_rules::check_rsa(&n, &e)?;
                RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(params)
                    .map_err(|_| JoseError::InvalidKey)?
            }
            (JwkParams::Ec { crv, x, y }, SigningAlg::ES256 | SigningAlg::ES384) => {
                let (want, params): (EcCurve, &'static dyn VerificationAlgorithm) =
                    if alg == SigningAlg::ES256 {
                        (EcCurve::P256, &signature::ECDSA_P256_SHA256_FIXED)
                    } else {
                        (EcCurve::P384, &signature::ECDSA_P384_SHA384_FIXED)
                    };
                if *crv != want {
                    return Err(JoseError::KeyAlgMismatch);
                }
                let mut point = vec![0x04];
                point.extend(bytes(x)?);
                point.extend(bytes(y)?);
                ParsedPublicKey::new(params, point).map_err(|_| JoseError::InvalidKey)?
            }
            (
                JwkParams::Okp {
                    crv: OkpCurve::Ed25519,
                    x,
                },
                SigningAlg::EdDSA,
            ) => {
                let x = bytes(x)?;
                key_rules::check_ed25519(&x)?;
                ParsedPublicKey::new(&signature::ED25519, x).map_err(|_| JoseError::InvalidKey)?
            }
            (JwkParams::Ec { .. } | JwkParams::Okp { .. }, _) => return Err(JoseError::KeyAlgMismatch),
        };
        Ok(Self { alg, key })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        self.key
            .verify_sig(signing_input, signature)
            .map_err(|_| JoseError::BadSignature)
    }
}

/// The shortest HMAC key `alg` accepts, in bytes: the size of its hash output (RFC 7518 §3.2,
/// "a key of the same size as the hash output or larger MUST be used"). `None` for an
/// algorithm that is not HMAC.
pub fn hmac_min_key_len(alg: SigningAlg) -> Option<usize> {
    match alg {
        SigningAlg::HS256 => Some(32),
        SigningAlg::HS384 => Some(48),
        SigningAlg::HS512 => Some(64),
        _ => None,
    }
}

/// The MAC of an HS256/384/512 algorithm; `None` for the others.
pub fn hmac_algorithm(alg: SigningAlg) -> Option<aws_lc_rs::hmac::Algorithm> {
    use aws_lc_rs::hmac;
    match alg {
        SigningAlg::HS256 => Some(hmac::HMAC_SHA256),
        SigningAlg::HS384 => Some(hmac::HMAC_SHA384),
        SigningAlg::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// Verifies an HS256/384/512 signature with a shared secret, in constant time. A secret
/// shorter than the hash output is refused before any MAC is computed
/// ([`JoseError::HmacKeyTooShort`]): HS512 under a 43-byte key has at most the strength of
/// the key, not the 256 bits its name promises.
pub fn verify_hmac(
    alg: SigningAlg,
    secret: &[u8],
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), JoseError> {
    use aws_lc_rs::hmac;
    let algorithm = hmac_algorithm(alg).ok_or(JoseError::KeyAlgMismatch)?;
    let min = hmac_min_key_len(alg).ok_or(JoseError::KeyAlgMismatch)?;
    if secret.len() < min {
        return Err(JoseError::HmacKeyTooShort {
            alg,
            len: secret.len(),
            min,
        });
    }
    hmac::verify(&hmac::Key::new(algorithm, secret), signing_input, signature)
        .map_err(|_| JoseError::BadSignature)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{KeyCheckError, SigningKey};

    #[test]
    fn hmac_keys_shorter_than_the_hash_are_refused() {
        use aws_lc_rs::hmac;
        let key43 = [7u8; 43];
        let key64 = [7u8; 64];
        let tag = |alg, key: &[u8]| hmac::sign(&hmac::Key::new(alg, key), b"input").as_ref().to_vec();
        assert_eq!(
            verify_hmac(
                SigningAlg::HS256,
                &key43,
                b"input",
                &tag(hmac::HMAC_SHA256, &key43)
            ),
            Ok(())
        );
        for (alg, algorithm, min) in [
            (SigningAlg::HS384, hmac::HMAC_SHA384, 48),
            (SigningAlg::HS512, hmac::HMAC_SHA512, 64),
        ] {
            assert_eq!(
                verify_hmac(alg, &key43, b"input", &tag(algorithm, &key43)),
                Err(JoseError::HmacKeyTooShort { alg, len: 43, min })
            );
            assert_eq!(
                verify_hmac(alg, &key64, b"input", &tag(algorithm, &key64)),
                Ok(())
            );
        }
        assert_eq!(
            verify_hmac(SigningAlg::HS256, &[7u8; 31], b"input", &[0u8; 32]),
            Err(JoseError::HmacKeyTooShort {
                alg: SigningAlg::HS256,
                len: 31,
                min: 32
            })
        );
    }

    /// A key stored before the key checks existed still cannot verify: the checks run when
    /// the verifier is built.
    #[test]
    fn weak_keys_never_become_verifiers() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            VerifyingKey::from_jwk(&PublicJwk::ed25519(&identity), SigningAlg::EdDSA).err(),
            Some(JoseError::KeyRefused(KeyCheckError::Ed25519SmallOrder))
        );
        let rsa = SigningKey::generate(SigningAlg::RS256).unwrap();
        let mut e1 = rsa.public_jwk().clone();
        if let JwkParams::Rsa { e, .. } = &mut e1.params {
            *e = Base64Url::encode([1]);
        }
        assert_eq!(
            VerifyingKey::from_jwk(&e1, SigningAlg::RS256).err(),
            Some(JoseError::KeyRefused(KeyCheckError::RsaExponentOne))
        );
        assert!(VerifyingKey::from_jwk(rsa.public_jwk(), SigningAlg::RS256).is_ok());
    }
}
