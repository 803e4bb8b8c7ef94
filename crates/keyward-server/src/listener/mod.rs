//! keyward's own accept loop: what `axum::serve` does, plus the protections a public listener
//! needs against slow and idle clients (issue "Slowloris").
//!
//! - a connection cap: at most `max_connections` sockets are accepted at once; more wait in the
//!   kernel's listen backlog, un-accepted, until one closes (a semaphore permit per connection);
//! - per-connection timers ([`connection`]): header read (ours, from accept or a request's first
//!   byte; see [`activity`]), body read ([`body_timeout`], answered `408`), idle (no request in
//!   flight);
//! - TLS on the same socket ([`tls`]) with ALPN `h2` and `http/1.1`, the certificate reloaded
//!   from its files without a restart.
//!
//! Shutdown stops accepting at once (the listening socket is closed), asks every connection to
//! finish gracefully (in-flight requests complete) and returns when the last one is gone.

mod activity;
pub(crate) mod body_timeout;
mod connection;
mod fd_limit;
pub(crate) mod tls;

use std::{sync::Arc, time::Duration};

use axum::Router;
use tokio::{
    net::TcpListener,
    sync::{watch, Semaphore},
    task::JoinHandle,
};

pub use fd_limit::raise_open_files_limit;

use crate::Config;

/// The connection limits taken from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_read: Duration,
    pub(crate) body_read: Duration,
    pub(crate) idle: Duration,
    pub(crate) max_connections: usize,
}

impl Limits {
    pub(crate) fn from_config(config: &Config) -> Self {
        Self {
            header_read: Duration::from_millis(config.header_read_timeout_ms),
            body_read: Duration::from_millis(config.body_read_timeout_ms),
            idle: Duration::from_millis(config.idle_timeout_ms),
            max_connections: config.max_connections.max(1),
        }
    }
}

/// After an `accept` error such as `EMFILE`, the loop pauses instead of spinning on it.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `stop` resolves (or its sender is dropped).
pub(crate) fn spawn(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<tls::Acceptor>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> JoinHandle<()> {
    let serve = connection::Serve::new(app, limits, tls);
    tokio::spawn(accept_loop(listener, serve, limits.max_connections, stop))
}

async fn accept_loop(
    listener: TcpListener,
    serve: Arc<connection::Serve>,
    max_connections: usize,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let permits = Arc::new(Semaphore::new(max_connections));
    let (draining, drain_rx) = watch::channel(false);
    loop {
        // A permit first: at the cap the loop stops accepting, so new connections queue in the
        // kernel's backlog instead of costing a task, a buffer and a descriptor each.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit,
            _ = &mut stop => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let serve = serve.clone();
                let drain = drain_rx.clone();
                tokio::spawn(async move {
                    serve.connection(stream, peer, drain).await;
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                drop(permit);
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
    drop(listener);
    let _ = draining.send(true);
    // Every connection holds a permit until it ends: having them all back means none is left.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}
