//! `POST /token` (RFC 6749 §3.2), in the order of DESIGN.md "The token request, step by step".

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    response::Response,
};
use keyward_client_auth::AuthenticatedClient;
use keyward_types::{GrantType, Scope};

use crate::{
    admin::ErrorBody,
    backchannel::{authenticate_client, form::TokenRequest, TokenEndpoint},
    error::ApiError,
    metrics,
};

/// Issue tokens (RFC 6749 §3.2): the client authenticates with the method it registered, and
/// asks for `client_credentials` (§4.4), exchanges an authorization code (§4.1.3, with PKCE) or
/// uses a refresh token (§6).
#[utoipa::path(post, path = "/token", operation_id = "requestToken", tag = "oauth",
    request_body(content = crate::api_schemas::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "an access token (RFC 6749 §5.1); `Cache-Control: no-store`",
            body = crate::access_token::TokenResponse),
        (status = 400, description = "`invalid_request` (a parameter missing or repeated, two `Authorization` headers, not a form), \
            `unsupported_grant_type`, `unauthorized_client` (grant not registered), `invalid_grant` (code or refresh token unknown, spent, expired, revoked, \
            or bound to another client, redirect URI or PKCE verifier), `invalid_scope` or `invalid_target` (RFC 6749 §5.2, RFC 8707)",
            body = ErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed (the reason is logged, never answered)",
            body = ErrorBody, headers(("WWW-Authenticate" = String,
                description = "`Basic realm=\"keyward\", error=\"invalid_client\", error_description=\"client authentication failed\"` when the client sent an `Authorization` header (RFC 6749 §5.2)"))),
        (status = 408, description = "the body did not arrive in time", body = ErrorBody),
        (status = 413, description = "the form is larger than 64 KiB", body = ErrorBody),
        (status = 429, description = "`slow_down`: too many failed authentications from this address",
            body = ErrorBody, headers(("Retry-After" = u64, description = "seconds"))),
        (status = 500, description = "`server_error`", body = ErrorBody),
        (status = 503, description = "`temporarily_unavailable`: the client directory or replay store is unavailable",
            body = ErrorBody)),
    security((), ("client_secret_basic" = [])))]
pub(super) async fn token(
    State(app): State<Arc<TokenEndpoint>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // 1. The form.
    let request = TokenRequest::read(&parts.headers, body).await?;

    // 2–4. Who is asking.
    let client = authenticate_client(&app, &parts, &request.form).await?;

    // 5. What they may have.
    match request.grant_type {
        GrantType::ClientCredentials => client_credentials(&app, &client, &request).await,
        GrantType::AuthorizationCode => crate::oauth::authorization_code(&app, &client, &request.form).await,
        GrantType::RefreshToken => crate::oauth::refresh_token(&app, &client, &request.form).await,
        _ => Err(ApiError::UnsupportedGrantType),
    }
}

/// RFC 6749 §4.4: the client asks for a token for itself.
async fn client_credentials(
    app: &TokenEndpoint,
    client: &AuthenticatedClient,
    request: &TokenRequest,
) -> Result<Response, ApiError> {
    let registered = client.client();
    if !registered.allows_grant(GrantType::ClientCredentials) {
        return Err(ApiError::UnauthorizedClient);
    }
    let scope = match &request.scope {
        None => registered.scope.clone(),
        Some(s) => {
            let requested = Scope::parse(s).map_err(ApiError::MalformedScope)?;
            if !requested.is_subset_of(&registered.scope) {
                return Err(ApiError::InvalidScope(
                    "requested scope exceeds the client's registered scope",
                ));
            }
            requested
        }
    };
    let audience = match &request.resource {
        None => registered
            .default_audience
            .clone()
            .unwrap_or_else(|| app.tokens.issuer().to_owned()),
        Some(resource) => {
            let allowed = registered.default_audience.as_ref() == Some(resource)
                || registered.allowed_audiences.iter().any(|a| a == resource);
            if !allowed {
                return Err(ApiError::InvalidTarget(
                    "resource is not an allowed audience of this client".into(),
                ));
            }
            resource.clone()
        }
    };
    let method = client.method().as_str();
    let issued = app.tokens.issue(registered, method, audience, scope).await?;
    metrics::token_issued(method);
    Ok(issued)
}
