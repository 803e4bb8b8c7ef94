//! Where `GET /metrics` is served: on a listener of its own (`metrics_listen`, loopback by
//! default), which only the operator's scraper should reach; and on the public listener only
//! when `metrics_public` is set, then to admin bearer tokens alone. The failure reason codes it
//! counts (`client.unknown`, `secret.mismatch`) would otherwise tell anyone which client ids
//! exist, which the fixed `401` body of the token endpoint hides.

use std::net::SocketAddr;

use axum::{
    extract::FromRef,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    admin::{Admin, AdminAuth},
    error::ServeError,
    Config,
};

/// The metrics listener, bound; `None` when `metrics_listen` turns it off.
pub(crate) async fn bind(config: &Config) -> Result<Option<(SocketAddr, TcpListener)>, ServeError> {
    let Some(addr) = config.metrics_address() else {
        return Ok(None);
    };
    let bound = TcpListener::bind(addr)
        .await
        .and_then(|l| Ok((l.local_addr()?, l)));
    let (local, listener) = bound.map_err(|source| ServeError::MetricsBind {
        addr: addr.to_owned(),
        source,
    })?;
    tracing::info!(addr = %local, "keyward metrics on http://{local}/metrics");
    Ok(Some((local, listener)))
}

/// Serves `GET /metrics` (and nothing else) on `listener` until the task is aborted.
pub(crate) fn serve(listener: TcpListener) -> JoinHandle<()> {
    let app = Router::new().route("/metrics", get(scrape));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    })
}

/// `GET /metrics` for the public router, when `metrics_public` is set.
pub(crate) fn public_route<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AdminAuth: FromRef<S>,
{
    Router::new().route("/metrics", get(scrape_as_admin))
}

async fn scrape() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        super::render(),
    )
        .into_response()
}

/// The [`Admin`] extractor answers a missing or wrong token with the admin API's own `401`.
async fn scrape_as_admin(_admin: Admin) -> Response {
    scrape().await
}
