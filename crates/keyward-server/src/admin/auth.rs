use axum::{extract::FromRequestParts, http::header, http::request::Parts};
use keyward_admin::Actor;
use keyward_client_auth::ClientDirectory;
use keyward_types::ClientId;

use super::ADMIN_SCOPE;
use crate::{access_token, error::ApiError, state::AppState};

/// An admin caller: holding one means the request carried a valid access token of this server
/// with scope `keyward:admin`, from a client that still exists and is enabled.
pub(crate) struct Admin {
    pub(crate) actor: Actor,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
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
        let claims = access_token::verify(app, token.trim())?;
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
