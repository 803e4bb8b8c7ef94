//! The back channel of the authorization code flow: the code exchange and refresh (called from
//! `POST /token`), introspection (RFC 7662), revocation (RFC 7009) and userinfo (OIDC Core
//! §5.3). Every call a client makes authenticates it with its registered method, through the
//! token endpoint's one path.

mod active;
mod code_exchange;
pub(crate) mod introspect;
mod refresh;
pub(crate) mod revoke;
mod token_set;
pub(crate) mod userinfo;
mod users;

use std::sync::Arc;

use axum::{
    extract::{FromRef, Request},
    routing::{get, post},
    Router,
};
use keyward_client_auth::{AuthenticatedClient, FormParams};

pub(crate) use code_exchange::authorization_code;
pub(crate) use refresh::refresh_token;

use crate::{
    backchannel::{authenticate_client, read_form_bytes, TokenEndpoint},
    error::ApiError,
};

/// The routes, for any router state that holds the token endpoint.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<TokenEndpoint>: FromRef<S>,
{
    Router::new()
        .route("/introspect", post(introspect::introspect))
        .route("/revoke", post(revoke::revoke))
        .route("/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
}

/// The `token` of an introspection or revocation request (RFC 7662 §2.1, RFC 7009 §2.1), and
/// the client that authenticated the request.
async fn token_request(
    app: &TokenEndpoint,
    request: Request,
) -> Result<(AuthenticatedClient, String), ApiError> {
    let (client, form) = authenticated_form(app, request).await?;
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::InvalidRequest("token is missing".into()))?;
    Ok((client, token.to_owned()))
}

/// The form of a back-channel request, and the client it authenticated.
async fn authenticated_form(
    app: &TokenEndpoint,
    request: Request,
) -> Result<(AuthenticatedClient, FormParams), ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = read_form_bytes(&parts.headers, body).await?;
    let form = crate::backchannel::parse_form(&bytes)?;
    let client = authenticate_client(app, &parts, &form).await?;
    Ok((client, form))
}
