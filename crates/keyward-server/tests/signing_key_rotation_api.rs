//! Rotating the server's signing key through the admin API: the new key signs at once on this
//! node, the replaced key stays published for `max_access_token_lifetime`, the rotation is in
//! the audit log with its actor, and an algorithm the server cannot sign with changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_jose::Jwks;
use keyward_storage::{AuditQuery, AuditRecord};
use keyward_testkit::server::*;
use keyward_types::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

async fn published_kids(srv: &TestServer) -> Vec<String> {
    let resp = srv.http.get(srv.url("/jwks")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let jwks: Jwks = resp.json().await.unwrap();
    let mut kids: Vec<String> = jwks.keys.iter().map(|k| k.kid.clone().unwrap()).collect();
    kids.sort();
    kids
}

async fn stored_keys(srv: &TestServer) -> Vec<(String, String, Option<OffsetDateTime>)> {
    let mut keys: Vec<_> = srv
        .storage()
        .await
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.kid, r.alg, r.retire_at))
        .collect();
    keys.sort();
    keys
}

async fn audit_of(srv: &TestServer, action: &str) -> Vec<AuditRecord> {
    srv.storage()
        .await
        .list_audit(&AuditQuery::newest(500))
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.action == action)
        .collect()
}

#[tokio::test]
async fn rotation_signs_with_the_new_key_at_once_and_keeps_the_old_one_published() {
    let srv = TestServer::start().await;
    let old_kids = published_kids(&srv).await;
    assert_eq!(old_kids.len(), 1);
    let old_kid = old_kids[0].clone();
    let old_token = srv.admin_token().await;
    assert_eq!(kid_of(&old_token), old_kid);

    let (status, body) = srv
        .admin(Method::POST, "/admin/signing-keys/rotate", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_kid = body["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(body["alg"], "ES256", "the configured token_signing_alg");
    assert_eq!(body["state"], "active");
    assert_eq!(body["retire_at"], Value::Null);
    assert!(body.get("encrypted_key").is_none() && body.get("d").is_none());

    // Both keys are published, and a token issued now carries the new kid and verifies.
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(published_kids(&srv).await, both);
    let new_token = srv.admin_token().await;
    assert_eq!(kid_of(&new_token), new_kid);
    verify_with_jwks(&srv, &new_token).await;
    verify_with_jwks(&srv, &old_token).await;
    let (status, _) = srv
        .admin_as(&old_token, Method::GET, "/admin/clients", None)
        .await;
    assert_eq!(status, StatusCode::OK, "a token of the old key still works");

    // The list: newest first, the old key retiring after max_access_token_lifetime.
    let (status, list) = srv.admin(Method::GET, "/admin/signing-keys", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{list}");
    assert_eq!(keys[0]["kid"], new_kid.as_str());
    assert_eq!(keys[0]["state"], "active");
    assert_eq!(keys[1]["kid"], old_kid.as_str());
    assert_eq!(keys[1]["state"], "retiring");
    let retire_at = srv.clock.now() + Duration::seconds(i64::from(srv.config.max_access_token_lifetime));
    let listed = OffsetDateTime::parse(keys[1]["retire_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(listed, retire_at, "{list}");

    // Audited with the token's client as the actor, in the key's own transaction.
    let rotations = audit_of(&srv, "signing_key.rotate").await;
    assert_eq!(rotations.len(), 1, "{rotations:?}");
    let event = &rotations[0].event;
    assert_eq!(event.actor, ADMIN_ID);
    assert_eq!(event.outcome, "success");
    assert_eq!(event.target, new_kid);
    assert_eq!(event.detail["replaces"], json!([old_kid]));
    let retired = audit_of(&srv, "signing_key.retire").await;
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].event.target, old_kid);
}

#[tokio::test]
async fn rotation_to_another_alg_signs_with_that_alg() {
    let srv = TestServer::start().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/signing-keys/rotate",
            Some(json!({"alg": "EdDSA"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["alg"], "EdDSA");
    let token = srv.admin_token().await;
    let (header, _) = jwt_parts(&token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], body["kid"]);
    verify_with_jwks(&srv, &token).await;
}

#[tokio::test]
async fn rotation_with_an_empty_body_uses_the_configured_alg() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let resp = srv
        .http
        .post(srv.url("/admin/signing-keys/rotate"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["alg"], "ES256");
    assert_eq!(kid_of(&srv.admin_token().await), body["kid"].as_str().unwrap());
}

async fn check_refused_alg(alg: &str) {
    let srv = TestServer::start().await;
    let keys_before = stored_keys(&srv).await;
    let kids_before = published_kids(&srv).await;

    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/signing-keys/rotate",
            Some(json!({ "alg": alg })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");

    assert_eq!(stored_keys(&srv).await, keys_before, "nothing stored");
    assert_eq!(published_kids(&srv).await, kids_before);
    assert_eq!(kid_of(&srv.admin_token().await), kids_before[0]);
    let refusals = audit_of(&srv, "signing_key.rotate").await;
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].event.outcome, "failure");
    assert_eq!(refusals[0].event.actor, ADMIN_ID);
}

#[tokio::test]
async fn rejects_rotation_to_an_hmac_alg() {
    check_refused_alg("HS256").await;
}

#[tokio::test]
async fn rejects_rotation_to_an_alg_without_a_key_generator() {
    check_refused_alg("RS384").await;
}

#[tokio::test]
async fn rejects_rotation_to_an_unknown_alg() {
    check_refused_alg("none").await;
}

/// Like every admin body, an unknown member is refused by the strict reader, naming it.
#[tokio::test]
async fn rejects_rotation_with_an_unknown_member() {
    let srv = TestServer::start().await;
    let keys_before = stored_keys(&srv).await;
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/signing-keys/rotate",
            Some(json!({"algorithm": "ES256"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(stored_keys(&srv).await, keys_before);
    let refusals = audit_of(&srv, "signing_key.rotate").await;
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].event.outcome, "failure");
}

#[tokio::test]
async fn signing_key_routes_require_an_admin_token() {
    let srv = TestServer::start().await;
    let keys_before = stored_keys(&srv).await;
    for (method, path) in [
        (Method::GET, "/admin/signing-keys"),
        (Method::POST, "/admin/signing-keys/rotate"),
    ] {
        let resp = srv
            .http
            .request(method.clone(), srv.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // A token without scope keyward:admin is forbidden.
    let (id, secret) = srv.create_client(json!({"scope": "read"})).await;
    let token = srv.token_for(&id, &secret).await;
    let (status, _) = srv
        .admin_as(&token, Method::POST, "/admin/signing-keys/rotate", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(stored_keys(&srv).await, keys_before, "nothing stored");
}
