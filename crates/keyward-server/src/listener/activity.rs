//! What one connection is doing, for its timers: requests in flight, when the last one ended
//! (the idle timer), and since when the client has been sending a request head that has not
//! arrived whole (the header timer).
//!
//! The header timer is ours rather than hyper's because hyper's also runs while an HTTP/1.1
//! keep-alive connection waits between requests: a client that pauses longer than the header
//! timeout finds its pooled connection closed, and a request it sends just as the server closes
//! gets no answer at all (the keep-alive race, RFC 9112 §9.3.1; a `POST /token` is not retried
//! by clients). Ours starts when the connection is accepted and, after that, at the first byte
//! of each new request, the way nginx's `client_header_timeout` does; the wait between requests
//! belongs to the idle timer alone.
//!
//! Known limit: bytes of a next request that arrive with the previous one (pipelining, which no
//! common client does) are read while that request is in flight, so they do not start the
//! header timer; the idle timer still bounds such a connection.

use std::{
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use parking_lot::Mutex;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::Notify,
    time::Instant,
};

pub(super) struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
    /// When the head now being read began (accept, or its first byte); `None` between requests.
    head_since: Mutex<Option<Instant>>,
    /// Wakes the connection's timer loop when `head_since` is set.
    head_started: Notify,
}

impl Activity {
    pub(super) fn new() -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(now),
            head_since: Mutex::new(Some(now)),
            head_started: Notify::new(),
        })
    }

    /// When to look again, or `None` if the connection has been idle for `idle`.
    pub(super) fn idle_until(&self, idle: Duration) -> Option<Instant> {
        let now = Instant::now();
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Some(now + idle);
        }
        let until = *self.last.lock() + idle;
        (until > now).then_some(until)
    }

    /// Since when a request head has been arriving, if one is.
    pub(super) fn head_since(&self) -> Option<Instant> {
        *self.head_since.lock()
    }

    /// Resolves after a request head starts arriving (a stored wake-up is not lost).
    pub(super) async fn head_started(&self) {
        self.head_started.notified().await;
    }

    /// Bytes arrived: with no request in flight and no head under way, a new head starts.
    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return;
        }
        let mut since = self.head_since.lock();
        if since.is_none() {
            *since = Some(Instant::now());
            drop(since);
            self.head_started.notify_one();
        }
    }
}

/// A request in flight (its head arrived whole); its end counts as the connection's last
/// activity.
pub(super) struct Busy(Arc<Activity>);

impl Busy {
    pub(super) fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        *activity.head_since.lock() = None;
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.last.lock() = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The connection's stream, telling [`Activity`] when bytes arrive.
pub(super) struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub(super) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_read();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
