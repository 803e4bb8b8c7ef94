//! Every way a token request is refused (RFC 6749 §2.3.1, §3.2, §5.2; RFC 8707; DESIGN.md "The
//! token request" and "Errors"): the status, the error code, and that nothing was stored or
//! changed by the refused request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_testkit::server::*;
use reqwest::{header::HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

/// `Authorization: Basic base64(raw)`, with `raw` exactly as given (no escaping).
fn raw_basic(raw: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).unwrap()
}

/// `POST /token` with this `Authorization` value and a form body.
async fn token_with_auth(
    srv: &TestServer,
    authorization: HeaderValue,
    form: &[(&str, &str)],
) -> reqwest::Response {
    srv.http
        .post(srv.url("/token"))
        .header("authorization", authorization)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// `POST /token` with a raw body, an optional content type and optional Basic credentials.
async fn token_raw(
    srv: &TestServer,
    basic: Option<(&str, &str)>,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = srv.http.post(srv.url("/token"));
    if let Some((id, secret)) = basic {
        req = req.header("authorization", basic_header(id, secret));
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    req.body(body).send().await.unwrap()
}

/// Sends a malformed Basic header and checks the one `invalid_client` answer, with nothing
/// stored or changed.
async fn assert_bad_basic_header(srv: &TestServer, authorization: HeaderValue) {
    let before = srv.snapshot().await;
    let resp = token_with_auth(srv, authorization, &[CC]).await;
    assert_invalid_client(resp, true).await;
    assert_eq!(srv.snapshot().await, before);
}

/// The value of `keyward_client_auth_failures_total{reason="…"}`, 0 when not yet counted.
fn failure_count(metrics: &str, reason: &str) -> f64 {
    let prefix = format!("keyward_client_auth_failures_total{{reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

// --- Malformed Basic header -------------------------------------------------------------------

#[tokio::test]
async fn rejects_basic_header_with_bad_base64() {
    let srv = TestServer::start().await;
    srv.basic_client().await;
    assert_bad_basic_header(&srv, HeaderValue::from_static("Basic !!!not-base64!!!")).await;
}

#[tokio::test]
async fn rejects_basic_header_without_colon() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    // The real id and secret, but without the ':' between them.
    assert_bad_basic_header(&srv, raw_basic(format!("{id}{secret}").as_bytes())).await;
}

#[tokio::test]
async fn rejects_basic_header_with_bad_percent_encoding() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    assert_bad_basic_header(&srv, raw_basic(b"a%zz:b")).await;
    // A real client whose secret half ends in a truncated escape.
    assert_bad_basic_header(&srv, raw_basic(format!("{id}:{secret}%4").as_bytes())).await;
    // A truncated escape in the id half.
    assert_bad_basic_header(&srv, raw_basic(format!("{id}%4:{secret}").as_bytes())).await;
}

#[tokio::test]
async fn rejects_basic_header_not_utf8_after_decoding() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    assert_bad_basic_header(&srv, raw_basic(b"a%ff:b")).await;
    assert_bad_basic_header(&srv, raw_basic(format!("{id}:%ff").as_bytes())).await;
    // Raw non-UTF-8 bytes (not escaped) inside the base64.
    assert_bad_basic_header(&srv, raw_basic(b"svc-basic:\xff\xfe")).await;
}

#[tokio::test]
async fn rejects_basic_header_with_non_ascii_raw_value() {
    let srv = TestServer::start().await;
    srv.basic_client().await;
    // "Basic é…" as raw UTF-8 bytes: not a valid header string, never base64.
    let value = HeaderValue::from_bytes("Basic ésvc-basic:sécret".as_bytes()).unwrap();
    assert!(value.to_str().is_err(), "the header must really be non-ASCII");
    assert_bad_basic_header(&srv, value).await;
}

// --- Wrong or unusable credentials ------------------------------------------------------------

#[tokio::test]
async fn rejects_wrong_secret_basic() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv.token_basic(&id, &format!("{secret}x"), &[CC]).await;
    assert_invalid_client(resp, true).await;
    assert_eq!(srv.snapshot().await, before);
    // The right secret still works: the failure was the secret alone.
    let ok = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn rejects_wrong_secret_post() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.post_client().await;
    let before = srv.snapshot().await;
    let resp = srv.token_post(&id, &format!("{secret}x"), &[CC]).await;
    assert_invalid_client(resp, false).await;
    assert_eq!(srv.snapshot().await, before);
    let ok = srv.token_post(&id, &secret, &[CC]).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn rejects_unknown_client() {
    let srv = TestServer::start().await;
    let (_, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv.token_basic("no-such-client", &secret, &[CC]).await;
    assert_invalid_client(resp, true).await;
    let resp = srv.token_post("no-such-client", &secret, &[CC]).await;
    assert_invalid_client(resp, false).await;
    assert_eq!(srv.snapshot().await, before);
    assert!(!srv.client_exists("no-such-client").await);
}

#[tokio::test]
async fn rejects_disabled_client() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    // Cache the client as enabled first, so the disable must invalidate it.
    assert_eq!(
        srv.token_basic(&id, &secret, &[CC]).await.status(),
        StatusCode::OK
    );
    let (status, body) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    let before = srv.snapshot().await;
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_invalid_client(resp, true).await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_post_credentials_for_basic_client() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv.token_post(&id, &secret, &[CC]).await;
    assert_invalid_client(resp, false).await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_basic_header_for_post_client() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.post_client().await;
    let before = srv.snapshot().await;
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_invalid_client(resp, true).await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_no_credentials() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv.http.post(srv.url("/token")).form(&[CC]).send().await.unwrap();
    assert_invalid_client(resp, false).await;
    // A bare client_id is not a credential either.
    let resp = srv
        .http
        .post(srv.url("/token"))
        .form(&[CC, ("client_id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_invalid_client(resp, false).await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_old_secret_after_grace_period() {
    let srv = TestServer::start().await;
    let (id, old) = srv.basic_client().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            &format!("/admin/clients/{id}/secret"),
            Some(json!({"grace_period_seconds": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = body["client_secret"].as_str().unwrap().to_owned();
    srv.clock.advance(time::Duration::seconds(61));
    let before = srv.snapshot().await;
    let resp = srv.token_basic(&id, &old, &[CC]).await;
    assert_invalid_client(resp, true).await;
    assert_eq!(srv.snapshot().await, before);
    let ok = srv.token_basic(&id, &new, &[CC]).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

// --- Malformed requests -----------------------------------------------------------------------

#[tokio::test]
async fn rejects_basic_header_with_client_secret_in_form() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv
        .token_basic(&id, &secret, &[CC, ("client_secret", secret.as_str())])
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_form_client_id_differing_from_basic_header() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let (other, _) = srv
        .create_client(json!({"client_id": "svc-other", "scope": "read"}))
        .await;
    let before = srv.snapshot().await;
    let resp = srv
        .token_basic(&id, &secret, &[CC, ("client_id", other.as_str())])
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn accepts_form_client_id_equal_to_basic_header() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let resp = srv
        .token_basic(&id, &secret, &[CC, ("client_id", id.as_str())])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], id);
}

#[tokio::test]
async fn rejects_repeated_grant_type() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = token_raw(
        &srv,
        Some((&id, &secret)),
        Some("application/x-www-form-urlencoded"),
        "grant_type=client_credentials&grant_type=client_credentials",
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_missing_grant_type() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv.token_basic(&id, &secret, &[("scope", "read")]).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_unsupported_grant_type() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv
        .token_basic(
            &id,
            &secret,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "pw"),
            ],
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_grant_not_registered_for_client() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "svc-nogrant", "scope": "read", "grant_types": []}))
        .await;
    let before = srv.snapshot().await;
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_scope_outside_registration() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv
        .token_basic(&id, &secret, &[CC, ("scope", "read admin")])
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_scope").await;
    let resp = srv
        .token_basic(&id, &secret, &[CC, ("scope", "keyward:admin")])
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_scope").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_malformed_scope() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    // Both tokens are registered; only the double space is wrong.
    for scope in ["read  write", "a  b", " read", "read\"write"] {
        let resp = srv.token_basic(&id, &secret, &[CC, ("scope", scope)]).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_resource_not_allowed_for_client() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({
            "client_id": "svc-aud",
            "scope": "read",
            "default_audience": "https://api.example.com",
            "allowed_audiences": ["https://other.example.com"],
        }))
        .await;
    let before = srv.snapshot().await;
    for resource in [
        "https://evil.example.com",
        "https://api.example.com/",
        "https://other.example.com/x",
    ] {
        let resp = srv.token_basic(&id, &secret, &[CC, ("resource", resource)]).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "invalid_target").await;
    }
    // The issuer itself is not allowed either when the client names its own audiences.
    let issuer = srv.base.clone();
    let resp = srv
        .token_basic(&id, &secret, &[CC, ("resource", issuer.as_str())])
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_target").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_json_content_type() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = token_raw(
        &srv,
        Some((&id, &secret)),
        Some("application/json"),
        json!({"grant_type": "client_credentials"}).to_string(),
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    // A form body labelled as JSON is refused too: the label decides.
    let resp = token_raw(
        &srv,
        Some((&id, &secret)),
        Some("application/json"),
        "grant_type=client_credentials",
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_missing_content_type() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = token_raw(&srv, Some((&id, &secret)), None, "grant_type=client_credentials").await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn rejects_body_over_64_kib() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let padding = "x".repeat(64 * 1024);
    let body = format!("grant_type=client_credentials&scope=read&padding={padding}");
    assert!(body.len() > 64 * 1024);
    let resp = token_raw(
        &srv,
        Some((&id, &secret)),
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await;
    assert_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request").await;
    assert_eq!(srv.snapshot().await, before);
    // Just under the limit is fine: the size alone was the reason.
    let padding = "x".repeat(60 * 1024);
    let body = format!("grant_type=client_credentials&scope=read&padding={padding}");
    let ok = token_raw(
        &srv,
        Some((&id, &secret)),
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

// --- Observability ----------------------------------------------------------------------------

#[tokio::test]
async fn auth_failures_are_counted_by_reason() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    // Metrics are process-wide and other tests run alongside: compare counts, not presence.
    let m0 = srv.metrics().await;
    let mismatch0 = failure_count(&m0, "secret.mismatch");
    let base64_0 = failure_count(&m0, "basic.bad_base64");

    let resp = srv.token_basic(&id, "wrong-secret", &[CC]).await;
    assert_invalid_client(resp, true).await;
    let m1 = srv.metrics().await;
    assert!(
        m1.contains("keyward_client_auth_failures_total{reason=\"secret.mismatch\"}"),
        "{m1}"
    );
    assert!(failure_count(&m1, "secret.mismatch") >= mismatch0 + 1.0, "{m1}");

    let resp = token_with_auth(&srv, HeaderValue::from_static("Basic %%%"), &[CC]).await;
    assert_invalid_client(resp, true).await;
    let m2 = srv.metrics().await;
    assert!(
        m2.contains("keyward_client_auth_failures_total{reason=\"basic.bad_base64\"}"),
        "{m2}"
    );
    assert!(failure_count(&m2, "basic.bad_base64") >= base64_0 + 1.0, "{m2}");

    // The response never names the reason; the secret never reaches the metrics.
    assert!(!m2.contains(&secret));
}
