//! The assertion's header and claims, as DESIGN.md's "Client assertion rules" check them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use keyward_jose::{verify_hmac, CompactJws, SigningKey};
use keyward_types::{ClientSecret, SigningAlg};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::{
    auth::{AuthRequest, KeyRing, NamedKey, PrivateKeyJwt, SecretJwt, SecretPost},
    ClientAuth, DEFAULT_TOKEN_EXPIRATION,
};

/// What `auth` sends for client `svc` of `https://as.example` at `now`, by parameter name.
fn sent(auth: &dyn ClientAuth, now: OffsetDateTime) -> Vec<(String, String)> {
    let mut request = AuthRequest::new("svc", "https://as.example", "https://as.example/token", now);
    auth.authenticate(&mut request).unwrap();
    let (form, _) = request.into_parts();
    form.into_iter().map(|(n, v)| (n, v.to_string())).collect()
}

fn assertion(auth: &dyn ClientAuth, now: OffsetDateTime) -> String {
    let sent = sent(auth, now);
    let find = |name: &str| sent.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(find("client_id").as_deref(), Some("svc"));
    assert_eq!(
        find("client_assertion_type").as_deref(),
        Some(crate::ASSERTION_TYPE)
    );
    find("client_assertion").unwrap()
}

fn parts(token: &str) -> (Value, Value) {
    let jws = CompactJws::parse(token).unwrap();
    let first = token.split('.').next().unwrap();
    let header = serde_json::from_slice(&keyward_jose::b64_decode(first).unwrap()).unwrap();
    (header, jws.claims().unwrap())
}

fn key_jwt(key: SigningKey, kid: &str, next: Option<(SigningKey, &str)>) -> PrivateKeyJwt {
    let named = |key, kid: &str| {
        Arc::new(NamedKey {
            key,
            kid: kid.to_owned(),
        })
    };
    let ring = KeyRing {
        current: named(key, kid),
        next: next.map(|(key, kid)| named(key, kid)),
    };
    PrivateKeyJwt::new(ring, DEFAULT_TOKEN_EXPIRATION)
}

#[test]
fn private_key_jwt_claims_and_header() {
    let key = SigningKey::generate(SigningAlg::ES256).unwrap();
    let verifier = key.verifier().clone();
    let auth = key_jwt(key, "k-1", None);
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let token = assertion(&auth, now);
    let (header, claims) = parts(&token);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], "k-1");
    assert_eq!(claims["iss"], "svc");
    assert_eq!(claims["sub"], "svc");
    assert_eq!(claims["aud"], "https://as.example");
    assert_eq!(claims["iat"], 1_800_000_000);
    assert_eq!(claims["exp"], 1_800_000_010);
    let jws = CompactJws::parse(&token).unwrap();
    verifier
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .unwrap();
}

#[test]
fn rotation_publishes_both_keys_and_then_signs_with_the_next() {
    let current = SigningKey::generate(SigningAlg::ES256).unwrap();
    let next = SigningKey::generate(SigningAlg::RS256).unwrap();
    let auth = key_jwt(current, "old", Some((next, "new")));
    let kids = |auth: &PrivateKeyJwt| -> Vec<String> {
        auth.public_keys().into_iter().map(|k| k.kid.unwrap()).collect()
    };
    assert_eq!(kids(&auth), ["old", "new"]);
    let before = parts(&assertion(&auth, OffsetDateTime::UNIX_EPOCH)).0;
    assert_eq!(
        (before["kid"].as_str(), before["alg"].as_str()),
        (Some("old"), Some("ES256"))
    );
    assert!(auth.rotate());
    let after = parts(&assertion(&auth, OffsetDateTime::UNIX_EPOCH)).0;
    assert_eq!(
        (after["kid"].as_str(), after["alg"].as_str()),
        (Some("new"), Some("RS256"))
    );
    assert_eq!(kids(&auth), ["new"]);
    assert!(!auth.rotate(), "there is no next key left");
}

#[test]
fn jti_is_128_random_bits_and_fresh_each_time() {
    let auth = SecretJwt {
        secret: ClientSecret::from_presented("k".repeat(64)),
        alg: SigningAlg::HS256,
        lifetime: DEFAULT_TOKEN_EXPIRATION,
    };
    let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
    let a = parts(&assertion(&auth, now)).1["jti"].clone();
    let b = parts(&assertion(&auth, now)).1["jti"].clone();
    assert_ne!(a, b);
    assert_eq!(keyward_jose::b64_decode(a.as_str().unwrap()).unwrap().len(), 16);
}

#[test]
fn client_secret_jwt_every_hmac_alg_verifies() {
    for alg in [SigningAlg::HS256, SigningAlg::HS384, SigningAlg::HS512] {
        let secret = "s".repeat(64);
        let auth = SecretJwt {
            secret: ClientSecret::from_presented(secret.clone()),
            alg,
            lifetime: Duration::seconds(30),
        };
        let token = assertion(&auth, OffsetDateTime::UNIX_EPOCH);
        let (header, claims) = parts(&token);
        assert_eq!(header["alg"], alg.as_str());
        assert!(header.get("kid").is_none());
        assert_eq!(claims["exp"], 30);
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
fn client_secret_post_sends_the_secret_and_no_assertion() {
    let auth = SecretPost(ClientSecret::from_presented("x-secret".into()));
    let sent = sent(&auth, OffsetDateTime::UNIX_EPOCH);
    assert_eq!(
        sent,
        [
            ("client_id".to_owned(), "svc".to_owned()),
            ("client_secret".to_owned(), "x-secret".to_owned())
        ]
    );
}
