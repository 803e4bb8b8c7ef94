use std::fmt;

use aws_lc_rs::{
    encoding::AsDer,
    rsa::KeySize,
    signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaEncoding, RsaKeyPair},
};
use keyward_types::{EcCurve, SigningAlg};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::{b64_encode, JoseError, PublicJwk, VerifyingKey};

enum Pair {
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One of the server's own signing keys. The private half never leaves this type except as
/// PKCS#8 for the store (which encrypts it); `Debug` shows only the `kid` and `alg`.
pub struct SigningKey {
    alg: SigningAlg,
    kid: String,
    pair: Pair,
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicJwk,
    verifier: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Algorithms the server can sign its own tokens with. [`SigningKey::from_pkcs8`] loads keys
    /// for every asymmetric algorithm (clients sign assertions with them).
    pub const SUPPORTED: [SigningAlg; 4] = [
        SigningAlg::RS256,
        SigningAlg::PS256,
        SigningAlg::ES256,
        SigningAlg::EdDSA,
    ];

    /// A fresh key pair from the OS CSPRNG (RSA keys are 2048-bit).
    pub fn generate(alg: SigningAlg) -> Result<Self, JoseError> {
        let pkcs8: Vec<u8> = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&k))
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| JoseError::KeyGeneration)?,
            SigningAlg::ES256 => EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| JoseError::KeyGeneration)?,
            SigningAlg::EdDSA => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| JoseError::KeyGeneration)?,
            _ => return Err(JoseError::UnsupportedAlg),
        };
        Self::from_pkcs8(alg, Zeroizing::new(pkcs8))
    }

    /// Loads a PKCS#8 private key for `alg`. The `kid` is the RFC 7638 thumbprint of the public key, so it is the
    /// same on every node and after every restart without being stored.
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, JoseError> {
        let (pair, mut public) = match alg {
            SigningAlg::RS256
            | SigningAlg::RS384
            | SigningAlg::RS512
            | SigningAlg::PS256
            | SigningAlg::PS384
            | SigningAlg::PS512 => {
                let k = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|_| JoseError::InvalidKey)?;
                let p = k.public_key();
                let jwk = PublicJwk::rsa(
                    p.modulus().big_endian_without_leading_zero(),
                    p.exponent().big_endian_without_leading_zero(),
                );
                let enc: &'static dyn RsaEncoding = match alg {
                    SigningAlg::RS256 => &signature::RSA_PKCS1_SHA256,
                    SigningAlg::RS384 => &signature::RSA_PKCS1_SHA384,
                    SigningAlg::RS512 => &signature::RSA_PKCS1_SHA512,
                    SigningAlg::PS256 => &signature::RSA_PSS_SHA256,
                    SigningAlg::PS384 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                (Pair::Rsa(k, enc), jwk)
            }
            SigningAlg::ES256 | SigningAlg::ES384 => {
                let (params, crv, len) = if alg == SigningAlg::ES256 {
                    (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, EcCurve::P256, 32)
                } else {
                    (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, EcCurve::P384, 48)
                };
                let k = EcdsaKeyPair::from_pkcs8(params, &pkcs8).map_err(|_| JoseError::InvalidKey)?;
                let point = k.public_key().as_ref();
                let (x, y) = point
                    .get(1..1 + len)
                    .zip(point.get(1 + len..1 + 2 * len))
                    .ok_or(JoseError::InvalidKey)?;
                let jwk = PublicJwk::ec(crv, x, y);
                (Pair::Ec(k), jwk)
            }
            SigningAlg::EdDSA => {
                let k = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| JoseError::InvalidKey)?;
                let jwk = PublicJwk::ed25519(k.public_key().as_ref());
                (Pair::Ed(k), jwk)
            }
            _ => return Err(JoseError::UnsupportedAlg),
        };
        let kid = public.thumbprint();
        public.kid = Some(kid.clone());
        public.use_ = Some("sig".to_owned());
        public.alg = Some(alg.as_str().to_owned());
        let verifier = VerifyingKey::from_jwk(&public, alg)?;
        Ok(Self {
            alg,
            kid,
            pair,
            pkcs8,
            public,
            verifier,
        })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key with `kid`, `use` and `alg`, as published at `/jwks`.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.public
    }

    /// A verifier for tokens this key signed (the admin API checks its own bearer tokens).
    pub fn verifier(&self) -> &VerifyingKey {
        &self.verifier
    }

    /// The private key as PKCS#8 DER, only to be encrypted and stored.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// RSA signing takes ~1 ms of CPU, too long to run on an async worker; EC and Ed25519 take
    /// tens of microseconds.
    pub fn is_slow(&self) -> bool {
        matches!(self.pair, Pair::Rsa(..))
    }

    /// Signs `claims` as a compact JWS with header `{alg, typ, kid}`.
    pub fn sign_jwt<C: Serialize>(&self, typ: &str, claims: &C) -> Result<String, JoseError> {
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'a str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            typ,
            kid: &self.kid,
        })
        .map_err(|_| JoseError::SigningFailed)?;
        let payload = serde_json::to_vec(claims).map_err(|_| JoseError::SigningFailed)?;
        let mut token = String::with_capacity(header.len() * 2 + payload.len() * 2 + 400);
        token.push_str(&b64_encode(header));
        token.push('.');
        token.push_str(&b64_encode(payload));
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64_encode(signature));
        Ok(token)
    }

    /// The raw JWS signature over `message` (the JWS signing input).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        match &self.pair {
            Pair::Rsa(k, enc) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(*enc, &keyward_types::random::rng(), message, &mut sig)
                    .map_err(|_| JoseError::SigningFailed)?;
                Ok(sig)
            }
            Pair::Ec(k) => k
                .sign(&keyward_types::random::rng(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::SigningFailed),
            Pair::Ed(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompactJws;

    #[test]
    fn every_supported_alg_signs_and_verifies() -> Result<(), JoseError> {
        for alg in SigningKey::SUPPORTED {
            let key = SigningKey::generate(alg)?;
            let token = key.sign_jwt("at+jwt", &serde_json::json!({"sub": "x"}))?;
            let jws = CompactJws::parse(&token)?;
            assert_eq!(jws.header.alg, alg.as_str());
            assert_eq!(jws.header.kid.as_deref(), Some(key.kid()));
            key.verifier()
                .verify(jws.signing_input.as_bytes(), &jws.signature)?;
            let reloaded = SigningKey::from_pkcs8(alg, Zeroizing::new(key.pkcs8().to_vec()))?;
            assert_eq!(reloaded.kid(), key.kid());
        }
        Ok(())
    }

    #[test]
    fn debug_hides_private_key() -> Result<(), JoseError> {
        let key = SigningKey::generate(SigningAlg::ES256)?;
        let dbg = format!("{key:?}");
        assert!(dbg.contains("ES256") && !dbg.contains("pkcs8"));
        Ok(())
    }
}
