//! The back-channel calls besides the token request: introspection (RFC 7662) and revocation
//! (RFC 7009), at the endpoints the issuer's metadata names, authenticated exactly as the token
//! request is (the same signed assertion, with the issuer as its audience, or the same Basic or
//! form credentials), and refused with the same typed error.

use serde::{Deserialize, Serialize};

use super::TokenClient;
use crate::ClientError;

/// What introspection says about a token (RFC 7662 §2.2). Members the server sends besides
/// these are ignored. It holds no token, so `Debug` prints none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is good now; when `false`, the server says nothing more.
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

impl TokenClient {
    /// The introspection endpoint named by the issuer's metadata.
    pub async fn introspection_endpoint(&self) -> Result<&str, ClientError> {
        let meta = self.inner.metadata().await?;
        meta.introspection_endpoint
            .as_deref()
            .ok_or(ClientError::NoEndpoint("introspection_endpoint"))
    }

    /// The revocation endpoint named by the issuer's metadata.
    pub async fn revocation_endpoint(&self) -> Result<&str, ClientError> {
        let meta = self.inner.metadata().await?;
        meta.revocation_endpoint
            .as_deref()
            .ok_or(ClientError::NoEndpoint("revocation_endpoint"))
    }

    /// Asks the server whether `token` (an access or refresh token) is active (RFC 7662).
    pub async fn introspect(&self, token: &str) -> Result<Introspection, ClientError> {
        let url = self.introspection_endpoint().await?;
        let body = self.inner.post_form(url, &[("token", token)]).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
            url: url.to_owned(),
            message: e.to_string(),
        })
    }

    /// Revokes `token` (RFC 7009). The server answers success for a token it does not know or
    /// that is invalid already (§2.2), so `Ok` means only that the token is no longer good.
    pub async fn revoke(&self, token: &str) -> Result<(), ClientError> {
        let url = self.revocation_endpoint().await?;
        self.inner.post_form(url, &[("token", token)]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
