//! The tokens a user grant answers with (RFC 6749 §5.1, OIDC Core §3.1.3.3): an RFC 9068 access
//! token for the user, an ID token when `openid` is in scope, and the new refresh token if one
//! was made.

use aws_lc_rs::digest::{digest, SHA256, SHA384, SHA512};
use axum::{
    response::{IntoResponse, Response},
    Json,
};
use keyward_types::{Client, Scope, SigningAlg};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    access_token::no_store,
    backchannel::TokenEndpoint,
    error::{ApiError, IssueError},
    metrics,
};

/// What one answer of the code exchange or a refresh is made from.
pub(crate) struct UserGrant<'a> {
    pub(crate) client: &'a Client,
    /// The client authentication method, for the log and the metrics.
    pub(crate) method: &'a str,
    pub(crate) username: &'a str,
    /// The access token's scope (a refresh may narrow its grant's).
    pub(crate) scope: Scope,
    pub(crate) grant_id: &'a str,
    pub(crate) auth_time: OffsetDateTime,
    pub(crate) nonce: Option<&'a str>,
    pub(crate) refresh_token: Option<String>,
}

/// OIDC Core §2.
#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    at_hash: String,
}

#[derive(Serialize)]
struct UserTokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

/// OIDC Core §3.1.3.6: the left half of the access token's hash, by the hash of the ID token's
/// algorithm (SHA-512 for EdDSA, as for Ed25519 signatures).
fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    let hash = match alg {
        SigningAlg::RS384 | SigningAlg::PS384 | SigningAlg::ES384 | SigningAlg::HS384 => &SHA384,
        SigningAlg::RS512 | SigningAlg::PS512 | SigningAlg::EdDSA | SigningAlg::HS512 => &SHA512,
        _ => &SHA256,
    };
    let d = digest(hash, access_token.as_bytes());
    let bytes = d.as_ref();
    keyward_jose::b64_encode(bytes.get(..bytes.len() / 2).unwrap_or(bytes))
}

/// Signs the tokens of `grant` and answers with them.
pub(crate) async fn respond(app: &TokenEndpoint, grant: UserGrant<'_>) -> Result<Response, ApiError> {
    let registered = grant.client;
    let audience = registered
        .default_audience
        .clone()
        .unwrap_or_else(|| app.tokens.issuer().to_owned());
    let mut claims = app
        .tokens
        .claims(registered, grant.username.to_owned(), audience, &grant.scope)?;
    claims.auth_time = Some(grant.auth_time.unix_timestamp());
    claims.gid = Some(grant.grant_id.to_owned());
    let (iat, exp, jti) = (claims.iat, claims.exp, claims.jti.clone());
    let (access_token, alg) = app.tokens.sign("at+jwt", claims).await?;
    let id_token = if grant.scope.contains("openid") {
        let id = IdClaims {
            iss: app.tokens.issuer(),
            sub: grant.username,
            aud: registered.client_id.as_str(),
            azp: registered.client_id.as_str(),
            exp,
            iat,
            auth_time: grant.auth_time.unix_timestamp(),
            nonce: grant.nonce.map(str::to_owned),
            at_hash: at_hash(alg, &access_token),
        };
        let id = serde_json::to_value(&id).map_err(|e| ApiError::Internal(e.to_string()))?;
        Some(app.tokens.sign("JWT", id).await?.0)
    } else {
        None
    };
    tracing::info!(
        client_id = %registered.client_id,
        method = grant.method,
        username = grant.username,
        scope = %grant.scope,
        jti = %jti,
        grant = grant.grant_id,
        refresh = grant.refresh_token.is_some(),
        "user token issued"
    );
    metrics::token_issued(grant.method);
    let body = UserTokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: exp - iat,
        scope: (!grant.scope.is_empty()).then(|| grant.scope.to_string()),
        refresh_token: grant.refresh_token,
        id_token,
    };
    Ok(no_store(Json(body).into_response()))
}

/// A new opaque token (a refresh token): 256 random bits, base64url.
pub(crate) fn opaque_token() -> Result<String, IssueError> {
    let mut bytes = [0u8; 32];
    keyward_types::random::fill(&mut bytes).map_err(IssueError::Random)?;
    Ok(keyward_jose::b64_encode(bytes))
}
