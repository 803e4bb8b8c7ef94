//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6). The client has already
//! authenticated with its registered method, by the same path as `client_credentials`.
//!
//! The code is spent by its first presentation, whatever follows: a presentation that fails a
//! check (another client, another redirect URI, a wrong verifier, too late) leaves a spent code
//! that no one can use, and a second presentation revokes the grant the first one started.

use aws_lc_rs::digest::{digest, SHA256};
use axum::response::Response;
use keyward_client_auth::{AuthenticatedClient, FormParams};
use keyward_storage::{GrantRecord, Redeemed, RefreshRecord};
use keyward_types::GrantType;
use subtle::ConstantTimeEq;
use time::Duration;

use super::{
    token_set::{self, opaque_token, UserGrant},
    users::enabled_user,
};
use crate::{backchannel::TokenEndpoint, console::sha256_hex, error::ApiError};

fn required<'a>(form: &'a FormParams, name: &str) -> Result<&'a str, ApiError> {
    form.get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::InvalidRequest(format!("{name} is missing").into()))
}

/// RFC 7636 §4.1 verifier syntax, then `BASE64URL(SHA256(verifier)) == challenge`.
fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let syntax = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = keyward_jose::b64_encode(digest(&SHA256, verifier.as_bytes()));
    syntax && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

pub(crate) async fn authorization_code(
    app: &TokenEndpoint,
    client: &AuthenticatedClient,
    form: &FormParams,
) -> Result<Response, ApiError> {
    let registered = client.client();
    if !registered.allows_grant(GrantType::AuthorizationCode) {
        return Err(ApiError::UnauthorizedClient);
    }
    let code = required(form, "code")?;
    let redirect_uri = required(form, "redirect_uri")?;
    let verifier = required(form, "code_verifier")?;
    let now = app.clock.now();
    let record = match app.storage.redeem_code(&sha256_hex(code), now).await? {
        Redeemed::First(record) => record,
        Redeemed::Again { grant_id } => {
            let revoked = app.storage.revoke_grant(&grant_id).await?;
            tracing::warn!(client_id = %registered.client_id, grant = %grant_id, revoked, "authorization code used twice; its grant is revoked");
            return Err(ApiError::InvalidGrant("the code was already used".into()));
        }
        Redeemed::Unknown => return Err(ApiError::InvalidGrant("the code is unknown".into())),
    };
    let refused = |why: &'static str| {
        tracing::info!(client_id = %registered.client_id, why, "code exchange refused");
        Err(ApiError::InvalidGrant(why.into()))
    };
    if record.client_id != registered.client_id {
        return refused("the code was issued to another client");
    }
    if record.expires_at <= now {
        return refused("the code has expired");
    }
    if record.redirect_uri != redirect_uri {
        return refused("redirect_uri is not the one the code was issued for");
    }
    if !verifier_matches(verifier, &record.code_challenge) {
        return refused("code_verifier does not match the code_challenge");
    }
    if enabled_user(app, &record.username).await?.is_none() {
        return refused("the user is disabled or gone");
    }
    let with_refresh =
        record.scope.contains("offline_access") || registered.allows_grant(GrantType::RefreshToken);
    let access_ends = now + Duration::seconds(i64::from(registered.access_token_lifetime));
    let (refresh_token, refresh) = if with_refresh {
        let token = opaque_token()?;
        let record = RefreshRecord {
            token_hash: sha256_hex(&token),
            grant_id: record.grant_id.clone(),
            created_at: now,
            expires_at: now + app.refresh_lifetime,
            used_at: None,
        };
        (Some(token), Some(record))
    } else {
        (None, None)
    };
    let grant = GrantRecord {
        grant_id: record.grant_id.clone(),
        client_id: registered.client_id.clone(),
        username: record.username.clone(),
        scope: record.scope.clone(),
        auth_time: record.auth_time,
        created_at: now,
        expires_at: refresh
            .as_ref()
            .map_or(access_ends, |r| r.expires_at.max(access_ends)),
        revoked: false,
    };
    app.storage.insert_grant(&grant, refresh.as_ref()).await?;
    token_set::respond(
        app,
        UserGrant {
            client: registered,
            method: client.method().as_str(),
            username: &record.username,
            scope: record.scope.clone(),
            grant_id: &record.grant_id,
            auth_time: record.auth_time,
            nonce: record.nonce.as_deref(),
            refresh_token,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::verifier_matches;

    #[test]
    fn rfc7636_appendix_b_verifier_matches_its_challenge() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!verifier_matches("short", challenge));
    }
}
