//! `/metrics` on its own listener, off the public one unless configured (then admin tokens
//! only), with HELP text, the build gauge and the process metrics. Metrics are process-wide and
//! tests run in parallel: counts are compared before and after with `>`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::server::*;
use reqwest::StatusCode;
use serde_json::Value;

/// The value of the series that starts `series ` in the metrics text.
fn value(text: &str, series: &str) -> Option<f64> {
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn scrape_on_the_metrics_listener_works() {
    let srv = TestServer::start().await;
    let metrics_base = srv.metrics_base.clone().unwrap();
    assert_ne!(metrics_base, srv.base, "metrics have a listener of their own");
    let resp = srv.http.get(srv.metrics_url()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = resp.text().await.unwrap();
    assert!(text.contains("keyward_build_info{"), "{text}");
    // Only /metrics is served there: nothing of the OAuth server.
    let token = srv
        .http
        .post(format!("{metrics_base}/token"))
        .form(&[CC])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn public_port_has_no_metrics_by_default() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let resp = srv.http.get(srv.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = resp.text().await.unwrap();
    assert!(!body.contains("keyward_"), "{body}");
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn public_metrics_reject_a_request_without_an_admin_token() {
    let srv = TestServer::start_with(|c| c.metrics_public = true).await;
    let before = srv.snapshot().await;
    let resp = srv.http.get(srv.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    let resp = srv
        .http
        .get(srv.url("/metrics"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn public_metrics_reject_a_token_without_admin_scope() {
    let srv = TestServer::start_with(|c| c.metrics_public = true).await;
    let (id, secret) = srv.basic_client().await;
    let token = srv.token_for(&id, &secret).await;
    let before = srv.snapshot().await;
    let resp = srv
        .http
        .get(srv.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn public_metrics_serve_an_admin_token() {
    let srv = TestServer::start_with(|c| c.metrics_public = true).await;
    let token = srv.admin_token().await;
    let resp = srv
        .http
        .get(srv.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(text.contains("keyward_build_info{"), "{text}");
    // The private listener keeps serving too.
    assert!(srv.metrics().await.contains("keyward_build_info{"));
}

#[tokio::test]
async fn metrics_listener_can_be_turned_off() {
    for off in ["", "none"] {
        let srv = TestServer::start_with(|c| c.metrics_listen = off.into()).await;
        assert!(srv.metrics_base.is_none(), "metrics_listen = {off:?}");
        let resp = srv.http.get(srv.url("/metrics")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn every_metric_has_help_text_and_build_info_names_the_version() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    assert_eq!(
        srv.token_basic(&id, &secret, &[CC]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        srv.token_basic(&id, "wrong", &[CC]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let text = srv.metrics().await;
    for name in [
        "keyward_http_requests_total",
        "keyward_http_request_duration_seconds",
        "keyward_client_auth_failures_total",
        "keyward_tokens_issued_total",
        "keyward_build_info",
        "process_resident_memory_bytes",
    ] {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}:\n{text}"
        );
    }
    // Every metric family in the text has its HELP line.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}:\n{text}"
        );
    }
    let build = format!("keyward_build_info{{version=\"{}\"}}", env!("CARGO_PKG_VERSION"));
    assert_eq!(value(&text, &build), Some(1.0), "{text}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn process_metrics_are_present_and_plausible() {
    let srv = TestServer::start().await;
    let text = srv.metrics().await;
    let get = |name: &str| value(&text, name).unwrap_or_else(|| panic!("no {name}:\n{text}"));
    assert!(get("process_resident_memory_bytes") > 1_000_000.0);
    let open = get("process_open_fds");
    assert!(open > 0.0);
    assert!(get("process_max_fds") >= open);
    assert!(get("process_cpu_seconds_total") > 0.0);
    let started = get("process_start_time_seconds");
    let now = srv.clock_now() as f64;
    assert!(
        started > now - 3_600.0 && started <= now + 5.0,
        "{started} vs {now}"
    );
    assert!(
        text.contains("# TYPE process_cpu_seconds_total counter"),
        "{text}"
    );
}

#[tokio::test]
async fn auth_failure_reasons_are_counted_on_the_private_listener() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    let mismatch = srv.auth_failures("secret.mismatch").await;
    let unknown = srv.auth_failures("client.unknown").await;
    let resp = srv.token_basic(&id, "wrong-secret", &[CC]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = srv.token_basic("no-such-client", "wrong-secret", &[CC]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(srv.auth_failures("secret.mismatch").await > mismatch);
    assert!(srv.auth_failures("client.unknown").await > unknown);
}
