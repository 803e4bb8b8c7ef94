//! `private_key_jwt` and `client_secret_jwt` (RFC 7523) accepted end to end, with the interop
//! keys made by OpenSSL and jwcrypto, for every supported algorithm.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::server::*;
use keyward_types::SigningAlg;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn private_key_jwt_with_interop_keys_gets_tokens() {
    let srv = TestServer::start().await;
    for (name, alg) in [
        ("rsa2048", SigningAlg::RS256),
        ("ec256", SigningAlg::ES256),
        ("ed25519", SigningAlg::EdDSA),
    ] {
        let id = format!("pk-{name}");
        let jwk = interop_jwk(name);
        srv.key_client(&id, std::slice::from_ref(&jwk), json!({})).await;
        let key = interop_key(name, alg);
        let header = json!({"alg": alg.as_str(), "kid": jwk["kid"]});
        let assertion = sign_jws(&key, &header, &srv.claims(&id));
        assert_token_for(srv.token_assertion(&assertion, &[]).await, &id).await;
    }
}

#[tokio::test]
async fn private_key_jwt_every_asymmetric_algorithm() {
    let srv = TestServer::start().await;
    let cases = [
        ("rsa2048", SigningAlg::RS384),
        ("rsa2048", SigningAlg::RS512),
        ("rsa2048", SigningAlg::PS256),
        ("rsa2048", SigningAlg::PS384),
        ("rsa2048", SigningAlg::PS512),
        ("ec384", SigningAlg::ES384),
    ];
    for (i, (name, alg)) in cases.into_iter().enumerate() {
        let key = interop_key(name, alg);
        let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
        jwk["alg"] = json!(alg.as_str());
        let id = format!("alg-{i}");
        srv.key_client(&id, &[jwk], json!({})).await;
        let assertion = sign_jws(
            &key,
            &json!({"alg": alg.as_str(), "kid": key.kid()}),
            &srv.claims(&id),
        );
        assert_token_for(srv.token_assertion(&assertion, &[]).await, &id).await;
    }
}

#[tokio::test]
async fn private_key_jwt_without_kid_tries_keys_of_the_alg() {
    let srv = TestServer::start().await;
    srv.key_client(
        "nokid",
        &[interop_jwk("ec256"), interop_jwk("ed25519")],
        json!({}),
    )
    .await;
    let key = interop_key("ec256", SigningAlg::ES256);
    let assertion = sign_jws(&key, &json!({"alg": "ES256"}), &srv.claims("nokid"));
    assert_token_for(
        srv.token_assertion(&assertion, &[("client_id", "nokid")]).await,
        "nokid",
    )
    .await;
}

#[tokio::test]
async fn client_secret_jwt_every_hmac_algorithm() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.secret_jwt_client("hs", json!({})).await;
    for alg in ["HS256", "HS384", "HS512"] {
        let assertion = sign_hmac(
            secret.as_bytes(),
            &json!({"alg": alg, "typ": "JWT"}),
            &srv.claims(&id),
        );
        assert_token_for(srv.token_assertion(&assertion, &[]).await, &id).await;
    }
}

#[tokio::test]
async fn client_secret_jwt_rotation_keeps_old_secret_for_grace_period() {
    let srv = TestServer::start().await;
    let (id, old) = srv.secret_jwt_client("hs-rot", json!({})).await;
    let (status, body) = srv
        .admin(
            reqwest::Method::POST,
            &format!("/admin/clients/{id}/secret"),
            Some(json!({"grace_period_seconds": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let new = body["client_secret"].as_str().unwrap().to_owned();
    for s in [&old, &new] {
        let a = sign_hmac(s.as_bytes(), &json!({"alg": "HS256"}), &srv.claims(&id));
        assert_token_for(srv.token_assertion(&a, &[]).await, &id).await;
    }
    srv.clock.advance(time::Duration::seconds(61));
    let a = sign_hmac(old.as_bytes(), &json!({"alg": "HS256"}), &srv.claims(&id));
    assert_invalid_client(srv.token_assertion(&a, &[]).await, false).await;
    let a = sign_hmac(new.as_bytes(), &json!({"alg": "HS256"}), &srv.claims(&id));
    assert_token_for(srv.token_assertion(&a, &[]).await, &id).await;
}

#[tokio::test]
async fn legacy_token_endpoint_audience_only_when_flag_is_on() {
    let srv = TestServer::start().await;
    let jwk = interop_jwk("ec256");
    srv.key_client(
        "legacy",
        std::slice::from_ref(&jwk),
        json!({"legacy_token_endpoint_audience": true}),
    )
    .await;
    let key = interop_key("ec256", SigningAlg::ES256);
    let mut claims = srv.claims("legacy");
    claims["aud"] = json!(srv.url("/token"));
    let a = sign_jws(&key, &json!({"alg": "ES256", "kid": jwk["kid"]}), &claims);
    assert_token_for(srv.token_assertion(&a, &[]).await, "legacy").await;
}

#[tokio::test]
async fn discovery_lists_jwt_methods_and_algorithms() {
    let srv = TestServer::start().await;
    let doc = srv.get_json("/.well-known/oauth-authorization-server").await;
    let methods: Vec<&str> = doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "client_secret_basic",
            "client_secret_jwt",
            "client_secret_post",
            "private_key_jwt"
        ]
    );
    let algs: Vec<&str> = doc["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        algs,
        [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256",
            "HS384", "HS512"
        ]
    );
}

#[tokio::test]
async fn accepted_assertion_is_stored_once_in_replay_store() {
    let srv = TestServer::start().await;
    let jwk = interop_jwk("ed25519");
    srv.key_client("once", std::slice::from_ref(&jwk), json!({}))
        .await;
    let key = interop_key("ed25519", SigningAlg::EdDSA);
    let a = sign_jws(
        &key,
        &json!({"alg": "EdDSA", "kid": jwk["kid"]}),
        &srv.claims("once"),
    );
    assert_eq!(srv.replay_entries().await, 0);
    assert_token_for(srv.token_assertion(&a, &[]).await, "once").await;
    assert_eq!(srv.replay_entries().await, 1);
}
