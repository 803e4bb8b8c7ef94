use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use keyward_types::SigningAlg;

use crate::{b64_decode, JoseError, PublicJwk};

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
    pub fn from_jwk(jwk: &PublicJwk, alg: SigningAlg) -> Result<Self, JoseError> {
        let field = |v: &Option<String>| -> Result<Vec<u8>, JoseError> {
            v.as_deref().and_then(b64_decode).ok_or(JoseError::InvalidKey)
        };
        let key = match (jwk.kty.as_str(), alg) {
            ("RSA", _) => {
                let params: &'static signature::RsaParameters = match alg {
                    SigningAlg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    SigningAlg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    SigningAlg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    SigningAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    SigningAlg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    SigningAlg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return Err(JoseError::KeyAlgMismatch),
                };
                let (n, e) = (field(&jwk.n)?, field(&jwk.e)?);
                RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(params)
                    .map_err(|_| JoseError::InvalidKey)?
            }
            ("EC", SigningAlg::ES256 | SigningAlg::ES384) => {
                let (crv, params): (&str, &'static dyn VerificationAlgorithm) = if alg == SigningAlg::ES256 {
                    ("P-256", &signature::ECDSA_P256_SHA256_FIXED)
                } else {
                    ("P-384", &signature::ECDSA_P384_SHA384_FIXED)
                };
                if jwk.crv.as_deref() != Some(crv) {
                    return Err(JoseError::KeyAlgMismatch);
                }
                let mut point = vec![0x04];
                point.extend(field(&jwk.x)?);
                point.extend(field(&jwk.y)?);
                ParsedPublicKey::new(params, point).map_err(|_| JoseError::InvalidKey)?
            }
            ("OKP", SigningAlg::EdDSA) if jwk.crv.as_deref() == Some("Ed25519") => {
                ParsedPublicKey::new(&signature::ED25519, field(&jwk.x)?)
                    .map_err(|_| JoseError::InvalidKey)?
            }
            _ => return Err(JoseError::KeyAlgMismatch),
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

/// Verifies an HS256/384/512 signature with a shared secret, in constant time.
pub fn verify_hmac(
    alg: SigningAlg,
    secret: &[u8],
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), JoseError> {
    use aws_lc_rs::hmac;
    let algorithm = match alg {
        SigningAlg::HS256 => hmac::HMAC_SHA256,
        SigningAlg::HS384 => hmac::HMAC_SHA384,
        SigningAlg::HS512 => hmac::HMAC_SHA512,
        _ => return Err(JoseError::KeyAlgMismatch),
    };
    hmac::verify(&hmac::Key::new(algorithm, secret), signing_input, signature)
        .map_err(|_| JoseError::BadSignature)
}
