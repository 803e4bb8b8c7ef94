//! A request body must arrive whole within `body_read_timeout_ms` of its headers; a client that
//! declares `Content-Length: 65536` and sends nothing otherwise holds its connection (and the
//! handler waiting on it) forever.
//!
//! The deadline is for the whole body, not between chunks: one byte every few seconds does not
//! keep a request alive. When it passes, the body yields [`BodyTimedOut`] to whatever reads it,
//! and [`answer`] turns the request's response, whatever the reader made of the error, into
//! `408` with the usual error body.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::Request,
    http::{header, HeaderValue, Version},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{sleep, Sleep};

use crate::error::ApiError;

/// The error a body yields once its deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub(crate) struct BodyTimedOut(Duration);

/// Set once a request's body ran out of time; read by [`answer`] from the request extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expired(Arc<AtomicBool>);

impl Expired {
    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

pin_project! {
    /// A request body with a deadline.
    pub(crate) struct DeadlineBody<B> {
        #[pin]
        inner: B,
        #[pin]
        deadline: Sleep,
        limit: Duration,
        expired: Expired,
    }
}

impl<B> DeadlineBody<B> {
    /// `inner` with `limit` from now; `expired` is set if it runs out.
    pub(crate) fn new(inner: B, limit: Duration, expired: Expired) -> Self {
        Self {
            inner,
            deadline: sleep(limit),
            limit,
            expired,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.deadline.poll(cx).is_ready() {
            this.expired.0.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut(*this.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Router middleware: a request whose body ran out of time is answered `408`, whatever the
/// handler made of the read error (`400`, `413`). Over HTTP/1.1 the connection is closed too: the
/// rest of the body may still be on its way and would be read as the next request.
pub(crate) async fn answer(request: Request, next: Next) -> Response {
    let expired = request.extensions().get::<Expired>().cloned();
    let version = request.version();
    let response = next.run(request).await;
    if !expired.is_some_and(|e| e.get()) {
        return response;
    }
    let mut response = ApiError::BodyTimeout.into_response();
    if version <= Version::HTTP_11 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
