use std::sync::Arc;

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use keyward_admin::ADMIN_SCOPE;
use keyward_types::{GrantType, SigningAlg, USER_SCOPES};
use serde::Serialize;
use utoipa::ToSchema;

use crate::signing::SigningKeys;

/// The discovery document, rendered once at start.
#[derive(Clone)]
pub(crate) struct Discovery(pub(crate) Bytes);

/// RFC 8414 / OpenID Connect Discovery 1.0 metadata, listing only what really works. Rendered
/// once at start: the issuer and the registered methods do not change while the server runs.
#[derive(Serialize, ToSchema)]
pub(crate) struct DiscoveryDocument<'a> {
    #[schema(value_type = String)]
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    /// RFC 9126.
    pushed_authorization_request_endpoint: String,
    /// No client is made to use PAR by the server; a client's registration can require it.
    require_pushed_authorization_requests: bool,
    /// RFC 7662.
    introspection_endpoint: String,
    /// RFC 7009.
    revocation_endpoint: String,
    /// OpenID Connect RP-Initiated Logout 1.0.
    end_session_endpoint: String,
    #[schema(value_type = Vec<String>)]
    scopes_supported: Vec<&'static str>,
    #[schema(value_type = Vec<String>)]
    response_types_supported: [&'static str; 1],
    #[schema(value_type = Vec<String>)]
    response_modes_supported: [&'static str; 1],
    #[schema(value_type = Vec<String>)]
    grant_types_supported: Vec<&'static str>,
    #[schema(value_type = Vec<String>)]
    subject_types_supported: [&'static str; 1],
    /// The algorithm of the server's signing key (ID tokens and access tokens).
    #[schema(value_type = Vec<String>)]
    id_token_signing_alg_values_supported: [&'static str; 1],
    /// PKCE (RFC 7636): `S256` only, and required.
    #[schema(value_type = Vec<String>)]
    code_challenge_methods_supported: [&'static str; 1],
    /// The client authentication methods this server runs.
    #[schema(value_type = Vec<String>)]
    token_endpoint_auth_methods_supported: &'a [&'a str],
    /// The algorithms client assertions may be signed with, by this server's configuration.
    #[schema(value_type = Vec<String>)]
    token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    #[schema(value_type = Vec<String>)]
    introspection_endpoint_auth_methods_supported: &'a [&'a str],
    #[schema(value_type = Vec<String>)]
    introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    #[schema(value_type = Vec<String>)]
    revocation_endpoint_auth_methods_supported: &'a [&'a str],
    #[schema(value_type = Vec<String>)]
    revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    #[schema(value_type = Vec<String>)]
    claims_supported: [&'static str; 11],
    /// RFC 9207: authorization responses carry `iss`.
    authorization_response_iss_parameter_supported: bool,
    #[schema(value_type = Vec<String>)]
    prompt_values_supported: [&'static str; 3],
}

impl<'a> DiscoveryDocument<'a> {
    pub(crate) fn new(
        issuer: &'a str,
        auth_methods: &'a [&'a str],
        assertion_algs: &[SigningAlg],
        token_alg: SigningAlg,
    ) -> Self {
        let algs = || assertion_algs.iter().map(|a| a.as_str()).collect::<Vec<_>>();
        let mut scopes: Vec<&'static str> = USER_SCOPES.to_vec();
        scopes.push(ADMIN_SCOPE);
        Self {
            issuer,
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: format!("{issuer}/token"),
            userinfo_endpoint: format!("{issuer}/userinfo"),
            jwks_uri: format!("{issuer}/jwks"),
            pushed_authorization_request_endpoint: format!("{issuer}/par"),
            require_pushed_authorization_requests: false,
            introspection_endpoint: format!("{issuer}/introspect"),
            revocation_endpoint: format!("{issuer}/revoke"),
            end_session_endpoint: format!("{issuer}/logout"),
            scopes_supported: scopes,
            response_types_supported: ["code"],
            response_modes_supported: ["query"],
            grant_types_supported: GrantType::ALL.iter().map(|g| g.as_str()).collect(),
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: [token_alg.as_str()],
            code_challenge_methods_supported: ["S256"],
            token_endpoint_auth_methods_supported: auth_methods,
            token_endpoint_auth_signing_alg_values_supported: algs(),
            introspection_endpoint_auth_methods_supported: auth_methods,
            introspection_endpoint_auth_signing_alg_values_supported: algs(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            revocation_endpoint_auth_signing_alg_values_supported: algs(),
            claims_supported: [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "name",
                "preferred_username",
                "email",
            ],
            authorization_response_iss_parameter_supported: true,
            prompt_values_supported: ["none", "login", "consent"],
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
    responses((status = 200, description = "the server's public signing keys", body = crate::api_schemas::Jwks)))]
pub(super) async fn jwks(State(keys): State<Arc<SigningKeys>>) -> Response {
    json_body(keys.current().jwks_body.clone(), "public, max-age=60")
}
