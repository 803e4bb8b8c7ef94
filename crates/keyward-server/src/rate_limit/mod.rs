//! Rate limits on failures: every source address has a token bucket that only failed
//! authentications drain (an `invalid_client` at `POST /token`, a rejected admin bearer token).
//! While a source's bucket is empty, its requests to `/token` and `/admin/…` are answered `429`
//! before any credential is looked at, so guessing is slowed to the refill rate.
//!
//! Buckets are per source, never per client id: an attacker guessing a client's secret from
//! one address empties only that address's bucket, and the real client, authenticating from
//! its own address, is never refused for it. A success neither charges nor refunds.

mod bucket;
mod source_addr;

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use keyward_types::Clock;
use parking_lot::Mutex;

pub(crate) use bucket::Rate;
pub(crate) use bucket::{Admission, Buckets};
pub use source_addr::ProxyHeader;
pub(crate) use source_addr::SourceKey;
pub(crate) use source_addr::TrustedProxies;

use crate::{
    error::{ApiError, AuthRejected},
    metrics,
};

/// The buckets, the clock they read and who may say where a request came from.
pub(crate) struct FailureLimiter {
    buckets: Mutex<Buckets>,
    clock: Arc<dyn Clock>,
    proxies: TrustedProxies,
}

impl FailureLimiter {
    pub(crate) fn new(
        rate: Rate,
        max_sources: usize,
        proxies: TrustedProxies,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            buckets: Mutex::new(Buckets::new(rate, max_sources)),
            clock,
            proxies,
        }
    }

    /// The client's address (the peer, or what a trusted proxy says it forwarded).
    fn client(&self, request: &Request) -> Option<IpAddr> {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip();
        Some(self.proxies.client_addr(peer, request.headers()))
    }
}

/// The endpoints that authenticate their caller, as the metric labels them.
fn limited_endpoint(path: &str) -> Option<&'static str> {
    if path == "/token" {
        Some("/token")
    } else if path == "/admin" || path.starts_with("/admin/") {
        Some("/admin")
    } else {
        None
    }
}

/// The caller's address as the limiter resolved it (`trusted_proxies` applied), for the
/// requests it guards.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) IpAddr);

/// The middleware: refuses a source whose bucket is empty, and charges it for a failure.
pub(crate) async fn guard(
    State(limiter): State<Arc<FailureLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(endpoint) = limited_endpoint(request.uri().path()) else {
        return next.run(request).await;
    };
    // Without a peer address (a router driven in-process) there is nobody to limit.
    let Some(client) = limiter.client(&request) else {
        return next.run(request).await;
    };
    let source = SourceKey::of(client);
    // What the audit log and the admin call log record as the caller's address.
    let mut request = request;
    request.extensions_mut().insert(ClientAddr(client));
    let admission = limiter.buckets.lock().admit(source, limiter.clock.now());
    if let Admission::Limited {
        retry_after_secs,
        first,
    } = admission
    {
        if first {
            tracing::warn!(%source, endpoint, retry_after_secs, "source rate limited after repeated authentication failures");
        }
        metrics::rate_limited(endpoint);
        return ApiError::RateLimited { retry_after_secs }.into_response();
    }
    let response = next.run(request).await;
    if response.extensions().get::<AuthRejected>().is_some() {
        limiter.buckets.lock().charge(source, limiter.clock.now());
    }
    response
}
