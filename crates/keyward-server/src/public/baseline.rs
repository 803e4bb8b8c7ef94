//! `POST /bench/baseline`, compiled only with the `bench-baseline` feature: the token endpoint's
//! stack (router, metrics middleware, form parsing, a small JSON response with the token
//! endpoint's headers) without authentication, storage or signing. Its rate is H, the server
//! stack's own limit, from which BENCHMARKS.md derives each scenario's bound.
//!
//! A `spin_us` form field makes the handler burn that much CPU before it answers, standing in
//! for a scenario's crypto with no other work around it. Its rate tells how much the stack
//! itself costs per request at that scenario's request rate, which is not what it costs at H's
//! (BENCHMARKS.md, "The stack's cost depends on the rate").

use std::time::{Duration, Instant};

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::backchannel::form::read_form;
use crate::error::ApiError;

pub(super) async fn baseline(headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let form = read_form(&headers, body).await?;
    let grant = form
        .get("grant_type")
        .ok_or(ApiError::InvalidRequest("grant_type is missing".into()))?;
    if let Some(us) = form.get("spin_us").and_then(|v| v.parse::<u64>().ok()) {
        let until = Instant::now() + Duration::from_micros(us.min(10_000));
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    let mut resp = Json(json!({
        "access_token": "baseline", "token_type": "Bearer", "expires_in": 300, "grant_type": grant,
    }))
    .into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(resp)
}
