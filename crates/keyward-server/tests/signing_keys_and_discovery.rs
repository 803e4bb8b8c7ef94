//! The server's signing keys (one per configured algorithm, kept across restarts, old keys
//! published after a change of algorithm), discovery metadata (RFC 8414, OpenID Connect
//! Discovery), health and metrics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_jose::{CompactJws, Jwks, VerifyingKey};
use keyward_testkit::server::*;
use keyward_types::SigningAlg;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn jwks(srv: &TestServer) -> Jwks {
    let resp = srv.http.get(srv.url("/jwks")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

fn kids(jwks: &Jwks) -> Vec<String> {
    jwks.keys.iter().map(|k| k.kid.clone().unwrap()).collect()
}

async fn check_alg(alg: SigningAlg, kty: &str) {
    let srv = TestServer::start_with(|c| c.token_signing_alg = alg).await;
    let set = jwks(&srv).await;
    assert_eq!(set.keys.len(), 1, "{set:?}");
    let jwk = &set.keys[0];
    let kid = jwk.kid.clone().expect("kid");
    assert!(!kid.is_empty());
    assert_eq!(jwk.use_.as_deref(), Some("sig"));
    assert_eq!(jwk.alg.as_deref(), Some(alg.as_str()));
    assert_eq!(jwk.kty(), kty);

    let token = srv.admin_token().await;
    let (header, _) = jwt_parts(&token);
    assert_eq!(header["kid"], kid.as_str());
    assert_eq!(header["alg"], alg.as_str());
    assert_eq!(header["typ"], "at+jwt");
    let claims = verify_with_jwks(&srv, &token).await;
    assert_eq!(claims["iss"], srv.base);
    assert_eq!(claims["client_id"], ADMIN_ID);

    // Verified with the published key of that alg, not merely any key.
    let jws = CompactJws::parse(&token).unwrap();
    let key = VerifyingKey::from_jwk(jwk, alg).unwrap();
    key.verify(jws.signing_input.as_bytes(), &jws.signature).unwrap();
    let mut bad = jws.signature.clone();
    bad[5] ^= 0x01;
    assert!(key.verify(jws.signing_input.as_bytes(), &bad).is_err());

    // Its own admin API accepts it.
    let (status, _) = srv.admin_as(&token, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rs256_key_is_published_and_signs_tokens() {
    check_alg(SigningAlg::RS256, "RSA").await;
}

#[tokio::test]
async fn ps256_key_is_published_and_signs_tokens() {
    check_alg(SigningAlg::PS256, "RSA").await;
}

#[tokio::test]
async fn es256_key_is_published_and_signs_tokens() {
    check_alg(SigningAlg::ES256, "EC").await;
}

#[tokio::test]
async fn eddsa_key_is_published_and_signs_tokens() {
    check_alg(SigningAlg::EdDSA, "OKP").await;
}

#[tokio::test]
async fn restart_keeps_the_signing_key() {
    let mut srv = TestServer::start().await;
    let before = kids(&jwks(&srv).await);
    assert_eq!(before.len(), 1);
    srv.restart().await;
    let after = kids(&jwks(&srv).await);
    assert_eq!(after, before);
    let token = srv.admin_token().await;
    let (header, _) = jwt_parts(&token);
    assert_eq!(header["kid"], before[0].as_str());
    verify_with_jwks(&srv, &token).await;
}

#[tokio::test]
async fn restart_with_new_alg_rotates_and_keeps_old_key_published() {
    // A fixed issuer: restarts bind a new port, and tokens name the issuer they were made for.
    let mut srv = TestServer::start_with(|c| {
        c.token_signing_alg = SigningAlg::ES256;
        c.issuer = Some("http://keyward.test".into());
    })
    .await;
    let old_set = jwks(&srv).await;
    assert_eq!(old_set.keys.len(), 1);
    let old_kid = old_set.keys[0].kid.clone().unwrap();
    let old_token = srv.admin_token().await;
    assert_eq!(jwt_parts(&old_token).0["kid"], old_kid.as_str());

    srv.config.token_signing_alg = SigningAlg::EdDSA;
    srv.restart().await;

    let set = jwks(&srv).await;
    assert_eq!(set.keys.len(), 2, "{set:?}");
    let old = set
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(&old_kid))
        .expect("old key still published");
    assert_eq!(old.alg.as_deref(), Some("ES256"));
    let new = set
        .keys
        .iter()
        .find(|k| k.kid.as_deref() != Some(&old_kid))
        .unwrap();
    let new_kid = new.kid.clone().unwrap();
    assert_eq!(new.alg.as_deref(), Some("EdDSA"));
    assert_eq!(new.use_.as_deref(), Some("sig"));

    let new_token = srv.admin_token().await;
    let (header, _) = jwt_parts(&new_token);
    assert_eq!(header["kid"], new_kid.as_str());
    assert_eq!(header["alg"], "EdDSA");
    verify_with_jwks(&srv, &new_token).await;
    verify_with_jwks(&srv, &old_token).await;

    // A token the old key signed is still a valid admin bearer token.
    let (status, body) = srv
        .admin_as(&old_token, Method::GET, "/admin/clients", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Another restart with the same alg rotates nothing.
    srv.restart().await;
    let again = kids(&jwks(&srv).await);
    assert_eq!(again.len(), 2);
    assert!(again.contains(&old_kid) && again.contains(&new_kid));
    assert_eq!(jwt_parts(&srv.admin_token().await).0["kid"], new_kid.as_str());
}

async fn check_discovery(srv: &TestServer, path: &str) {
    let resp = srv.http.get(srv.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["issuer"], srv.base, "{path}");
    assert_eq!(doc["token_endpoint"], format!("{}/token", srv.base));
    assert_eq!(doc["jwks_uri"], format!("{}/jwks", srv.base));
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["client_credentials", "authorization_code", "refresh_token"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_jwt",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        doc["token_endpoint_auth_signing_alg_values_supported"]
            .as_array()
            .map(Vec::len),
        Some(12)
    );
}

#[tokio::test]
async fn discovery_documents_describe_the_server() {
    let srv = TestServer::start().await;
    check_discovery(&srv, "/.well-known/openid-configuration").await;
    check_discovery(&srv, "/.well-known/oauth-authorization-server").await;
}

#[tokio::test]
async fn healthz_reports_ok() {
    let srv = TestServer::start().await;
    let resp = srv.http.get(srv.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn metrics_count_token_requests() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = srv.metrics().await;
    assert!(
        text.contains("keyward_http_requests_total{endpoint=\"/token\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("keyward_http_request_duration_seconds_bucket{endpoint=\"/token\""),
        "{text}"
    );
}
