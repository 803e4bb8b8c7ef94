//! Access tokens: JWTs per RFC 9068, signed with the active server key; and their verification,
//! for the admin API, which accepts tokens this server issued to itself.

use aws_lc_rs::error::Unspecified;
use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use std::sync::Arc;

use keyward_jose::{CompactJws, JoseError};
use keyward_types::{Client, Clock, Scope};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::Duration;

use crate::{error::ApiError, signing::SigningKeys};

/// Issues and verifies this server's access tokens: what the token endpoint and the admin
/// API's bearer check share.
#[derive(Clone)]
pub(crate) struct AccessTokens {
    issuer: String,
    clock: Arc<dyn Clock>,
    keys: Arc<SigningKeys>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) client_id: String,
    pub(crate) aud: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) scope: String,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) jti: String,
}

/// Why an access token could not be made: the server's fault, answered with 500.
#[derive(Debug, Error)]
pub(crate) enum IssueError {
    #[error("cannot sign the access token: {0}")]
    Sign(#[source] JoseError),
    #[error("the signing task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    #[error("the random generator failed")]
    Random(#[source] Unspecified),
}

/// The successful token response (RFC 6749 §5.1), its members in the order keyward writes them.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
    /// Absent when the token carries no scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    token_type: &'static str,
}

impl AccessTokens {
    pub(crate) fn new(issuer: String, clock: Arc<dyn Clock>, keys: Arc<SigningKeys>) -> Self {
        Self { issuer, clock, keys }
    }

    /// This server's issuer: the tokens' `iss`, and their default audience.
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs a token for `client` and answers with it (RFC 6749 §5.1).
    pub(crate) async fn issue(
        &self,
        client: &Client,
        aud: String,
        scope: Scope,
    ) -> Result<Response, ApiError> {
        issue(self, client, aud, scope).await
    }

    /// Checks a bearer token this server issued: a published key by `kid`, that key's
    /// algorithm, `typ: at+jwt`, our issuer, our issuer as audience, not expired.
    pub(crate) fn verify(&self, token: &str) -> Result<AccessClaims, ApiError> {
        verify(self, token)
    }
}

async fn issue(app: &AccessTokens, client: &Client, aud: String, scope: Scope) -> Result<Response, ApiError> {
    let now = app.clock.now();
    let lifetime = i64::from(client.access_token_lifetime);
    let claims = AccessClaims {
        iss: app.issuer.clone(),
        sub: client.client_id.to_string(),
        client_id: client.client_id.to_string(),
        aud,
        scope: scope.to_string(),
        iat: now.unix_timestamp(),
        exp: (now + Duration::seconds(lifetime)).unix_timestamp(),
        jti: token_id()?,
    };
    let key = app.keys.current().active.clone();
    let token = if key.is_slow() {
        tokio::task::spawn_blocking(move || key.sign_jwt("at+jwt", &claims))
            .await
            .map_err(IssueError::Task)?
    } else {
        key.sign_jwt("at+jwt", &claims)
    }
    .map_err(IssueError::Sign)?;
    let body = TokenResponse {
        access_token: token,
        expires_in: lifetime,
        scope: (!scope.is_empty()).then(|| scope.to_string()),
        token_type: "Bearer",
    };
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// A random (v4) UUID for an access token's `jti`.
fn token_id() -> Result<String, IssueError> {
    Ok(keyward_types::random::uuid()
        .map_err(IssueError::Random)?
        .simple()
        .to_string())
}

fn verify(app: &AccessTokens, token: &str) -> Result<AccessClaims, ApiError> {
    let invalid = ApiError::InvalidToken;
    let jws = CompactJws::parse(token).map_err(|_| invalid("malformed token"))?;
    if jws.header.typ.as_deref() != Some("at+jwt") {
        return Err(invalid("not an access token"));
    }
    let keys = app.keys.current();
    let kid = jws.header.kid.as_deref().ok_or(invalid("unknown key"))?;
    let key = keys.find(kid).ok_or(invalid("unknown key"))?;
    if jws.header.alg != key.alg().as_str() {
        return Err(invalid("algorithm mismatch"));
    }
    key.verifier()
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .map_err(|_| invalid("bad signature"))?;
    let claims: AccessClaims = jws.claims().map_err(|_| invalid("malformed claims"))?;
    if claims.iss != app.issuer || claims.aud != app.issuer {
        return Err(invalid("token is not for this server"));
    }
    if claims.exp <= app.clock.now().unix_timestamp() {
        return Err(invalid("token expired"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::token_id;

    #[test]
    fn token_ids_are_random_v4_uuids() {
        let a = token_id().unwrap();
        let b = token_id().unwrap();
        assert_ne!(a, b);
        for id in [&a, &b] {
            let parsed = uuid::Uuid::parse_str(id).expect("a UUID in simple form");
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }
}
