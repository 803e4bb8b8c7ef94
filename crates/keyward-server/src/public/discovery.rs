use std::sync::Arc;

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use keyward_admin::ADMIN_SCOPE;
use keyward_types::{GrantType, SigningAlg};
use serde::Serialize;

use crate::signing::SigningKeys;

/// The discovery document, rendered once at start.
#[derive(Clone)]
pub(crate) struct Discovery(pub(crate) Bytes);

/// RFC 8414 / OpenID Connect Discovery metadata, listing only what really works. Rendered once
/// at start: the issuer and the registered methods do not change while the server runs.
#[derive(Serialize)]
pub(crate) struct DiscoveryDocument<'a> {
    issuer: &'a str,
    token_endpoint: String,
    jwks_uri: String,
    grant_types_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: &'a [&'a str],
    token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// Empty: keyward issues tokens to clients, not via browsers (no authorization endpoint).
    response_types_supported: [&'static str; 0],
    scopes_supported: [&'static str; 1],
}

impl<'a> DiscoveryDocument<'a> {
    pub(crate) fn new(issuer: &'a str, auth_methods: &'a [&'a str], assertion_algs: &[SigningAlg]) -> Self {
        Self {
            issuer,
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: format!("{issuer}/jwks"),
            grant_types_supported: GrantType::ALL.iter().map(|g| g.as_str()).collect(),
            token_endpoint_auth_methods_supported: auth_methods,
            token_endpoint_auth_signing_alg_values_supported: assertion_algs
                .iter()
                .map(|a| a.as_str())
                .collect(),
            response_types_supported: [],
            scopes_supported: [ADMIN_SCOPE],
        }
    }
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

pub(super) async fn document(State(Discovery(body)): State<Discovery>) -> Response {
    json_body(body, "public, max-age=3600")
}

/// Short max-age: a rotated key must reach resource servers soon.
pub(super) async fn jwks(State(keys): State<Arc<SigningKeys>>) -> Response {
    json_body(keys.current().jwks_body.clone(), "public, max-age=60")
}
