//! `POST /bench/baseline`, compiled only with the `bench-baseline` feature: the token endpoint's
//! stack (router, metrics middleware, form parsing, a small JSON response with the token
//! endpoint's headers) without authentication, storage or signing. Its rate is H, the server
//! stack's own limit, from which BENCHMARKS.md derives each scenario's bound.

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::form::Form;
use crate::error::ApiError;

pub(super) async fn baseline(headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let form = Form::read(&headers, body).await?;
    let grant = form
        .get("grant_type")
        .ok_or(ApiError::InvalidRequest("grant_type is missing".into()))?;
    let mut resp = Json(json!({
        "access_token": "baseline", "token_type": "Bearer", "expires_in": 300, "grant_type": grant,
    }))
    .into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(resp)
}
