//! Whether a token keyward issued is still good, for introspection, userinfo and revocation:
//! signed by a published key, not expired, not revoked (itself or its grant), its client
//! enabled, and for a user token its user enabled.

use keyward_admin::User;
use keyward_client_auth::ClientDirectory;
use keyward_storage::{GrantRecord, RefreshRecord};
use keyward_types::ClientId;

use super::users::enabled_user;
use crate::{access_token::AccessClaims, backchannel::TokenEndpoint, console::sha256_hex, error::ApiError};

/// A live access token and, for a user token, its user.
pub(crate) struct ActiveAccess {
    pub(crate) claims: AccessClaims,
    pub(crate) user: Option<User>,
}

/// A live refresh token and its grant.
pub(crate) struct ActiveRefresh {
    pub(crate) token: RefreshRecord,
    pub(crate) grant: GrantRecord,
    pub(crate) user: User,
}

/// Tokens keyward issues as JWTs have two dots; refresh tokens none.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

async fn client_enabled(app: &TokenEndpoint, client_id: &str) -> Result<bool, ApiError> {
    let Ok(id) = ClientId::parse(client_id) else {
        return Ok(false);
    };
    let entry = app.clients.find(&id).await.map_err(ApiError::Directory)?;
    Ok(entry.is_some_and(|e| e.client.enabled))
}

/// The access token's claims if it is still good.
pub(crate) async fn access(app: &TokenEndpoint, token: &str) -> Result<Option<ActiveAccess>, ApiError> {
    let Ok(claims) = app.tokens.verify_any_audience(token) else {
        return Ok(None);
    };
    if app.storage.access_token_revoked(&claims.jti).await? || !client_enabled(app, &claims.client_id).await?
    {
        return Ok(None);
    }
    let user = match &claims.gid {
        None => None,
        Some(gid) => {
            let live = app.storage.load_grant(gid).await?.is_some_and(|g| !g.revoked);
            let user = enabled_user(app, &claims.sub).await?;
            match (live, user) {
                (true, Some(user)) => Some(user),
                _ => return Ok(None),
            }
        }
    };
    Ok(Some(ActiveAccess { claims, user }))
}

/// The refresh token's record if it is still good.
pub(crate) async fn refresh(app: &TokenEndpoint, token: &str) -> Result<Option<ActiveRefresh>, ApiError> {
    let Some((record, grant)) = app.storage.load_refresh(&sha256_hex(token)).await? else {
        return Ok(None);
    };
    let now = app.clock.now();
    if grant.revoked || record.used_at.is_some() || record.expires_at <= now {
        return Ok(None);
    }
    if !client_enabled(app, grant.client_id.as_str()).await? {
        return Ok(None);
    }
    let Some(user) = enabled_user(app, &grant.username).await? else {
        return Ok(None);
    };
    Ok(Some(ActiveRefresh {
        token: record,
        grant,
        user,
    }))
}
