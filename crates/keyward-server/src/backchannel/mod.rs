//! What every back-channel endpoint shares (`/token`, `/par`, `/introspect`, `/revoke`): the
//! form they read, and the one path that authenticates the calling client with its registered
//! method. The endpoints themselves live in `public` (the token endpoint), `authorize` (PAR) and
//! `oauth` (the code flow's grants, introspection, revocation, userinfo).

pub(crate) mod form;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::ConnectInfo,
    http::{header, request::Parts},
};
use keyward_admin::Directory;
use keyward_client_auth::{
    AssertionPolicy, AuthContext, AuthError, AuthFailure, AuthenticatedClient, Authenticator, FormParams,
    RequestParts, TlsInfo,
};
use keyward_types::{Clock, Untrusted};

pub(crate) use form::{parse_form, read_form_bytes};

use crate::{
    access_token::AccessTokens, error::ApiError, keyring::Keyring, metrics, remote_keys::CachedRemoteKeys,
    replay::StorageReplay,
};

/// What the back-channel endpoints use: the client directory, the authenticator and what it checks
/// against, and the access tokens it signs.
pub(crate) struct TokenEndpoint {
    pub(crate) tokens: AccessTokens,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keyring: Keyring,
    pub(crate) clients: Arc<Directory>,
    pub(crate) authenticator: Authenticator,
    pub(crate) policy: AssertionPolicy,
    pub(crate) replay: StorageReplay,
    pub(crate) remote_keys: CachedRemoteKeys,
    /// Codes, grants and refresh tokens of the authorization code flow.
    pub(crate) storage: Arc<dyn keyward_storage::Storage>,
    /// The users behind user grants.
    pub(crate) ops: Arc<keyward_admin::AdminOps>,
    /// How long a refresh token stays good unused (`refresh_token_lifetime_seconds`).
    pub(crate) refresh_lifetime: time::Duration,
}

/// Authenticates the client of a back-channel request (`/token`, `/par`, `/introspect`,
/// `/revoke`) with the method it registered: the one path every such call takes.
pub(crate) async fn authenticate_client(
    app: &TokenEndpoint,
    parts: &Parts,
    form: &FormParams,
) -> Result<AuthenticatedClient, ApiError> {
    // RFC 6749 §3.2 forbids repeating a parameter; a second `Authorization` header is the same
    // ambiguity one layer down (which credentials count?), so it is refused, never first-wins.
    let mut all = parts.headers.get_all(header::AUTHORIZATION).iter();
    let header = all.next();
    if all.next().is_some() {
        return Err(ApiError::InvalidRequest(
            "more than one Authorization header".into(),
        ));
    }
    let used_basic = header.is_some();
    let fail = |e: AuthError, claimed: Option<&str>| -> ApiError {
        match e {
            AuthError::Failed(f) => {
                // The claimed id is unverified (an assertion's `sub` can be 60 KiB): bounded.
                tracing::info!(
                    reason = f.code(),
                    client_id = %Untrusted(claimed.unwrap_or("-")),
                    "client authentication failed"
                );
                metrics::auth_failure(f.code());
                ApiError::InvalidClient { used_basic }
            }
            AuthError::InvalidRequest(m) => ApiError::InvalidRequest(m.into()),
            unavailable => ApiError::AuthUnavailable(unavailable),
        }
    };
    let form_client_id = form.get("client_id");
    // An `Authorization` header that is not text is refused before any method reads the
    // request, as a Basic header that does not decode.
    if header.is_some_and(|h| h.to_str().is_err()) {
        return Err(fail(AuthFailure::BasicNotUtf8.into(), None));
    }
    let request_parts = RequestParts {
        headers: &parts.headers,
        form,
        peer: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0),
        tls: parts.extensions.get::<TlsInfo>(),
    };
    let presented = app
        .authenticator
        .extract(&request_parts)
        .map_err(|e| fail(e, form_client_id))?;
    let ctx = AuthContext {
        now: app.clock.now(),
        pepper: &app.keyring.pepper,
        policy: &app.policy,
        replay: &app.replay,
        vault: &app.keyring,
        remote_keys: &app.remote_keys,
    };
    app.authenticator
        .authenticate(&presented, &*app.clients, &ctx)
        .await
        .map_err(|e| fail(e, Some(presented.claimed_client_id())))
}
