//! Every admin call, accepted or refused, leaves a log line: method, path, caller, status and
//! latency. A refused bearer token is also counted by reason
//! (`keyward_admin_auth_failures_total{reason}`) and recorded in the audit log as
//! `admin.auth.reject` with its reason and source address, at most `admin_reject_audit_per_minute`
//! rows a minute: past that, refusals are only counted, so a flood of bad tokens cannot fill the
//! database; how many went unrecorded is logged once the minute is over.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use axum::{
    extract::{ConnectInfo, FromRef, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use keyward_admin::{AdminOps, RejectedToken};

use super::auth::{check, AdminAuth, CheckFailed};
use crate::metrics;

/// The admin routes' middleware: checks the bearer token once, hands the caller to the
/// handler (the [`super::Admin`] extractor), and logs the outcome.
pub(crate) async fn observe<S>(State(state): State<S>, mut req: Request, next: Next) -> Response
where
    S: Clone + Send + Sync + 'static,
    AdminAuth: FromRef<S>,
    Arc<AdminOps>: FromRef<S>,
{
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let auth = AdminAuth::from_ref(&state);
    match check(req.headers(), &auth).await {
        Ok(actor) => {
            req.extensions_mut().insert(actor.clone());
            let resp = next.run(req).await;
            let status = resp.status();
            let latency_ms = latency_ms(start);
            if status.is_server_error() {
                tracing::error!(%method, path, caller = %actor, status = status.as_u16(), latency_ms, "admin call");
            } else {
                tracing::info!(%method, path, caller = %actor, status = status.as_u16(), latency_ms, "admin call");
            }
            resp
        }
        Err(CheckFailed::Rejected(rejected)) => {
            let reason = rejected.reason();
            metrics::admin_auth_failure(reason);
            // The address the failure limiter resolved (a trusted proxy's client), else the peer.
            let source = req
                .extensions()
                .get::<crate::rate_limit::ClientAddr>()
                .map(|c| c.0)
                .or_else(|| {
                    req.extensions()
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip())
                })
                .map(|ip| ip.to_string());
            if auth.rejections.take() {
                let ops = Arc::<AdminOps>::from_ref(&state);
                ops.record_rejected_token(&RejectedToken {
                    reason,
                    source: source.clone(),
                    method: method.as_str(),
                    path: &path,
                })
                .await;
            }
            let resp = rejected.into_api_error().into_response();
            tracing::warn!(
                %method,
                path,
                caller = "anonymous",
                reason,
                source = source.as_deref().unwrap_or("unknown"),
                status = resp.status().as_u16(),
                latency_ms = latency_ms(start),
                "admin call refused: bad bearer token"
            );
            resp
        }
        Err(CheckFailed::Failed(e)) => {
            let resp = e.into_response();
            tracing::error!(%method, path, caller = "unchecked", status = resp.status().as_u16(), latency_ms = latency_ms(start), "admin call: caller could not be checked");
            resp
        }
    }
}

fn latency_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}
