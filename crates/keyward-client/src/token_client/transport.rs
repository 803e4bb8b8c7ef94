//! Sending a token, introspection or revocation request: the client authentication added per
//! attempt, network errors and 5xx retried with bounded exponential backoff, a 4xx never (asking
//! again with the same credentials gets the same refusal), and the server's `error` kept for the
//! caller.

use std::time::Duration as StdDuration;

use serde::Deserialize;

use super::Inner;
use crate::{auth::AuthRequest, ClientError};

/// The longest wait between two attempts.
const MAX_BACKOFF: StdDuration = StdDuration::from_secs(5);

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    error_description: Option<String>,
}

impl Inner {
    /// POSTs `params` (a grant's own parameters, or the `token` to introspect or revoke) to
    /// `url` with the client's authentication, signed afresh for every attempt. An assertion's
    /// audience is the issuer whatever the endpoint.
    pub(super) async fn post_form(&self, url: &str, params: &[(&str, &str)]) -> Result<Vec<u8>, ClientError> {
        self.with_retries(url, || {
            let mut auth = AuthRequest::new(&self.client_id, &self.issuer, url, self.clock.now());
            for (name, value) in params {
                auth.param(name, *value);
            }
            self.auth.authenticate(&mut auth)?;
            tracing::debug!(url, method = self.auth.method(), sent = %auth.describe(), "back-channel request");
            let (form, headers) = auth.into_parts();
            let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            Ok(self.http.post(url).headers(headers).form(&form))
        })
        .await
    }

    /// Sends `make()` until it succeeds, a 4xx comes back, or the retries are spent.
    pub(super) async fn with_retries(
        &self,
        url: &str,
        make: impl Fn() -> Result<reqwest::RequestBuilder, ClientError>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            let outcome = send(url, make()?).await;
            let retry = match &outcome {
                Err(ClientError::Http { .. }) => true,
                Err(ClientError::Server { status, .. }) => *status >= 500,
                _ => false,
            };
            if !retry || attempt >= self.retries {
                return outcome;
            }
            attempt += 1;
            tracing::debug!(url, attempt, "retrying after a network error or 5xx");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_BACKOFF);
        }
    }
}

async fn send(url: &str, request: reqwest::RequestBuilder) -> Result<Vec<u8>, ClientError> {
    let http = |source| ClientError::Http {
        url: url.to_owned(),
        source,
    };
    let response = request.send().await.map_err(http)?;
    let status = response.status();
    let body = response.bytes().await.map_err(http)?;
    if status.is_success() {
        return Ok(body.to_vec());
    }
    let (error, description) = match serde_json::from_slice::<ErrorResponse>(&body) {
        Ok(e) => (e.error, e.error_description),
        Err(_) => (status.canonical_reason().unwrap_or("error").to_owned(), None),
    };
    Err(ClientError::Server {
        status: status.as_u16(),
        error,
        description,
    })
}
