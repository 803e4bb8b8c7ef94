//! `POST /token` (RFC 6749 §3.2), in the order of DESIGN.md "The token request, step by step".

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap},
    response::Response,
};
use keyward_client_auth::{AuthContext, AuthError, AuthenticatedClient, Presented};
use keyward_types::{GrantType, Scope, Untrusted};

use super::form::Form;
use crate::{access_token, error::ApiError, metrics, state::AppState};

pub(super) async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // 1. The form.
    let form = Form::read(&headers, body).await?;
    let grant = form
        .get("grant_type")
        .ok_or(ApiError::InvalidRequest("grant_type is missing".into()))?;
    let grant: GrantType = grant.parse().map_err(|_| ApiError::UnsupportedGrantType)?;

    // 2–4. Who is asking.
    let client = authenticate(&app, &headers, &form).await?;

    // 5. What they may have.
    match grant {
        GrantType::ClientCredentials => client_credentials(&app, &client, &form).await,
        _ => Err(ApiError::UnsupportedGrantType),
    }
}

async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<AuthenticatedClient, ApiError> {
    // RFC 6749 §3.2 forbids repeating a parameter; a second `Authorization` header is the same
    // ambiguity one layer down (which credentials count?), so it is refused, never first-wins.
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
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
            AuthError::Unavailable(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    };
    let authorization = match header.map(|h| h.to_str()) {
        Some(Err(_)) => return Err(fail(keyward_client_auth::AuthFailure::BasicNotUtf8.into(), None)),
        Some(Ok(v)) => Some(v),
        None => None,
    };
    let creds = form.credentials(authorization);
    let presented = Presented::extract(&creds).map_err(|e| fail(e, creds.client_id))?;
    let ctx = AuthContext {
        now: app.clock.now(),
        pepper: &app.keyring.pepper,
        policy: &app.policy,
        replay: &app.replay,
        vault: &app.keyring,
        remote_keys: &app.remote_keys,
    };
    app.authenticator
        .authenticate(&presented, &app.clients, &ctx)
        .await
        .map_err(|e| fail(e, presented.claimed_client_id()))
}

/// RFC 6749 §4.4: the client asks for a token for itself.
async fn client_credentials(
    app: &AppState,
    client: &AuthenticatedClient,
    form: &Form,
) -> Result<Response, ApiError> {
    let registered = client.client();
    if !registered.allows_grant(GrantType::ClientCredentials) {
        return Err(ApiError::UnauthorizedClient);
    }
    let scope = match form.get("scope") {
        None => registered.scope.clone(),
        Some(s) => {
            let requested = Scope::parse(s).map_err(|e| ApiError::InvalidScope(e.to_string()))?;
            if !requested.is_subset_of(&registered.scope) {
                return Err(ApiError::InvalidScope(
                    "requested scope exceeds the client's registered scope".into(),
                ));
            }
            requested
        }
    };
    let audience = match form.get("resource") {
        None => registered
            .default_audience
            .clone()
            .unwrap_or_else(|| app.issuer.clone()),
        Some(resource) => {
            let allowed = registered.default_audience.as_deref() == Some(resource)
                || registered.allowed_audiences.iter().any(|a| a == resource);
            if !allowed {
                return Err(ApiError::InvalidTarget(
                    "resource is not an allowed audience of this client".into(),
                ));
            }
            resource.to_owned()
        }
    };
    let issued = access_token::issue(app, registered, audience, scope).await?;
    metrics::token_issued(client.method().as_str());
    Ok(issued)
}
