//! Refused admin bearer tokens are logged, counted by reason and recorded in the audit log as
//! `admin.auth.reject`, with a bounded number of rows per minute so a flood cannot fill the
//! database; and each malformed `GET /admin/audit` filter is refused with `400 invalid_request`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{logs::logs, server::*};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `GET /admin/clients/{probe}` with this `Authorization` header (none when `None`).
async fn admin_at(srv: &TestServer, probe: &str, authorization: Option<&str>) -> (StatusCode, Value) {
    let mut req = srv.http.get(srv.url(&format!("/admin/clients/{probe}")));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `GET /admin/clients/probe` with this `Authorization` header.
async fn admin_with(srv: &TestServer, authorization: Option<&str>) -> (StatusCode, Value) {
    admin_at(srv, "probe", authorization).await
}

async fn rejections(srv: &TestServer) -> Vec<Value> {
    audit_events(srv, "action=admin.auth.reject&limit=500").await
}

/// One refusal: its status and error, one more in the counter, an audit row with the reason
/// and source address, and a warn line; nothing else stored.
async fn assert_refused(
    srv: &TestServer,
    authorization: Option<&str>,
    status: StatusCode,
    error: &str,
    reason: &str,
) {
    let logs = logs();
    let before_rows = rejections(srv).await.len();
    let before_count = srv.admin_auth_failures(reason).await;
    let before = srv.snapshot().await;
    let probe = format!("probe-{}", keyward_types::random::uuid().unwrap().simple());
    let (got, body) = admin_at(srv, &probe, authorization).await;
    assert_eq!(got, status, "{reason}: {body}");
    assert_eq!(body["error"], error, "{reason}: {body}");
    assert!(
        srv.admin_auth_failures(reason).await > before_count,
        "{reason} counted"
    );
    let rows = rejections(srv).await;
    assert_eq!(rows.len(), before_rows + 1, "{reason}: one audit row");
    let row = &rows[0];
    let path = format!("/admin/clients/{probe}");
    assert_eq!(row["actor"], "anonymous");
    assert_eq!(row["outcome"], "failure");
    assert_eq!(row["detail"]["reason"], reason);
    assert_eq!(row["detail"]["source"], "127.0.0.1");
    assert_eq!(row["detail"]["path"], path.as_str());
    let line = logs.wait_line(&["admin call refused", &probe]).await;
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(&format!("reason=\"{reason}\"")), "{line}");
    assert!(line.contains("caller=\"anonymous\""), "{line}");
    assert!(line.contains(&format!("status={}", status.as_u16())), "{line}");
    assert!(line.contains("latency_ms="), "{line}");
    // The audit row is the only write: clients, secrets and admin changes are as they were.
    assert_eq!(srv.snapshot().await, before, "{reason}: nothing else stored");
}

#[tokio::test]
async fn missing_token_is_logged_counted_and_audited() {
    let srv = TestServer::start().await;
    assert_refused(&srv, None, StatusCode::UNAUTHORIZED, "invalid_token", "missing").await;
}

#[tokio::test]
async fn malformed_token_is_logged_counted_and_audited() {
    let srv = TestServer::start().await;
    assert_refused(
        &srv,
        Some("Bearer not-a-jwt"),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "malformed",
    )
    .await;
}

#[tokio::test]
async fn bad_signature_is_logged_counted_and_audited() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let (head, sig) = token.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let forged = format!("Bearer {head}.{flipped}{}", &sig[1..]);
    assert_refused(
        &srv,
        Some(&forged),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "bad_signature",
    )
    .await;
}

#[tokio::test]
async fn expired_token_is_logged_counted_and_audited() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    srv.clock.advance(time::Duration::seconds(
        i64::from(srv.config.default_access_token_lifetime) + 1,
    ));
    assert_refused(
        &srv,
        Some(&format!("Bearer {token}")),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "expired",
    )
    .await;
}

#[tokio::test]
async fn token_without_admin_scope_is_logged_counted_and_audited() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "reader", "scope": "read"}))
        .await;
    let token = srv.token_for(&id, &secret).await;
    assert_refused(
        &srv,
        Some(&format!("Bearer {token}")),
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "not_admin_scope",
    )
    .await;
}

#[tokio::test]
async fn rejection_audit_rows_are_bounded_per_minute() {
    let srv = TestServer::start_with(|c| c.admin_reject_audit_per_minute = 3).await;
    let before = srv.admin_auth_failures("malformed").await;
    for _ in 0..8 {
        let (status, _) = admin_with(&srv, Some("Bearer garbage")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(rejections(&srv).await.len(), 3, "at most 3 rows this minute");
    assert!(
        srv.admin_auth_failures("malformed").await >= before + 8,
        "every refusal counted"
    );
}

#[tokio::test]
async fn zero_budget_audits_no_rejection_but_counts_it() {
    let srv = TestServer::start_with(|c| c.admin_reject_audit_per_minute = 0).await;
    let before = srv.admin_auth_failures("missing").await;
    let (status, _) = admin_with(&srv, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(rejections(&srv).await.is_empty());
    assert!(srv.admin_auth_failures("missing").await > before);
}

// ---- bad filter values: 400 invalid_request, nothing stored ----

async fn assert_bad_filter(query: &str, says: &str) {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, body) = audit_query(&srv, query).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    assert_eq!(body["error"], "invalid_request", "{query}: {body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(description.contains(says), "{query}: {body}");
    assert_eq!(srv.snapshot().await, before, "{query}: nothing stored");
}

#[tokio::test]
async fn rejects_limit_out_of_range() {
    assert_bad_filter("limit=501", "limit").await;
}

#[tokio::test]
async fn rejects_limit_not_a_number() {
    assert_bad_filter("limit=ten", "limit").await;
}

#[tokio::test]
async fn rejects_cursor_not_given_out() {
    assert_bad_filter("cursor=not-a-cursor", "cursor").await;
}

#[tokio::test]
async fn rejects_cursor_and_before_together() {
    assert_bad_filter("cursor=YTEuMw&before=3", "not both").await;
}

#[tokio::test]
async fn rejects_since_not_rfc3339() {
    assert_bad_filter("since=yesterday", "since").await;
}

#[tokio::test]
async fn rejects_until_not_rfc3339() {
    assert_bad_filter("until=1700000000", "until").await;
}

#[tokio::test]
async fn rejects_since_after_until() {
    assert_bad_filter("since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", "since").await;
}

#[tokio::test]
async fn rejects_action_pattern() {
    assert_bad_filter("action=client%25", "action").await;
}

#[tokio::test]
async fn rejects_client_id_that_cannot_exist() {
    assert_bad_filter("client_id=a%20b", "client_id").await;
}

#[tokio::test]
async fn rejects_unknown_parameter() {
    assert_bad_filter("clientid=a", "unknown parameter").await;
}

#[tokio::test]
async fn rejects_repeated_parameter() {
    assert_bad_filter("action=client.&action=credential.", "repeated").await;
}

/// The `source` of the audit row left by a bad admin token sent to `/admin/clients/{id}` with
/// `X-Forwarded-For: 203.0.113.7`.
async fn recorded_source(srv: &TestServer, id: &str) -> Value {
    let resp = srv
        .http
        .get(srv.url(&format!("/admin/clients/{id}")))
        .header("authorization", "Bearer not-a-token")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let rows = rejections(srv).await;
    assert_eq!(rows[0]["detail"]["path"], format!("/admin/clients/{id}"));
    rows[0]["detail"]["source"].clone()
}

/// Behind a trusted proxy, the audit row names the client the proxy forwarded, as the failure
/// limiter counts it, not the proxy.
#[tokio::test]
async fn rejection_behind_a_trusted_proxy_records_the_forwarded_client() {
    let srv = TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".into()]).await;
    assert_eq!(recorded_source(&srv, "proxied").await, "203.0.113.7");
}

/// A forwarded-for header from a peer that is not a trusted proxy is not believed.
#[tokio::test]
async fn rejection_from_an_untrusted_peer_records_the_peer_not_its_header() {
    let srv = TestServer::start().await;
    assert_eq!(recorded_source(&srv, "spoofed").await, "127.0.0.1");
}
