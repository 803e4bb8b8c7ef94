use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::header,
    http::request::Parts,
};
use keyward_admin::{Actor, Directory};
use keyward_client_auth::ClientDirectory;
use keyward_types::ClientId;

use super::ADMIN_SCOPE;
use crate::{access_token::AccessTokens, error::ApiError};

/// What the bearer check uses: this server's access tokens, and the clients that hold them.
#[derive(Clone)]
pub(crate) struct AdminAuth {
    pub(crate) tokens: AccessTokens,
    pub(crate) clients: Arc<Directory>,
}

/// An admin caller: holding one means the request carried a valid access token of this server
/// with scope `keyward:admin`, from a client that still exists and is enabled.
pub(crate) struct Admin {
    pub(crate) actor: Actor,
}

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    AdminAuth: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AdminAuth::from_ref(state);
        // Two headers would leave "which one counts" to whoever reads them, and a proxy may
        // pick another than this server does: RFC 6750 §3.1 `invalid_request`, never first-wins.
        let mut headers = parts.headers.get_all(header::AUTHORIZATION).iter();
        let first = headers.next();
        if headers.next().is_some() {
            return Err(ApiError::InvalidBearerRequest(
                "more than one Authorization header",
            ));
        }
        let value = first
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::InvalidToken("missing bearer token"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(ApiError::InvalidToken("missing bearer token"))?;
        let claims = app.tokens.verify(token.trim())?;
        // A token outlives nothing: disabling or deleting its client revokes it.
        let client_id =
            ClientId::parse(claims.client_id).map_err(|_| ApiError::InvalidToken("unknown client"))?;
        let entry = app
            .clients
            .find(&client_id)
            .await
            .map_err(ApiError::Directory)?
            .filter(|e| e.client.enabled)
            .ok_or(ApiError::InvalidToken("client no longer active"))?;
        if !claims.scope.split(' ').any(|s| s == ADMIN_SCOPE) || !entry.client.scope.contains(ADMIN_SCOPE) {
            return Err(ApiError::InsufficientScope);
        }
        Ok(Admin {
            actor: Actor::new(client_id.as_str()),
        })
    }
}
