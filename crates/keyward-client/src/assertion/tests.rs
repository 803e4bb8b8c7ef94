//! The assertion's header and claims, as DESIGN.md's "Client assertion rules" check them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_jose::{verify_hmac, CompactJws, SigningKey};
use keyward_types::{ClientSecret, SigningAlg};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::client_assertion;
use crate::{config::Credential, ClientConfig};

fn config(credential: Credential) -> ClientConfig {
    ClientConfig {
        client_id: "svc".into(),
        issuer: "https://as.example".into(),
        token_endpoint: None,
        credential,
        token_expiration: crate::DEFAULT_TOKEN_EXPIRATION,
    }
}

fn parts(token: &str) -> (Value, Value) {
    let jws = CompactJws::parse(token).unwrap();
    let first = token.split('.').next().unwrap();
    let header = serde_json::from_slice(&keyward_jose::b64_decode(first).unwrap()).unwrap();
    (header, jws.claims().unwrap())
}

#[test]
fn private_key_jwt_claims_and_header() {
    let key = SigningKey::generate(SigningAlg::ES256).unwrap();
    let kid = key.kid().to_owned();
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let config = config(Credential::PrivateKeyJwt {
        key: Box::new(key),
        kid: kid.clone(),
    });
    let token = client_assertion(&config, now).unwrap().unwrap();
    let (header, claims) = parts(&token);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], kid.as_str());
    assert_eq!(claims["iss"], "svc");
    assert_eq!(claims["sub"], "svc");
    assert_eq!(claims["aud"], "https://as.example");
    assert_eq!(claims["iat"], 1_800_000_000);
    assert_eq!(claims["exp"], 1_800_000_010);
    let Credential::PrivateKeyJwt { key, .. } = &config.credential else {
        panic!()
    };
    let jws = CompactJws::parse(&token).unwrap();
    key.verifier()
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .unwrap();
}

#[test]
fn jti_is_128_random_bits_and_fresh_each_time() {
    let config = config(Credential::ClientSecretJwt {
        secret: ClientSecret::from_presented("k".repeat(64)),
        alg: SigningAlg::HS256,
    });
    let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
    let a = parts(&client_assertion(&config, now).unwrap().unwrap()).1["jti"].clone();
    let b = parts(&client_assertion(&config, now).unwrap().unwrap()).1["jti"].clone();
    assert_ne!(a, b);
    assert_eq!(keyward_jose::b64_decode(a.as_str().unwrap()).unwrap().len(), 16);
}

#[test]
fn client_secret_jwt_every_hmac_alg_verifies() {
    for alg in [SigningAlg::HS256, SigningAlg::HS384, SigningAlg::HS512] {
        let secret = "s".repeat(64);
        let config = config(Credential::ClientSecretJwt {
            secret: ClientSecret::from_presented(secret.clone()),
            alg,
        });
        let token = client_assertion(&config, OffsetDateTime::UNIX_EPOCH)
            .unwrap()
            .unwrap();
        let (header, _) = parts(&token);
        assert_eq!(header["alg"], alg.as_str());
        assert!(header.get("kid").is_none());
        let jws = CompactJws::parse(&token).unwrap();
        verify_hmac(
            alg,
            secret.as_bytes(),
            jws.signing_input.as_bytes(),
            &jws.signature,
        )
        .unwrap();
    }
}

#[test]
fn secret_methods_have_no_assertion() {
    let config = config(Credential::ClientSecretPost(ClientSecret::from_presented(
        "x".into(),
    )));
    assert!(client_assertion(&config, OffsetDateTime::UNIX_EPOCH)
        .unwrap()
        .is_none());
}
