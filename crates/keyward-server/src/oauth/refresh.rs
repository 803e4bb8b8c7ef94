//! `grant_type=refresh_token` (RFC 6749 §6), with rotation: every use spends the token and
//! answers a new one; a spent token presented again revokes its whole family (the grant), as
//! the OAuth 2.0 Security BCP (RFC 9700 §4.14.2) recommends for tokens of confidential clients too.
//! A token presented by another client is refused and left alone (the other client proves
//! nothing about the token's owner).

use axum::response::Response;
use keyward_client_auth::{AuthenticatedClient, FormParams};
use keyward_storage::{RefreshRecord, Rotation};
use keyward_types::{GrantType, Scope};
use time::Duration;

use super::{
    token_set::{self, opaque_token, UserGrant},
    users::enabled_user,
};
use crate::{backchannel::TokenEndpoint, console::sha256_hex, error::ApiError};

pub(crate) async fn refresh_token(
    app: &TokenEndpoint,
    client: &AuthenticatedClient,
    form: &FormParams,
) -> Result<Response, ApiError> {
    let registered = client.client();
    if !registered.allows_grant(GrantType::RefreshToken)
        && !registered.allows_grant(GrantType::AuthorizationCode)
    {
        return Err(ApiError::UnauthorizedClient);
    }
    let token = form
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::InvalidRequest("refresh_token is missing".into()))?;
    let old_hash = sha256_hex(token);
    let now = app.clock.now();
    let refused = |why: &'static str| {
        tracing::info!(client_id = %registered.client_id, why, "refresh refused");
        Err(ApiError::InvalidGrant(why.into()))
    };
    let Some((old, grant)) = app.storage.load_refresh(&old_hash).await? else {
        return refused("the refresh token is unknown");
    };
    if grant.client_id != registered.client_id {
        return refused("the refresh token was issued to another client");
    }
    if grant.revoked {
        return refused("the refresh token is revoked");
    }
    if old.used_at.is_some() {
        app.storage.revoke_grant(&grant.grant_id).await?;
        tracing::warn!(client_id = %registered.client_id, grant = %grant.grant_id, "refresh token reused; its family is revoked");
        return Err(ApiError::InvalidGrant(
            "the refresh token was already used".into(),
        ));
    }
    if old.expires_at <= now {
        return refused("the refresh token has expired");
    }
    if enabled_user(app, &grant.username).await?.is_none() {
        return refused("the user is disabled or gone");
    }
    let scope = match form.get("scope") {
        None => grant.scope.clone(),
        Some(s) => {
            let asked = Scope::parse(s).map_err(ApiError::MalformedScope)?;
            if !asked.is_subset_of(&grant.scope) {
                return Err(ApiError::InvalidScope(
                    "requested scope exceeds the scope granted",
                ));
            }
            asked
        }
    };
    let new_token = opaque_token()?;
    let new = RefreshRecord {
        token_hash: sha256_hex(&new_token),
        grant_id: grant.grant_id.clone(),
        created_at: now,
        expires_at: now + app.refresh_lifetime,
        used_at: None,
    };
    let access_ends = now + Duration::seconds(i64::from(registered.access_token_lifetime));
    match app
        .storage
        .rotate_refresh(&old_hash, &new, new.expires_at.max(access_ends), now)
        .await?
    {
        Rotation::Rotated => {}
        Rotation::Reused => {
            tracing::warn!(client_id = %registered.client_id, grant = %grant.grant_id, "refresh token used concurrently; its family is revoked");
            return Err(ApiError::InvalidGrant(
                "the refresh token was already used".into(),
            ));
        }
        Rotation::Unknown => return refused("the refresh token is revoked"),
    }
    token_set::respond(
        app,
        UserGrant {
            client: registered,
            method: client.method().as_str(),
            username: &grant.username,
            scope,
            grant_id: &grant.grant_id,
            auth_time: grant.auth_time,
            nonce: None,
            refresh_token: Some(new_token),
        },
    )
    .await
}
