//! One accepted socket, served to its end: the TLS handshake (bounded by the header-read
//! timeout), HTTP/1.1 or HTTP/2 (by ALPN under TLS; HTTP/1.1 in the clear), and the timers
//! (header read for HTTP/1.1 and idle, from [`Activity`]; body read in the body itself).
//!
//! Plain connections speak HTTP/1.1 only: guessing the protocol from the first bytes would wait
//! for them without a timer, and browsers never use HTTP/2 without TLS.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    sync::watch,
    time::{sleep, timeout, Instant},
};
use tower::ServiceExt;

use super::{
    activity::{Activity, Busy, Watched},
    body_timeout::{DeadlineBody, Expired},
    tls, Limits,
};

/// What every connection is served with.
pub(super) struct Serve {
    app: Router,
    limits: Limits,
    tls: Option<tls::Acceptor>,
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
}

impl Serve {
    pub(super) fn new(app: Router, limits: Limits, tls: Option<tls::Acceptor>) -> Arc<Self> {
        let mut http1 = auto::Builder::new(TokioExecutor::new()).http1_only();
        http1
            .http1()
            .timer(TokioTimer::new())
            // Ours instead (see `activity`): hyper's also cuts keep-alive waits.
            .header_read_timeout(None)
            .keep_alive(true);
        let mut http2 = auto::Builder::new(TokioExecutor::new()).http2_only();
        http2.http2().timer(TokioTimer::new());
        Arc::new(Self {
            app,
            limits,
            tls,
            http1,
            http2,
        })
    }

    /// Serves `stream` until the client leaves, a timer closes it, or `drain` turns true.
    pub(super) async fn connection(&self, stream: TcpStream, peer: SocketAddr, drain: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        match &self.tls {
            None => self.http(stream, peer, false, drain).await,
            Some(acceptor) => {
                // The handshake is the first thing a TLS client sends: it gets the header timer.
                let handshake = timeout(self.limits.header_read, acceptor.accept(stream)).await;
                let stream = match handshake {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
                self.http(stream, peer, h2, drain).await;
            }
        }
    }

    async fn http<S>(&self, stream: S, peer: SocketAddr, h2: bool, mut drain: watch::Receiver<bool>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Activity::new();
        // The router, with what each request needs from its connection: the peer's address
        // (`ConnectInfo`, read by the token endpoint), the body deadline, the activity count.
        let app = self.app.clone();
        let body_limit = self.limits.body_read;
        let requests = activity.clone();
        let service = tower::service_fn(move |request: Request<Incoming>| {
            let busy = Busy::start(requests.clone());
            let expired = Expired::default();
            let mut request = request.map(|body| {
                if http_body::Body::is_end_stream(&body) {
                    axum::body::Body::new(body)
                } else {
                    axum::body::Body::new(DeadlineBody::new(body, body_limit, expired.clone()))
                }
            });
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(expired);
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await;
                drop(busy);
                response
            }
        });
        let builder = if h2 { &self.http2 } else { &self.http1 };
        let stream = TokioIo::new(Watched::new(stream, activity.clone()));
        let conn = builder.serve_connection(stream, TowerToHyperService::new(service));
        tokio::pin!(conn);
        let idle = self.limits.idle;
        let check = sleep(idle);
        tokio::pin!(check);
        // HTTP/2 has no head timer: its control frames arrive between requests.
        let header = self.limits.header_read;
        let head_check = sleep(header);
        tokio::pin!(head_check);
        // Once asked to close, a connection that still does not finish within this long (a
        // client that does not read its response) is dropped.
        let mut hard_stop: Option<Instant> = None;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = &mut check, if hard_stop.is_none() => {
                    match activity.idle_until(idle) {
                        Some(next) => check.as_mut().reset(next),
                        None => {
                            tracing::debug!(%peer, "idle connection closed");
                            conn.as_mut().graceful_shutdown();
                            hard_stop = Some(Instant::now() + self.grace());
                        }
                    }
                }
                () = activity.head_started(), if !h2 => {
                    if let Some(since) = activity.head_since() {
                        head_check.as_mut().reset(since + header);
                    }
                }
                () = &mut head_check, if !h2 && hard_stop.is_none() => {
                    match activity.head_since() {
                        Some(since) if since + header <= Instant::now() => {
                            tracing::debug!(%peer, "request head not received in time");
                            return;
                        }
                        Some(since) => head_check.as_mut().reset(since + header),
                        // Between requests: the next head's first byte wakes the branch above.
                        None => head_check.as_mut().reset(Instant::now() + idle + header),
                    }
                }
                _ = drain.changed(), if hard_stop.is_none() => {
                    conn.as_mut().graceful_shutdown();
                    hard_stop = Some(Instant::now() + self.grace());
                }
                () = sleep_until_opt(hard_stop) => return,
            }
        }
    }

    /// How long a connection asked to close may take to finish what it is doing.
    fn grace(&self) -> Duration {
        self.limits.body_read + self.limits.header_read
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
