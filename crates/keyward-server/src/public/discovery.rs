use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use keyward_types::GrantType;
use serde_json::json;

use crate::state::AppState;

/// RFC 8414 / OpenID Connect Discovery metadata, listing only what really works. Rendered once
/// at start: the issuer and the registered methods do not change while the server runs.
pub(crate) fn discovery_document(
    issuer: &str,
    auth_methods: &[&str],
    assertion_algs: &[keyward_types::SigningAlg],
) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "grant_types_supported": GrantType::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported":
            assertion_algs.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        // No authorization endpoint: keyward issues tokens to clients, not via browsers.
        "response_types_supported": [],
        "scopes_supported": ["keyward:admin"],
    })
}

fn json_body(body: bytes::Bytes, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

pub(super) async fn document(State(app): State<AppState>) -> Response {
    json_body(app.discovery_body.clone(), "public, max-age=3600")
}

/// Short max-age: a rotated key must reach resource servers soon.
pub(super) async fn jwks(State(app): State<AppState>) -> Response {
    json_body(app.keys.current().jwks_body.clone(), "public, max-age=60")
}
