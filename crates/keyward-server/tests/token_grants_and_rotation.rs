//! What a successful token request gives (scope, audience, lifetime, `jti`), and secret
//! rotation, disclosure and persistence (DESIGN.md "The token request", "Secrets").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use keyward_testkit::server::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A successful token response's body and the access token's claims.
async fn ok_token(resp: reqwest::Response) -> (Value, Value) {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    (body, claims)
}

fn scope_set(v: &Value) -> BTreeSet<String> {
    v.as_str()
        .unwrap_or_else(|| panic!("scope is not a string: {v}"))
        .split(' ')
        .map(str::to_owned)
        .collect()
}

fn set(tokens: &[&str]) -> BTreeSet<String> {
    tokens.iter().map(|s| (*s).to_owned()).collect()
}

async fn rotate(srv: &TestServer, id: &str, body: Option<Value>) -> Value {
    let (status, resp) = srv
        .admin(Method::POST, &format!("/admin/clients/{id}/secret"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    resp
}

// --- Scope ------------------------------------------------------------------------------------

#[tokio::test]
async fn no_scope_requested_gives_all_registered_scope() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "svc-scopes", "scope": "read write delete"}))
        .await;
    let (body, claims) = ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    let all = set(&["read", "write", "delete"]);
    assert_eq!(scope_set(&body["scope"]), all);
    assert_eq!(scope_set(&claims["scope"]), all);
}

#[tokio::test]
async fn subset_scope_requested_gives_exactly_it() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "svc-scopes", "scope": "read write delete"}))
        .await;
    let (body, claims) = ok_token(
        srv.token_basic(&id, &secret, &[CC, ("scope", "write read")])
            .await,
    )
    .await;
    assert_eq!(scope_set(&body["scope"]), set(&["read", "write"]));
    assert_eq!(scope_set(&claims["scope"]), set(&["read", "write"]));

    let (body, claims) = ok_token(srv.token_basic(&id, &secret, &[CC, ("scope", "delete")]).await).await;
    assert_eq!(body["scope"], "delete");
    assert_eq!(claims["scope"], "delete");
}

// --- Audience ---------------------------------------------------------------------------------

#[tokio::test]
async fn resource_in_allowed_audiences_becomes_aud() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({
            "client_id": "svc-aud",
            "scope": "read",
            "default_audience": "https://api.example.com",
            "allowed_audiences": ["https://other.example.com"],
        }))
        .await;
    let (_, claims) = ok_token(
        srv.token_basic(&id, &secret, &[CC, ("resource", "https://other.example.com")])
            .await,
    )
    .await;
    assert_eq!(claims["aud"], "https://other.example.com");
    // Naming the default audience explicitly is allowed too.
    let (_, claims) = ok_token(
        srv.token_basic(&id, &secret, &[CC, ("resource", "https://api.example.com")])
            .await,
    )
    .await;
    assert_eq!(claims["aud"], "https://api.example.com");
}

#[tokio::test]
async fn default_audience_used_without_resource() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({
            "client_id": "svc-aud",
            "scope": "read",
            "default_audience": "https://api.example.com",
            "allowed_audiences": ["https://other.example.com"],
        }))
        .await;
    let (_, claims) = ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    assert_eq!(claims["aud"], "https://api.example.com");
    assert_ne!(claims["aud"], srv.base.as_str());
}

// --- Lifetime and jti -------------------------------------------------------------------------

#[tokio::test]
async fn per_client_access_token_lifetime() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "svc-short", "scope": "read", "access_token_lifetime": 120}))
        .await;
    let (body, claims) = ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    assert_eq!(body["expires_in"], 120);
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 120);
    assert_eq!(iat, srv.clock_now());
}

#[tokio::test]
async fn each_token_has_its_own_jti() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let (a, ca) = ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    let (b, cb) = ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    let (ja, jb) = (ca["jti"].as_str().unwrap(), cb["jti"].as_str().unwrap());
    assert!(!ja.is_empty() && !jb.is_empty());
    assert_ne!(ja, jb);
    assert_ne!(a["access_token"], b["access_token"]);
}

// --- Rotation ---------------------------------------------------------------------------------

#[tokio::test]
async fn rotation_with_grace_keeps_old_secret_until_it_ends() {
    let srv = TestServer::start().await;
    let (id, old) = srv.basic_client().await;
    let rotated_at = srv.clock_now();
    let resp = rotate(&srv, &id, Some(json!({"grace_period_seconds": 60}))).await;
    let new = resp["client_secret"].as_str().unwrap().to_owned();
    assert!(!new.is_empty());
    assert_ne!(new, old);
    assert_eq!(resp["client_id"], id);
    assert_eq!(resp["previous_secret_expires_at"], rotated_at + 60);

    srv.clock.advance(time::Duration::seconds(30));
    ok_token(srv.token_basic(&id, &old, &[CC]).await).await;
    ok_token(srv.token_basic(&id, &new, &[CC]).await).await;

    srv.clock.advance(time::Duration::seconds(31));
    assert_invalid_client(srv.token_basic(&id, &old, &[CC]).await, true).await;
    ok_token(srv.token_basic(&id, &new, &[CC]).await).await;
}

#[tokio::test]
async fn rotation_without_body_revokes_old_secret_at_once() {
    let srv = TestServer::start().await;
    let (id, old) = srv.basic_client().await;
    // Cache the client with the old secret first.
    ok_token(srv.token_basic(&id, &old, &[CC]).await).await;
    let resp = rotate(&srv, &id, None).await;
    let new = resp["client_secret"].as_str().unwrap().to_owned();
    assert!(!new.is_empty());
    assert_ne!(new, old);
    assert!(
        resp.get("previous_secret_expires_at").is_none_or(Value::is_null),
        "no grace period, no previous expiry: {resp}"
    );
    assert_invalid_client(srv.token_basic(&id, &old, &[CC]).await, true).await;
    ok_token(srv.token_basic(&id, &new, &[CC]).await).await;
}

#[tokio::test]
async fn rotation_with_zero_grace_revokes_old_secret_at_once() {
    let srv = TestServer::start().await;
    let (id, old) = srv.post_client().await;
    ok_token(srv.token_post(&id, &old, &[CC]).await).await;
    let resp = rotate(&srv, &id, Some(json!({"grace_period_seconds": 0}))).await;
    let new = resp["client_secret"].as_str().unwrap().to_owned();
    assert!(!new.is_empty());
    assert_ne!(new, old);
    assert!(
        resp.get("previous_secret_expires_at").is_none_or(Value::is_null),
        "no grace period, no previous expiry: {resp}"
    );
    assert_invalid_client(srv.token_post(&id, &old, &[CC]).await, false).await;
    ok_token(srv.token_post(&id, &new, &[CC]).await).await;
}

#[tokio::test]
async fn second_rotation_ends_the_first_grace_period() {
    // At most two secrets are valid at once (DESIGN.md "Secrets").
    let srv = TestServer::start().await;
    let (id, first) = srv.basic_client().await;
    let second = rotate(&srv, &id, Some(json!({"grace_period_seconds": 60}))).await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = rotate(&srv, &id, Some(json!({"grace_period_seconds": 60}))).await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, third);
    assert_invalid_client(srv.token_basic(&id, &first, &[CC]).await, true).await;
    ok_token(srv.token_basic(&id, &second, &[CC]).await).await;
    ok_token(srv.token_basic(&id, &third, &[CC]).await).await;
}

// --- Disclosure -------------------------------------------------------------------------------

#[tokio::test]
async fn secret_is_shown_only_once() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    assert!(secret.len() >= 32, "a generated secret: {secret}");
    let rotated = rotate(&srv, &id, Some(json!({"grace_period_seconds": 60}))).await;
    let new = rotated["client_secret"].as_str().unwrap().to_owned();
    ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    ok_token(srv.token_basic(&id, &new, &[CC]).await).await;

    let (status, one) = srv
        .admin(Method::GET, &format!("/admin/clients/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["client_id"], id, "{one}");
    let (status, list) = srv.admin(Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list["clients"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["client_id"] == id),
        "{list}"
    );
    let (status, audit) = srv.admin(Method::GET, "/admin/audit", None).await;
    assert_eq!(status, StatusCode::OK);
    let audit_text = audit.to_string();
    assert!(
        audit_text.contains("client.create") && audit_text.contains("client.secret.rotate"),
        "the audit log has the events: {audit_text}"
    );

    for (what, v) in [("client", &one), ("list", &list)] {
        let text = v.to_string();
        // No `client_secret` member anywhere (the method name `client_secret_basic` is fine).
        assert!(!text.contains("\"client_secret\""), "{what}: {text}");
        assert!(!text.contains(&secret), "{what} shows the first secret");
        assert!(!text.contains(&new), "{what} shows the rotated secret");
    }
    assert!(!audit_text.contains(&secret), "audit shows the first secret");
    assert!(!audit_text.contains(&new), "audit shows the rotated secret");
}

// --- Cache and persistence --------------------------------------------------------------------

#[tokio::test]
async fn disabled_then_reenabled_client_works_again() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let path = format!("/admin/clients/{id}");
    ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;

    let (status, body) = srv
        .admin(Method::PATCH, &path, Some(json!({"enabled": false})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_invalid_client(srv.token_basic(&id, &secret, &[CC]).await, true).await;

    let (status, body) = srv
        .admin(Method::PATCH, &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], true);
    let (body, claims) = ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    assert_eq!(body["scope"], "read write");
    assert_eq!(claims["sub"], id);
}

#[tokio::test]
async fn client_survives_restart_with_same_secret() {
    let mut srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let old_base = srv.base.clone();
    srv.restart().await;
    assert_ne!(srv.base, old_base, "restarted on a new port");
    assert!(srv.client_exists(&id).await);
    let (body, claims) = ok_token(srv.token_basic(&id, &secret, &[CC]).await).await;
    assert_eq!(body["scope"], "read write");
    assert_eq!(claims["client_id"], id);
    assert_invalid_client(srv.token_basic(&id, &format!("{secret}x"), &[CC]).await, true).await;
}
