//! The issuer's metadata (OIDC Discovery §4, RFC 8414): fetched on first need and kept for the
//! client's life, so the token, introspection and revocation endpoints cost one request between
//! them. A failed fetch is not kept: the next call asks again.

use serde::Deserialize;

use super::Inner;
use crate::ClientError;

/// The members of the metadata this client reads; the others are ignored.
#[derive(Deserialize)]
pub(super) struct Metadata {
    pub(super) token_endpoint: Option<String>,
    pub(super) introspection_endpoint: Option<String>,
    pub(super) revocation_endpoint: Option<String>,
}

impl Inner {
    pub(super) async fn metadata(&self) -> Result<&Metadata, ClientError> {
        self.metadata
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let body = self.with_retries(&url, || Ok(self.http.get(&url))).await?;
                serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
                    url: url.clone(),
                    message: e.to_string(),
                })
            })
            .await
    }
}
