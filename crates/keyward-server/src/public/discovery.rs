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
use utoipa::ToSchema;

use crate::signing::SigningKeys;

/// The discovery document, rendered once at start.
#[derive(Clone)]
pub(crate) struct Discovery(pub(crate) Bytes);

/// RFC 8414 / OpenID Connect Discovery metadata, listing only what really works. Rendered once
/// at start: the issuer and the registered methods do not change while the server runs.
#[derive(Serialize, ToSchema)]
pub(crate) struct DiscoveryDocument<'a> {
    #[schema(value_type = String)]
    issuer: &'a str,
    token_endpoint: String,
    jwks_uri: String,
    #[schema(value_type = Vec<String>)]
    grant_types_supported: Vec<&'static str>,
    /// The client authentication methods this server runs.
    #[schema(value_type = Vec<String>)]
    token_endpoint_auth_methods_supported: &'a [&'a str],
    /// The algorithms client assertions may be signed with, by this server's configuration.
    #[schema(value_type = Vec<String>)]
    token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// Empty: keyward issues tokens to clients, not via browsers (no authorization endpoint).
    #[schema(value_type = Vec<String>)]
    response_types_supported: [&'static str; 0],
    #[schema(value_type = Vec<String>)]
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

fn document(Discovery(body): Discovery) -> Response {
    json_body(body, "public, max-age=3600")
}

/// The server's metadata, as OpenID Connect Discovery 1.0 §4 names it.
#[utoipa::path(get, path = "/.well-known/openid-configuration", operation_id = "getOpenIdConfiguration",
    tag = "discovery", responses((status = 200, description = "the server's metadata", body = DiscoveryDocument)))]
pub(super) async fn openid_configuration(State(discovery): State<Discovery>) -> Response {
    document(discovery)
}

/// The server's metadata, as RFC 8414 §3 names it (the same document).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", operation_id = "getAuthorizationServerMetadata",
    tag = "discovery", responses((status = 200, description = "the server's metadata", body = DiscoveryDocument)))]
pub(super) async fn authorization_server(State(discovery): State<Discovery>) -> Response {
    document(discovery)
}

/// The public keys access tokens are signed with. Short max-age: a rotated key must reach
/// resource servers soon.
#[utoipa::path(get, path = "/jwks", operation_id = "getJwks", tag = "discovery",
    responses((status = 200, description = "the server's public signing keys", body = super::openapi_schemas::Jwks)))]
pub(super) async fn jwks(State(keys): State<Arc<SigningKeys>>) -> Response {
    json_body(keys.current().jwks_body.clone(), "public, max-age=60")
}
