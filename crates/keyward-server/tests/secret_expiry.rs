//! Secret expiry (Keycloak's client secret rotation policy, RFC 7591 `client_secret_expires_at`):
//! a server default and a per-client `client_secret_lifetime`, the expiry returned, an expired
//! secret refused with reason `secret.expired`, rotation starting a new lifetime, the rotated-out
//! secret's grace capped by its own lifetime, and the expiry warning (gauge and log). The
//! server's clock is the test's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use keyward_testkit::{jose::sign_hmac, logs::logs, oauth::CC, server::*};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn advance(srv: &TestServer, seconds: i64) {
    srv.clock.advance(time::Duration::seconds(seconds));
}

async fn basic_status(srv: &TestServer, id: &str, secret: &str) -> StatusCode {
    srv.token_basic(id, secret, &[CC]).await.status()
}

async fn create(srv: &TestServer, meta: Value) -> Value {
    let (status, body) = srv.admin(Method::POST, "/admin/clients", Some(meta)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn secret_lifetime_sets_client_secret_expires_at_and_the_expired_secret_is_refused() {
    let logs = logs();
    let srv = TestServer::start().await;
    let body = create(
        &srv,
        json!({"client_id": "short", "client_secret_lifetime": 3600}),
    )
    .await;
    let expires_at = srv.clock_now() + 3600;
    assert_eq!(body["client_secret_expires_at"], expires_at);
    assert_eq!(body["client_secret_lifetime"], 3600);
    let secret = body["client_secret"].as_str().unwrap();
    let (_, read) = srv.admin(Method::GET, "/admin/clients/short", None).await;
    assert_eq!(read["client_secret_expires_at"], expires_at);

    advance(&srv, 3599);
    assert_eq!(basic_status(&srv, "short", secret).await, StatusCode::OK);
    advance(&srv, 1);
    // The failure counters are the test binary's, shared by its tests: compare differences.
    let expired = srv.auth_failures("secret.expired").await;
    let resp = srv.token_basic("short", secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_description"], "client authentication failed");
    // Other tests of this binary count too: at least this one, and the log names the client.
    assert!(srv.auth_failures("secret.expired").await > expired);
    logs.wait_line(&["secret.expired", "client_id=short"]).await;
    // A wrong secret is still a mismatch, not an expiry.
    assert_eq!(
        basic_status(&srv, "short", "wrong").await,
        StatusCode::UNAUTHORIZED
    );
    logs.wait_line(&["secret.mismatch", "client_id=short"]).await;
}

#[tokio::test]
async fn server_default_secret_lifetime_applies_unless_the_client_sets_its_own() {
    let srv = TestServer::start_with(|c| c.client_secret_lifetime_seconds = 600).await;
    let now = srv.clock_now();
    let default = create(&srv, json!({"client_id": "by-default"})).await;
    assert_eq!(default["client_secret_expires_at"], now + 600);
    let never = create(&srv, json!({"client_id": "never", "client_secret_lifetime": 0})).await;
    assert_eq!(never["client_secret_expires_at"], 0);
    advance(&srv, 601);
    let (default_secret, never_secret) = (
        default["client_secret"].as_str().unwrap(),
        never["client_secret"].as_str().unwrap(),
    );
    assert_eq!(
        basic_status(&srv, "by-default", default_secret).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(basic_status(&srv, "never", never_secret).await, StatusCode::OK);
}

#[tokio::test]
async fn no_lifetime_means_client_secret_expires_at_zero() {
    let srv = TestServer::start().await;
    let body = create(&srv, json!({"client_id": "forever"})).await;
    assert_eq!(body["client_secret_expires_at"], 0);
    advance(&srv, 10 * 365 * 86_400);
    let secret = body["client_secret"].as_str().unwrap();
    assert_eq!(basic_status(&srv, "forever", secret).await, StatusCode::OK);
}

#[tokio::test]
async fn rotation_starts_a_new_lifetime() {
    let srv = TestServer::start().await;
    create(
        &srv,
        json!({"client_id": "rolling", "client_secret_lifetime": 3600}),
    )
    .await;
    advance(&srv, 3000);
    let (status, rotated) = srv
        .admin(Method::POST, "/admin/clients/rolling/secret", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["client_secret_expires_at"], srv.clock_now() + 3600);
    advance(&srv, 3000);
    let secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(basic_status(&srv, "rolling", secret).await, StatusCode::OK);
    let events = audit_events(&srv, "client_id=rolling&action=client.secret.rotate").await;
    assert!(events[0]["detail"]["expires_at"].is_string(), "{}", events[0]);
}

#[tokio::test]
async fn rotated_out_secret_grace_is_capped_by_its_own_lifetime() {
    let srv = TestServer::start().await;
    let body = create(
        &srv,
        json!({"client_id": "capped", "client_secret_lifetime": 100}),
    )
    .await;
    let old = body["client_secret"].as_str().unwrap().to_owned();
    let old_end = body["client_secret_expires_at"].as_i64().unwrap();
    advance(&srv, 50);
    let (status, rotated) = srv
        .admin(
            Method::POST,
            "/admin/clients/capped/secret",
            Some(json!({"grace_period_seconds": 3600})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["previous_secret_expires_at"], old_end, "capped");
    assert_eq!(
        basic_status(&srv, "capped", &old).await,
        StatusCode::OK,
        "in grace"
    );
    advance(&srv, 50);
    assert_eq!(basic_status(&srv, "capped", &old).await, StatusCode::UNAUTHORIZED);
    let new = rotated["client_secret"].as_str().unwrap();
    assert_eq!(basic_status(&srv, "capped", new).await, StatusCode::OK);
}

#[tokio::test]
async fn expired_client_secret_jwt_secret_is_refused_as_expired() {
    let logs = logs();
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .secret_jwt_client("hmac-short", json!({"client_secret_lifetime": 60}))
        .await;
    let sign = |srv: &TestServer| sign_hmac(secret.as_bytes(), &json!({"alg": "HS256"}), &srv.claims(&id));
    assert_eq!(
        srv.token_assertion(&sign(&srv), &[]).await.status(),
        StatusCode::OK
    );
    advance(&srv, 61);
    let before = srv.replay_entries().await;
    let expired = srv.auth_failures("secret.expired").await;
    assert_eq!(
        srv.token_assertion(&sign(&srv), &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(srv.auth_failures("secret.expired").await > expired);
    logs.wait_line(&["secret.expired", "client_id=hmac-short"]).await;
    assert_eq!(srv.replay_entries().await, before, "nothing stored");
}

#[tokio::test]
async fn rejects_a_changed_client_secret_expires_at() {
    let srv = TestServer::start().await;
    let body = create(
        &srv,
        json!({"client_id": "read-only", "client_secret_lifetime": 600}),
    )
    .await;
    let before = srv.snapshot().await;
    let (status, answer) = srv
        .admin(
            Method::PATCH,
            "/admin/clients/read-only",
            Some(json!({"client_secret_expires_at": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "invalid_client_metadata");
    let description = answer["error_description"].as_str().unwrap();
    assert!(
        description.contains("client_secret_expires_at") && description.contains("client_secret_lifetime"),
        "{description}"
    );
    assert_eq!(srv.snapshot().await, before);
    // Sent back as it came, it is accepted.
    let (status, answer) = srv
        .admin(
            Method::PATCH,
            "/admin/clients/read-only",
            Some(json!({"client_secret_expires_at": body["client_secret_expires_at"], "client_name": "same expiry"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn rejects_client_secret_expires_at_at_registration() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, answer) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "sets-expiry", "client_secret_expires_at": 4_000_000_000_i64})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "invalid_client_metadata");
    assert!(!srv.client_exists("sets-expiry").await);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_a_secret_lifetime_beyond_a_century() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, answer) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "too-long", "client_secret_lifetime": u64::MAX})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "invalid_client_metadata");
    assert!(answer["error_description"]
        .as_str()
        .unwrap()
        .contains("client_secret_lifetime"));
    assert_eq!(srv.snapshot().await, before);
}

/// The gauges are process-wide and other tests' servers set them too when they start: wait
/// until this server's periodic check has set the values it should.
async fn wait_gauges(srv: &TestServer, expiring: u64, expired: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let want = (
        format!("keyward_client_secrets_expiring {expiring}"),
        format!("keyward_client_secrets_expired {expired}"),
    );
    loop {
        let text = srv.metrics().await;
        if text.lines().any(|l| l == want.0) && text.lines().any(|l| l == want.1) {
            return;
        }
        assert!(Instant::now() < deadline, "gauges never became {want:?}:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn secrets_near_expiry_are_counted_and_logged() {
    let logs = logs();
    let srv = TestServer::start_with(|c| c.secret_expiry_check_seconds = 1).await;
    create(
        &srv,
        json!({"client_id": "warn-soon", "client_secret_lifetime": 3 * 86_400}),
    )
    .await;
    create(
        &srv,
        json!({"client_id": "warn-later", "client_secret_lifetime": 30 * 86_400}),
    )
    .await;
    create(
        &srv,
        json!({"client_id": "warn-gone", "client_secret_lifetime": 10}),
    )
    .await;
    advance(&srv, 11);
    wait_gauges(&srv, 1, 1).await;
    logs.wait_line(&["client secret expires soon", "warn-soon"]).await;
    logs.wait_line(&["client secret has expired", "warn-gone"]).await;
    assert!(logs
        .lines_with(&["warn-later"])
        .iter()
        .all(|l| !l.contains("expires soon")));
}
