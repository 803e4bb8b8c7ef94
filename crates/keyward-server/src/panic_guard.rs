//! A panic while serving a request answers `500` and is logged; it never ends the process.
//!
//! keyward's own code does not panic (the lints deny it), but its dependencies can: a parser
//! that trusts a length, a KDF that asserts its parameters. The release profile unwinds
//! (`panic = "unwind"` in the workspace `Cargo.toml`), so the panic stops at this layer: the
//! request that triggered it gets the same `server_error` body as any internal error, the
//! panic's message goes to the log and to `keyward_panics_total`, and every other connection is
//! untouched. Work that runs outside the request future (`spawn_blocking` imports) has its own
//! `catch_unwind` where it runs.

use std::any::Any;

use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;

/// Longest panic message logged: a dependency's message may quote the input it choked on.
const MAX_MESSAGE_CHARS: usize = 200;

pub(crate) type PanicLayer = CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response>;

pub(crate) fn layer() -> PanicLayer {
    CatchPanicLayer::custom(answer as fn(Box<dyn Any + Send + 'static>) -> Response)
}

fn answer(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic_message(payload.as_ref());
    metrics::counter!("keyward_panics_total").increment(1);
    tracing::error!(panic = %message, "a request handler panicked; answered 500, process continues");
    ApiError::Internal("request handler panicked".into()).into_response()
}

/// The text of a panic payload (`panic!("…")` gives `&str` or `String`), cut to a loggable size.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-text panic payload)");
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use axum::{body::Body, http::Request, routing::get, Router};
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> &'static str {
        panic!("dependency assertion failed")
    }

    fn app() -> Router {
        Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "ok" }))
            .layer(layer())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_server_error() {
        let resp = app()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 500);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "server_error");
        assert_eq!(body["error_description"], "internal error");
    }

    #[tokio::test]
    async fn the_router_keeps_serving_after_a_panic() {
        let app = app();
        let _ = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let resp = app
            .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }

    #[test]
    fn panic_messages_are_cut_to_a_loggable_size() {
        let long: Box<dyn Any + Send> = Box::new("x".repeat(10_000));
        assert_eq!(panic_message(long.as_ref()).len(), MAX_MESSAGE_CHARS);
        let other: Box<dyn Any + Send> = Box::new(42_u8);
        assert_eq!(panic_message(other.as_ref()), "(non-text panic payload)");
    }
}
