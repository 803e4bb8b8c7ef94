//! Token introspection (RFC 7662): any authenticated client (a resource server is one) may ask
//! about an access token; a refresh token is described only to the client it was issued to.
//! Anything not good (unknown, expired, revoked, its grant revoked, its client or user disabled)
//! is `{"active": false}` and nothing more.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{active, token_request};
use crate::{access_token::no_store, backchannel::TokenEndpoint, error::ApiError};

/// Describe a token (RFC 7662): active or not, and for an active one its scope, client, subject
/// and lifetime. A refresh token is described only to the client it was issued to.
#[utoipa::path(post, path = "/introspect", operation_id = "introspectToken", tag = "oauth",
    request_body(content = crate::api_schemas::TokenQueryForm, content_type = "application/x-www-form-urlencoded",
        description = "`token` (and optionally `token_type_hint`), with the calling client's authentication as at `/token`"),
    responses(
        (status = 200, description = "`{\"active\": false}`, or the active token's `scope`, `client_id`, `sub`, `username`, `aud`, `iss`, `exp`, `iat`, `jti`, `token_type`"),
        (status = 400, description = "`invalid_request`", body = crate::admin::ErrorBody),
        (status = 401, description = "`invalid_client`", body = crate::admin::ErrorBody)),
    security((), ("client_secret_basic" = [])))]
pub(crate) async fn introspect(
    State(app): State<Arc<TokenEndpoint>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (client, token) = token_request(&app, request).await?;
    let token = token.as_str();
    let caller = client.client().client_id.as_str();
    let answer = if active::looks_like_jwt(token) {
        active::access(&app, token).await?.map(|a| {
            let mut v = json!({
                "active": true,
                "token_type": "Bearer",
                "scope": a.claims.scope,
                "client_id": a.claims.client_id,
                "sub": a.claims.sub,
                "aud": a.claims.aud,
                "iss": a.claims.iss,
                "exp": a.claims.exp,
                "iat": a.claims.iat,
                "jti": a.claims.jti,
            });
            if let (Some(user), Some(obj)) = (a.user, v.as_object_mut()) {
                obj.insert("username".into(), Value::from(user.username));
            }
            v
        })
    } else {
        active::refresh(&app, token)
            .await?
            .filter(|r| r.grant.client_id.as_str() == caller)
            .map(|r| {
                json!({
                    "active": true,
                    "token_type": "refresh_token",
                    "scope": r.grant.scope.to_string(),
                    "client_id": r.grant.client_id.as_str(),
                    "sub": r.user.username,
                    "username": r.user.username,
                    "iss": app.tokens.issuer(),
                    "exp": r.token.expires_at.unix_timestamp(),
                    "iat": r.token.created_at.unix_timestamp(),
                })
            })
    };
    tracing::debug!(
        client_id = caller,
        active = answer.is_some(),
        "token introspected"
    );
    let body = answer.unwrap_or_else(|| json!({"active": false}));
    Ok(no_store(Json(body).into_response()))
}
