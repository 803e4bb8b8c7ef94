//! Token revocation (RFC 7009). The calling client authenticates with its registered method and
//! may revoke only tokens issued to it. Revoking a refresh token revokes its family (the grant,
//! and so the access tokens issued from it); revoking an access token revokes that token. An
//! unknown or already invalid token is answered `200` as the RFC asks (§2.2).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use super::{active, token_request};
use crate::{access_token::no_store, backchannel::TokenEndpoint, console::sha256_hex, error::ApiError};

fn not_yours() -> ApiError {
    ApiError::Refused {
        status: StatusCode::BAD_REQUEST,
        error: "unauthorized_client",
        description: "the token was not issued to this client".into(),
    }
}

/// Revoke a token (RFC 7009): a refresh token with its whole family, or one access token.
#[utoipa::path(post, path = "/revoke", operation_id = "revokeToken", tag = "oauth",
    request_body(content = crate::api_schemas::TokenQueryForm, content_type = "application/x-www-form-urlencoded",
        description = "`token` (and optionally `token_type_hint`), with the calling client's authentication as at `/token`"),
    responses(
        (status = 200, description = "revoked, or the token was not valid anyway (RFC 7009 §2.2)"),
        (status = 400, description = "`invalid_request`, or `unauthorized_client`: the token was issued to another client", body = crate::admin::ErrorBody),
        (status = 401, description = "`invalid_client`", body = crate::admin::ErrorBody)),
    security((), ("client_secret_basic" = [])))]
pub(crate) async fn revoke(
    State(app): State<Arc<TokenEndpoint>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (client, token) = token_request(&app, request).await?;
    let token = token.as_str();
    let caller = client.client().client_id.as_str();
    if active::looks_like_jwt(token) {
        if let Ok(claims) = app.tokens.verify_any_audience(token) {
            if claims.client_id != caller {
                return Err(not_yours());
            }
            let until = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap_or_else(|_| app.clock.now());
            app.storage.revoke_access_token(&claims.jti, until).await?;
            tracing::info!(client_id = caller, jti = %claims.jti, "access token revoked");
        }
    } else if let Some((_, grant)) = app.storage.load_refresh(&sha256_hex(token)).await? {
        if grant.client_id.as_str() != caller {
            return Err(not_yours());
        }
        app.storage.revoke_grant(&grant.grant_id).await?;
        tracing::info!(client_id = caller, grant = %grant.grant_id, "refresh token revoked with its family");
    }
    Ok(no_store(StatusCode::OK.into_response()))
}
