//! Every way the admin API refuses a request (DESIGN.md "Interfaces"; RFC 6750 §3.1 for bearer
//! tokens, RFC 7591 §3.2.2 for client metadata): the status, the error code (and the field it
//! names), and that nothing was stored or changed by the refused request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_jose::{b64_decode, b64_encode};
use keyward_testkit::server::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::Duration;

/// Answer to `POST /admin/clients` with `{"client_id": "probe"}`, sent with this (or no)
/// `Authorization` value: status, `WWW-Authenticate`, body.
async fn create_with_auth(
    srv: &TestServer,
    authorization: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = srv
        .http
        .post(srv.url("/admin/clients"))
        .json(&json!({"client_id": "probe"}));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, www, body)
}

/// Asserts a 401 `invalid_token` with a Bearer challenge, and that `probe` was not created.
async fn assert_invalid_token(srv: &TestServer, authorization: Option<&str>) {
    let (status, www, body) = create_with_auth(srv, authorization).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_token", "{body}");
    let www = www.expect("WWW-Authenticate header");
    assert!(www.starts_with("Bearer"), "{www}");
    assert!(!srv.client_exists("probe").await);
}

/// `POST /admin/clients` with this metadata must be refused with `invalid_client_metadata`
/// naming `field`, and store nothing.
async fn assert_bad_metadata(srv: &TestServer, metadata: Value, field: &str) {
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(Method::POST, "/admin/clients", Some(metadata.clone()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{metadata} → {body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(body["field"], field, "{metadata} → {body}");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(srv.snapshot().await, before);
}

// ---- bearer tokens ----

#[tokio::test]
async fn admin_rejects_missing_token() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    assert_invalid_token(&srv, None).await;
    // A token under another scheme is no bearer token either.
    assert_invalid_token(&srv, Some(&basic_header(ADMIN_ID, ADMIN_SECRET))).await;
    let resp = srv.http.get(srv.url("/admin/clients")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_garbage_token() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    assert_invalid_token(&srv, Some("Bearer not-a-token")).await;
    assert_invalid_token(&srv, Some("Bearer a.b.c")).await;
    assert_invalid_token(&srv, Some("Bearer ")).await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_token_of_non_admin_client() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "svc-read", "scope": "read"}))
        .await;
    let token = srv.token_for(&id, &secret).await;
    let before = srv.snapshot().await;
    let (status, www, body) = create_with_auth(&srv, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "insufficient_scope", "{body}");
    let www = www.expect("WWW-Authenticate header");
    assert!(www.starts_with("Bearer"), "{www}");
    assert!(www.contains("insufficient_scope"), "{www}");
    // Reading is refused too.
    let (status, body) = srv.admin_as(&token, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");
    assert!(!srv.client_exists("probe").await);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_expired_token() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    // Still good just before it expires.
    srv.clock.advance(Duration::seconds(299));
    let (status, _) = srv.admin_as(&token, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
    srv.clock.advance(Duration::seconds(2));
    let before = srv.snapshot().await;
    assert_invalid_token(&srv, Some(&format!("Bearer {token}"))).await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_token_after_admin_client_disabled() {
    let srv = TestServer::start().await;
    let (ops, ops_secret) = srv
        .create_client(json!({"client_id": "ops-admin", "scope": "keyward:admin"}))
        .await;
    let token = srv.token_for(&ops, &ops_secret).await;
    let (status, _) = srv.admin_as(&token, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK, "works while enabled");

    let (status, body) = srv
        .admin(
            Method::PATCH,
            "/admin/clients/ops-admin",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = srv.snapshot().await;
    assert_invalid_token(&srv, Some(&format!("Bearer {token}"))).await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_token_with_tampered_signature() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut sig = b64_decode(&parts[2]).unwrap();
    sig[10] ^= 0x01;
    parts[2] = b64_encode(&sig);
    let tampered = parts.join(".");
    assert_ne!(tampered, token);
    let before = srv.snapshot().await;
    assert_invalid_token(&srv, Some(&format!("Bearer {tampered}"))).await;

    // Changed claims under the original signature fail as well.
    let (_, mut claims) = jwt_parts(&token);
    claims["scope"] = json!("keyward:admin extra");
    let forged = format!(
        "{}.{}.{}",
        token.split('.').next().unwrap(),
        b64_encode(serde_json::to_vec(&claims).unwrap()),
        token.split('.').nth(2).unwrap()
    );
    assert_invalid_token(&srv, Some(&format!("Bearer {forged}"))).await;
    assert_eq!(srv.snapshot().await, before);
    // The untouched token still works.
    let (status, _) = srv.admin_as(&token, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
}

// ---- client metadata ----

#[tokio::test]
async fn admin_rejects_unknown_token_endpoint_auth_method() {
    let srv = TestServer::start().await;
    assert_bad_metadata(
        &srv,
        json!({"client_id": "x1", "token_endpoint_auth_method": "foo"}),
        "token_endpoint_auth_method",
    )
    .await;
}

#[tokio::test]
async fn admin_rejects_unknown_grant_type() {
    let srv = TestServer::start().await;
    assert_bad_metadata(
        &srv,
        json!({"client_id": "x1", "grant_types": ["password"]}),
        "grant_types",
    )
    .await;
}

#[tokio::test]
async fn admin_rejects_client_uri_that_is_not_a_url() {
    let srv = TestServer::start().await;
    assert_bad_metadata(
        &srv,
        json!({"client_id": "x1", "client_uri": "not a url"}),
        "client_uri",
    )
    .await;
}

#[tokio::test]
async fn admin_rejects_relative_default_audience() {
    let srv = TestServer::start().await;
    assert_bad_metadata(
        &srv,
        json!({"client_id": "x1", "default_audience": "/api"}),
        "default_audience",
    )
    .await;
}

#[tokio::test]
async fn admin_rejects_allowed_audience_with_fragment() {
    let srv = TestServer::start().await;
    assert_bad_metadata(
        &srv,
        json!({"client_id": "x1", "allowed_audiences": ["https://a.example/#x"]}),
        "allowed_audiences",
    )
    .await;
}

#[tokio::test]
async fn admin_rejects_unknown_field() {
    let srv = TestServer::start().await;
    assert_bad_metadata(&srv, json!({"clien_name": "x"}), "clien_name").await;
}

#[tokio::test]
async fn admin_rejects_bad_scope_characters() {
    let srv = TestServer::start().await;
    assert_bad_metadata(&srv, json!({"client_id": "x1", "scope": "a\"b"}), "scope").await;
}

#[tokio::test]
async fn admin_rejects_zero_access_token_lifetime() {
    let srv = TestServer::start().await;
    assert_bad_metadata(
        &srv,
        json!({"client_id": "x1", "access_token_lifetime": 0}),
        "access_token_lifetime",
    )
    .await;
}

#[tokio::test]
async fn admin_rejects_access_token_lifetime_over_max() {
    let srv = TestServer::start().await;
    assert_bad_metadata(
        &srv,
        json!({"client_id": "x1", "access_token_lifetime": 999_999}),
        "access_token_lifetime",
    )
    .await;
}

#[tokio::test]
async fn admin_rejects_invalid_client_id() {
    let srv = TestServer::start().await;
    assert_bad_metadata(&srv, json!({"client_id": "has space"}), "client_id").await;
}

#[tokio::test]
async fn admin_rejects_wrong_json_type() {
    let srv = TestServer::start().await;
    assert_bad_metadata(&srv, json!({"client_id": "x1", "scope": 5}), "scope").await;
}

#[tokio::test]
async fn admin_rejects_non_json_body() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let before = srv.snapshot().await;
    for body in ["client_id=x1", "{\"client_id\": \"x1\"", ""] {
        let resp = srv
            .http
            .post(srv.url("/admin/clients"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body:?}");
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_client_metadata", "{answer}");
        assert_eq!(answer["field"], "body", "{answer}");
    }
    assert!(!srv.client_exists("x1").await);
    assert_eq!(srv.snapshot().await, before);
}

// ---- conflicts and unknown clients ----

#[tokio::test]
async fn admin_rejects_duplicate_client_id() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "svc-dup", "client_name": "first", "scope": "read"}))
        .await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "svc-dup", "client_name": "second", "scope": "write"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "conflict", "{body}");
    assert!(body.get("client_secret").is_none());
    assert_eq!(srv.snapshot().await, before);
    let (_, first) = srv.admin(Method::GET, "/admin/clients/svc-dup", None).await;
    assert_eq!(first["client_name"], "first");
    assert_eq!(first["scope"], "read");
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the first client's secret still works"
    );
}

#[tokio::test]
async fn admin_rejects_grace_period_over_max() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            &format!("/admin/clients/{id}/secret"),
            Some(json!({"grace_period_seconds": 604_801})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(body["field"], "grace_period_seconds", "{body}");
    assert!(body.get("client_secret").is_none());
    assert_eq!(srv.snapshot().await, before);
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK, "old secret still works");
}

#[tokio::test]
async fn admin_rejects_patch_changing_client_id() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/{id}"),
            Some(json!({"client_id": "renamed", "client_name": "n"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(body["field"], "client_id", "{body}");
    assert_eq!(srv.snapshot().await, before);
    assert!(!srv.client_exists("renamed").await);
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_rejects_patch_of_unknown_client() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::PATCH,
            "/admin/clients/nobody",
            Some(json!({"client_name": "n"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "not_found", "{body}");
    assert!(!srv.client_exists("nobody").await);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_delete_of_unknown_client() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, body) = srv.admin(Method::DELETE, "/admin/clients/nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "not_found", "{body}");
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_secret_rotation_of_unknown_client() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(Method::POST, "/admin/clients/nobody/secret", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "not_found", "{body}");
    assert!(body.get("client_secret").is_none());
    assert!(!srv.client_exists("nobody").await);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn admin_rejects_deleting_bootstrap_client() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(Method::DELETE, &format!("/admin/clients/{ADMIN_ID}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "conflict", "{body}");
    assert_eq!(srv.snapshot().await, before);
    assert!(srv.client_exists(ADMIN_ID).await);
    // It still works: a new token, and an admin call with it.
    let (status, _) = srv.admin(Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn admin_rejects_disabling_bootstrap_client() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin_as(
            &token,
            Method::PATCH,
            &format!("/admin/clients/{ADMIN_ID}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "conflict", "{body}");
    assert_eq!(srv.snapshot().await, before);
    // The token it already had and a fresh one both still work.
    let (status, _) = srv.admin_as(&token, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = srv
        .admin(Method::GET, &format!("/admin/clients/{ADMIN_ID}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["enabled"], true);
    assert_eq!(body["scope"], "keyward:admin");
}

#[tokio::test]
async fn admin_records_failed_change_in_audit_log() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, _) = srv
        .admin(Method::DELETE, &format!("/admin/clients/{ADMIN_ID}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The failure is logged; it stored no change (the snapshot counts successes only).
    assert_eq!(srv.snapshot().await, before);
    let (status, body) = srv.admin(Method::GET, "/admin/audit?limit=1", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let newest = &body["events"][0];
    assert_eq!(newest["action"], "client.delete", "{newest}");
    assert_eq!(newest["target"], ADMIN_ID);
    assert_eq!(newest["actor"], ADMIN_ID);
    assert_eq!(newest["outcome"], "failure");
}
