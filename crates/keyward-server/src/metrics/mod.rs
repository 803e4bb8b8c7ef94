//! Prometheus metrics: requests and latency per endpoint, client-authentication failures by
//! reason code, tokens issued by method, the build, and the process (see [`process`]).
//!
//! The reason codes tell which client ids exist and why their authentication failed, so the
//! text is served on a listener of its own ([`listener`]), and on the public one only to admin
//! bearer tokens.

pub(crate) mod listener;
mod process;

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder (metrics are global; several servers in one test process share it).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("keyward_http_request_duration_seconds".into()),
                    &buckets,
                )
                .ok()?
                .install_recorder()
                .ok()
                .inspect(|_| describe())
        })
        .as_ref()
}

/// The exporter's text, then the process metrics read at this moment.
pub(crate) fn render() -> String {
    let mut text = handle().map(PrometheusHandle::render).unwrap_or_default();
    process::render(&mut text);
    text
}

/// `# HELP` text for every metric keyward records (including those of the admin and JWKS
/// crates: this is the one place the recorder is installed), and the build gauge.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        "keyward_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route"
    );
    describe_counter!(
        "keyward_http_requests_total",
        "HTTP requests answered, by route and status"
    );
    describe_counter!(
        "keyward_client_auth_failures_total",
        "Failed client authentications at the token endpoint, by reason code"
    );
    describe_counter!(
        "keyward_tokens_issued_total",
        "Access tokens issued, by client authentication method"
    );
    describe_counter!(
        "keyward_panics_total",
        "Panics caught while serving a request or doing key work"
    );
    describe_counter!(
        "keyward_client_cache_loads_total",
        "Clients read from storage because the token path's cache did not hold them"
    );
    describe_counter!(
        "keyward_jwks_fetches_total",
        "Fetches of client JWKS URLs, by result (ok or a reason code)"
    );
    describe_counter!(
        "keyward_rate_limited_total",
        "Requests refused with 429 because their source failed authentication too often, by endpoint"
    );
    describe_counter!(
        "keyward_admin_auth_failures_total",
        "Refused admin bearer tokens, by reason code"
    );
    describe_counter!(
        "keyward_change_feed_reconnects_total",
        "PostgreSQL change-feed connections replaced after a failure or a missed heartbeat"
    );
    describe_gauge!(
        "keyward_client_secrets_expiring",
        "Current client secrets whose lifetime ends within secret_expiry_warning_seconds"
    );
    describe_gauge!(
        "keyward_client_secrets_expired",
        "Current client secrets whose lifetime has ended (their clients are refused)"
    );
    describe_gauge!(
        "keyward_build_info",
        "Always 1; the version label names the running build"
    );
    metrics::gauge!("keyward_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

pub(crate) async fn track(req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("keyward_http_request_duration_seconds", "endpoint" => endpoint.clone())
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("keyward_http_requests_total", "endpoint" => endpoint, "status" => status).increment(1);
    resp
}

pub(crate) fn auth_failure(reason: &'static str) {
    metrics::counter!("keyward_client_auth_failures_total", "reason" => reason).increment(1);
}

/// `method` may be a custom method's name, known only at run time.
pub(crate) fn token_issued(method: &str) {
    metrics::counter!("keyward_tokens_issued_total", "method" => method.to_owned()).increment(1);
}

/// A request refused by the failure limiter; `endpoint` is `/token` or `/admin`.
pub(crate) fn rate_limited(endpoint: &'static str) {
    metrics::counter!("keyward_rate_limited_total", "endpoint" => endpoint).increment(1);
}

/// A refused admin bearer token, by reason code (`missing`, `bad_signature`, `expired`, …).
pub(crate) fn admin_auth_failure(reason: &'static str) {
    metrics::counter!("keyward_admin_auth_failures_total", "reason" => reason).increment(1);
}

/// Current secrets expiring within the warning window, and already expired.
pub(crate) fn secrets_expiring(expiring: usize, expired: usize) {
    metrics::gauge!("keyward_client_secrets_expiring").set(expiring as f64);
    metrics::gauge!("keyward_client_secrets_expired").set(expired as f64);
}
