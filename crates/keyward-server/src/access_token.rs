//! Access tokens: JWTs per RFC 9068, signed with the active server key; and their verification,
//! for the admin API, which accepts tokens this server issued to itself.

use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use std::sync::Arc;

use keyward_jose::CompactJws;
use keyward_types::{Client, Clock, Scope};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::{
    error::{ApiError, IssueError},
    signing::SigningKeys,
};

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
    /// When the user signed in (OIDC Core §2); user tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth_time: Option<i64>,
    /// The grant (one code exchange's family) a user token belongs to: revoking the grant makes
    /// the token introspect inactive. Absent on `client_credentials` tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) gid: Option<String>,
}

/// The successful token response (RFC 6749 §5.1), its members in the order keyward writes them.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6InNrLTEiLCJ0eXAiOiJhdCtqd3QifQ.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20ifQ.c2lnbmF0dXJl",
    "expires_in": 300, "scope": "read", "token_type": "Bearer"})))]
pub(crate) struct TokenResponse {
    /// A JWT (RFC 9068, `typ: at+jwt`) signed with a key published at `/jwks`.
    access_token: String,
    /// Seconds.
    expires_in: i64,
    /// Absent when the token carries no scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    scope: Option<String>,
    #[schema(value_type = String, pattern = "^Bearer$")]
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

    /// Signs a token for `client`, who authenticated with `method`, and answers with it
    /// (RFC 6749 §5.1). Each issued token is logged by its `jti`, never by its value.
    pub(crate) async fn issue(
        &self,
        client: &Client,
        method: &str,
        aud: String,
        scope: Scope,
    ) -> Result<Response, ApiError> {
        issue(self, client, method, aud, scope).await
    }

    /// Checks a bearer token this server issued: a published key by `kid`, that key's
    /// algorithm, `typ: at+jwt`, our issuer, our issuer as audience, not expired.
    pub(crate) fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejected> {
        verify(self, token, true)
    }

    /// As [`Self::verify`], for any audience: introspection and userinfo answer about tokens
    /// issued for resource servers too.
    pub(crate) fn verify_any_audience(&self, token: &str) -> Result<AccessClaims, TokenRejected> {
        verify(self, token, false)
    }

    /// Claims of a new token for `client`, on behalf of `sub`, valid from now for the client's
    /// access-token lifetime.
    pub(crate) fn claims(
        &self,
        client: &Client,
        sub: String,
        aud: String,
        scope: &Scope,
    ) -> Result<AccessClaims, IssueError> {
        let now = self.clock.now();
        let lifetime = i64::from(client.access_token_lifetime);
        Ok(AccessClaims {
            iss: self.issuer.clone(),
            sub,
            client_id: client.client_id.to_string(),
            aud,
            scope: scope.to_string(),
            iat: now.unix_timestamp(),
            exp: (now + Duration::seconds(lifetime)).unix_timestamp(),
            jti: token_id()?,
            auth_time: None,
            gid: None,
        })
    }

    /// Signs `claims` as a JWT of type `typ` with the active key, off the async workers when
    /// the key is slow (RSA). Returns the token and the algorithm it was signed with.
    pub(crate) async fn sign<C: Serialize + Send + 'static>(
        &self,
        typ: &'static str,
        claims: C,
    ) -> Result<(String, keyward_types::SigningAlg), IssueError> {
        let key = self.keys.current().active.clone();
        let alg = key.alg();
        let token = if key.is_slow() {
            tokio::task::spawn_blocking(move || key.sign_jwt(typ, &claims))
                .await
                .map_err(IssueError::Task)?
        } else {
            key.sign_jwt(typ, &claims)
        }
        .map_err(IssueError::Sign)?;
        Ok((token, alg))
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` on a token response (RFC 6749 §5.1).
pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

async fn issue(
    app: &AccessTokens,
    client: &Client,
    method: &str,
    aud: String,
    scope: Scope,
) -> Result<Response, ApiError> {
    let claims = app.claims(client, client.client_id.to_string(), aud, &scope)?;
    let lifetime = claims.exp - claims.iat;
    let (jti, audience) = (claims.jti.clone(), claims.aud.clone());
    let (token, _) = app.sign("at+jwt", claims).await?;
    tracing::info!(
        client_id = %client.client_id,
        method,
        scope = %scope,
        lifetime,
        jti = %jti,
        aud = %audience,
        "access token issued"
    );
    let body = TokenResponse {
        access_token: token,
        expires_in: lifetime,
        scope: (!scope.is_empty()).then(|| scope.to_string()),
        token_type: "Bearer",
    };
    Ok(no_store(Json(body).into_response()))
}

/// A random (v4) UUID for an access token's `jti`.
pub(crate) fn token_id() -> Result<String, IssueError> {
    Ok(keyward_types::random::uuid()
        .map_err(IssueError::Random)?
        .simple()
        .to_string())
}

/// Why a bearer token was refused: a stable reason code for the log, the audit record and
/// `keyward_admin_auth_failures_total`, and the description the `401` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRejected {
    Malformed,
    NotAccessToken,
    UnknownKey,
    AlgMismatch,
    BadSignature,
    MalformedClaims,
    NotForThisServer,
    Expired,
}

impl TokenRejected {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            TokenRejected::Malformed => "malformed",
            TokenRejected::NotAccessToken => "not_access_token",
            TokenRejected::UnknownKey => "unknown_key",
            TokenRejected::AlgMismatch => "alg_mismatch",
            TokenRejected::BadSignature => "bad_signature",
            TokenRejected::MalformedClaims => "malformed_claims",
            TokenRejected::NotForThisServer => "wrong_issuer_or_audience",
            TokenRejected::Expired => "expired",
        }
    }

    pub(crate) fn description(self) -> &'static str {
        match self {
            TokenRejected::Malformed => "malformed token",
            TokenRejected::NotAccessToken => "not an access token",
            TokenRejected::UnknownKey => "unknown key",
            TokenRejected::AlgMismatch => "algorithm mismatch",
            TokenRejected::BadSignature => "bad signature",
            TokenRejected::MalformedClaims => "malformed claims",
            TokenRejected::NotForThisServer => "token is not for this server",
            TokenRejected::Expired => "token expired",
        }
    }
}

fn verify(app: &AccessTokens, token: &str, ours_only: bool) -> Result<AccessClaims, TokenRejected> {
    let claims: AccessClaims = app.signed_by_us(token, Some("at+jwt"))?;
    if claims.iss != app.issuer || (ours_only && claims.aud != app.issuer) {
        return Err(TokenRejected::NotForThisServer);
    }
    if claims.exp <= app.clock.now().unix_timestamp() {
        return Err(TokenRejected::Expired);
    }
    Ok(claims)
}

impl AccessTokens {
    /// The claims of a JWT one of our published keys signed (with that key's algorithm), of
    /// type `typ` when given. Issuer, audience and expiry are the caller's to check.
    pub(crate) fn signed_by_us<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: Option<&str>,
    ) -> Result<C, TokenRejected> {
        let jws = CompactJws::parse(token).map_err(|_| TokenRejected::Malformed)?;
        if typ.is_some() && jws.header.typ.as_deref() != typ {
            return Err(TokenRejected::NotAccessToken);
        }
        let keys = self.keys.current();
        let kid = jws.header.kid.as_deref().ok_or(TokenRejected::UnknownKey)?;
        let key = keys.find(kid).ok_or(TokenRejected::UnknownKey)?;
        if jws.header.alg != key.alg().as_str() {
            return Err(TokenRejected::AlgMismatch);
        }
        key.verifier()
            .verify(jws.signing_input.as_bytes(), &jws.signature)
            .map_err(|_| TokenRejected::BadSignature)?;
        jws.claims().map_err(|_| TokenRejected::MalformedClaims)
    }
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
