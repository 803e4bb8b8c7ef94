//! One accepted socket, served to its end: the TLS handshake (bounded by the header-read
//! timeout), HTTP/1.1 or HTTP/2 (by ALPN under TLS; HTTP/1.1 in the clear), and the timers.
//!
//! Plain connections speak HTTP/1.1 only: guessing the protocol from the first bytes would wait
//! for them without a timer, and browsers never use HTTP/2 without TLS.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
    service::TowerToHyperService,
};
use parking_lot::Mutex;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    sync::watch,
    time::{sleep, timeout, Instant},
};
use tower::ServiceExt;

use super::{
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
            .header_read_timeout(limits.header_read)
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
        let activity = Arc::new(Activity::new());
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
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        tokio::pin!(conn);
        let idle = self.limits.idle;
        let check = sleep(idle);
        tokio::pin!(check);
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

/// Requests in flight on one connection and when the last one ended: a connection is idle when
/// none is in flight and none ended within the idle timeout.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }

    /// When to look again, or `None` if the connection has been idle for `idle`.
    fn idle_until(&self, idle: Duration) -> Option<Instant> {
        let now = Instant::now();
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Some(now + idle);
        }
        let until = *self.last.lock() + idle;
        (until > now).then_some(until)
    }
}

/// A request in flight; its end counts as the connection's last activity.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.last.lock() = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
