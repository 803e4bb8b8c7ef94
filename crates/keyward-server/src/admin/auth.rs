use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts, HeaderMap},
};
use keyward_admin::{Actor, Directory};
use keyward_client_auth::ClientDirectory;
use keyward_types::ClientId;

use super::{reject_budget::RejectBudget, ADMIN_SCOPE};
use crate::{
    access_token::{AccessTokens, TokenRejected},
    error::ApiError,
};

/// What the bearer check uses: this server's access tokens, the clients that hold them, and
/// how many refusals a minute the audit log records.
#[derive(Clone)]
pub(crate) struct AdminAuth {
    pub(crate) tokens: AccessTokens,
    pub(crate) clients: Arc<Directory>,
    pub(crate) rejections: Arc<RejectBudget>,
}

/// An admin caller: holding one means the request carried a valid access token of this server
/// with scope `keyward:admin`, from a client that still exists and is enabled.
pub(crate) struct Admin {
    pub(crate) actor: Actor,
}

/// Why an admin bearer token was refused. [`AdminRejected::reason`] is the stable code that the
/// log, the audit record and `keyward_admin_auth_failures_total{reason}` carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdminRejected {
    Missing,
    NotBearer,
    TwoHeaders,
    Token(TokenRejected),
    UnknownClient,
    ClientInactive,
    NotAdminScope,
}

impl AdminRejected {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            AdminRejected::Missing => "missing",
            AdminRejected::NotBearer => "not_bearer",
            AdminRejected::TwoHeaders => "multiple_headers",
            AdminRejected::Token(t) => t.reason(),
            AdminRejected::UnknownClient => "unknown_client",
            AdminRejected::ClientInactive => "client_inactive",
            AdminRejected::NotAdminScope => "not_admin_scope",
        }
    }

    /// The answer (RFC 6750 §3.1): `401 invalid_token`, `400 invalid_request` for a malformed
    /// bearer request, `403 insufficient_scope`.
    pub(crate) fn into_api_error(self) -> ApiError {
        match self {
            AdminRejected::Missing | AdminRejected::NotBearer => ApiError::MissingToken,
            // Two headers would leave "which one counts" to whoever reads them, and a proxy
            // may pick another than this server does: never first-wins.
            AdminRejected::TwoHeaders => ApiError::InvalidBearerRequest("more than one Authorization header"),
            AdminRejected::Token(t) => ApiError::InvalidToken(t.description()),
            AdminRejected::UnknownClient => ApiError::InvalidToken("unknown client"),
            AdminRejected::ClientInactive => ApiError::InvalidToken("client no longer active"),
            AdminRejected::NotAdminScope => ApiError::InsufficientScope,
        }
    }
}

/// Why the check did not yield a caller: the token was refused, or the client directory could
/// not answer (the server's trouble, not the caller's).
pub(crate) enum CheckFailed {
    Rejected(AdminRejected),
    Failed(ApiError),
}

impl From<AdminRejected> for CheckFailed {
    fn from(r: AdminRejected) -> Self {
        CheckFailed::Rejected(r)
    }
}

impl CheckFailed {
    pub(crate) fn into_api_error(self) -> ApiError {
        match self {
            CheckFailed::Rejected(r) => r.into_api_error(),
            CheckFailed::Failed(e) => e,
        }
    }
}

/// The bearer check: the caller of a request, or why there is none.
pub(crate) async fn check(headers: &HeaderMap, auth: &AdminAuth) -> Result<Actor, CheckFailed> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(AdminRejected::TwoHeaders.into());
    }
    let value = first
        .map(|v| v.to_str().map_err(|_| AdminRejected::NotBearer))
        .transpose()?
        .ok_or(AdminRejected::Missing)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(AdminRejected::NotBearer)?;
    let claims = auth.tokens.verify(token.trim()).map_err(AdminRejected::Token)?;
    // A token outlives nothing: disabling or deleting its client revokes it.
    let client_id = ClientId::parse(claims.client_id).map_err(|_| AdminRejected::UnknownClient)?;
    let entry = auth
        .clients
        .find(&client_id)
        .await
        .map_err(|e| CheckFailed::Failed(ApiError::Directory(e)))?
        .filter(|e| e.client.enabled)
        .ok_or(AdminRejected::ClientInactive)?;
    // A user's token (from a code exchange) never administers, whatever its scope says.
    if claims.gid.is_some()
        || !claims.scope.split(' ').any(|s| s == ADMIN_SCOPE)
        || !entry.client.scope.contains(ADMIN_SCOPE)
    {
        return Err(AdminRejected::NotAdminScope.into());
    }
    Ok(Actor::new(client_id.as_str()))
}

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    AdminAuth: FromRef<S>,
{
    type Rejection = ApiError;

    /// The admin routes' middleware ([`super::observe`]) has checked the token and left the
    /// caller in the request; a route mounted without it checks here.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(Admin { actor: actor.clone() });
        }
        let auth = AdminAuth::from_ref(state);
        let actor = check(&parts.headers, &auth)
            .await
            .map_err(CheckFailed::into_api_error)?;
        Ok(Admin { actor })
    }
}
