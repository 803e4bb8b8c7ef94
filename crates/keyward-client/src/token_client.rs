//! `client_credentials` tokens (RFC 6749 §4.4) with the configured client authentication.
//!
//! Tokens are cached per (scope, audience) until shortly before they expire. Each cache entry
//! has its own async mutex, so when N callers want the same token at once one of them asks the
//! server and the others wait for its answer: one request, not N (a stampede at expiry would
//! otherwise multiply the server's load by the number of callers). Network errors and 5xx are
//! retried with bounded exponential backoff; a 4xx never is, since asking again with the same
//! credentials gets the same refusal.

use std::{collections::HashMap, fmt, sync::Arc, time::Duration as StdDuration};

use keyward_types::{Clock, SystemClock};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use tokio::sync::{Mutex as AsyncMutex, OnceCell};
use zeroize::Zeroizing;

use crate::{assertion, config::Credential, ClientConfig, ClientError};

/// What a token is asked for: the cache key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TokenRequest {
    pub scope: Option<String>,
    /// Sent as RFC 8707 `resource`, the audience parameter keyward reads.
    pub audience: Option<String>,
}

/// An access token. `Debug` does not print it: it is a bearer credential.
pub struct AccessToken {
    token: Zeroizing<String>,
    pub token_type: String,
    pub expires_at: OffsetDateTime,
    pub scope: Option<String>,
    received_at: OffsetDateTime,
}

impl AccessToken {
    pub fn secret(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

type Slot = Arc<AsyncMutex<Option<Arc<AccessToken>>>>;

/// Gets and caches tokens for one client. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    endpoint: OnceCell<String>,
    slots: std::sync::Mutex<HashMap<TokenRequest, Slot>>,
    retries: u32,
    backoff: StdDuration,
}

/// Options for a [`TokenClient`]; defaults: system clock, 3 retries from 200 ms backoff.
pub struct TokenClientBuilder {
    config: ClientConfig,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    retries: u32,
    backoff: StdDuration,
}

impl TokenClientBuilder {
    /// The HTTP client to send with (its TLS roots, proxy, timeouts).
    pub fn http(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Where `iat`/`exp` and token expiry are read from.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Retries after a network error or 5xx (0: none), the first after `backoff`, each next
    /// one after twice the previous wait, at most 5 s.
    pub fn retries(mut self, retries: u32, backoff: StdDuration) -> Self {
        self.retries = retries;
        self.backoff = backoff;
        self
    }

    pub fn build(self) -> Result<TokenClient, ClientError> {
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(StdDuration::from_secs(5))
                .timeout(StdDuration::from_secs(30))
                .build()
                .map_err(|source| ClientError::Http {
                    url: String::new(),
                    source,
                })?,
        };
        let endpoint = OnceCell::new_with(self.config.token_endpoint.clone());
        Ok(TokenClient {
            inner: Arc::new(Inner {
                config: self.config,
                http,
                clock: self.clock,
                endpoint,
                slots: std::sync::Mutex::default(),
                retries: self.retries,
                backoff: self.backoff,
            }),
        })
    }
}

/// The longest wait between two attempts.
const MAX_BACKOFF: StdDuration = StdDuration::from_secs(5);

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: String,
    expires_in: Option<i64>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    token_endpoint: Option<String>,
}

impl TokenClient {
    pub fn builder(config: ClientConfig) -> TokenClientBuilder {
        TokenClientBuilder {
            config,
            http: None,
            clock: Arc::new(SystemClock),
            retries: 3,
            backoff: StdDuration::from_millis(200),
        }
    }

    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        Self::builder(config).build()
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The client's public keys as a JWK Set (empty for the secret methods), for a server that
    /// reads the client's keys from a `jwks_uri`.
    pub fn jwks(&self) -> keyward_types::Jwks {
        let keys = match &self.inner.config.credential {
            Credential::PrivateKeyJwt { key, kid } => {
                let mut jwk = key.public_jwk().clone();
                jwk.kid = Some(kid.clone());
                vec![jwk]
            }
            _ => Vec::new(),
        };
        keyward_types::Jwks { keys }
    }

    /// A signed client assertion for this client now (`None` for the secret methods).
    pub fn assertion(&self) -> Result<Option<String>, ClientError> {
        assertion::client_assertion(&self.inner.config, self.inner.clock.now())
    }

    /// A token for `request`: the cached one while it is fresh, else a new one.
    pub async fn token(&self, request: &TokenRequest) -> Result<Arc<AccessToken>, ClientError> {
        let slot = {
            let mut slots = self.inner.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(request.clone()).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            if self.inner.clock.now() < refresh_at(token) {
                return Ok(token.clone());
            }
        }
        let token = Arc::new(self.fetch(request).await?);
        *cached = Some(token.clone());
        Ok(token)
    }

    /// The token endpoint: configured, or from the issuer's metadata (OIDC Discovery §4).
    pub async fn token_endpoint(&self) -> Result<&str, ClientError> {
        self.inner
            .endpoint
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.inner.config.issuer.trim_end_matches('/')
                );
                let body = self.with_retries(&url, || Ok(self.inner.http.get(&url))).await?;
                let meta: Metadata = serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
                    url: url.clone(),
                    message: e.to_string(),
                })?;
                meta.token_endpoint.ok_or(ClientError::NoTokenEndpoint)
            })
            .await
            .map(String::as_str)
    }

    async fn fetch(&self, request: &TokenRequest) -> Result<AccessToken, ClientError> {
        let url = self.token_endpoint().await?.to_owned();
        let config = &self.inner.config;
        let body = self
            .with_retries(&url, || {
                let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into())];
                if let Some(scope) = &request.scope {
                    form.push(("scope", scope.clone()));
                }
                if let Some(audience) = &request.audience {
                    form.push(("resource", audience.clone()));
                }
                let mut req = self.inner.http.post(&url);
                match &config.credential {
                    Credential::ClientSecretBasic(secret) => {
                        // RFC 6749 §2.3.1: each half form-urlencoded before Basic encoding.
                        req = req
                            .basic_auth(form_encode(&config.client_id), Some(form_encode(secret.expose())));
                    }
                    Credential::ClientSecretPost(secret) => {
                        form.push(("client_id", config.client_id.clone()));
                        form.push(("client_secret", secret.expose().to_owned()));
                    }
                    Credential::ClientSecretJwt { .. } | Credential::PrivateKeyJwt { .. } => {
                        // A fresh assertion per attempt: the server keeps each jti, so a retry
                        // that reused one would be refused as a replay.
                        let signed =
                            assertion::client_assertion(config, self.inner.clock.now())?.unwrap_or_default();
                        form.push(("client_id", config.client_id.clone()));
                        form.push(("client_assertion_type", assertion::ASSERTION_TYPE.into()));
                        form.push(("client_assertion", signed));
                    }
                }
                Ok(req.form(&form))
            })
            .await?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
            url: url.clone(),
            message: e.to_string(),
        })?;
        let lifetime = Duration::seconds(parsed.expires_in.unwrap_or(0).max(0));
        let now = self.inner.clock.now();
        Ok(AccessToken {
            token: Zeroizing::new(parsed.access_token),
            token_type: parsed.token_type,
            expires_at: now + lifetime,
            scope: parsed.scope,
            received_at: now,
        })
    }

    /// Sends `make()` until it succeeds, a 4xx comes back, or the retries are spent.
    async fn with_retries(
        &self,
        url: &str,
        make: impl Fn() -> Result<reqwest::RequestBuilder, ClientError>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut wait = self.inner.backoff;
        let mut attempt = 0;
        loop {
            let outcome = match make() {
                Ok(request) => send(url, request).await,
                Err(e) => return Err(e),
            };
            let retry = match &outcome {
                Err(ClientError::Http { .. }) => true,
                Err(ClientError::Server { status, .. }) => *status >= 500,
                _ => false,
            };
            if !retry || attempt >= self.inner.retries {
                return outcome;
            }
            attempt += 1;
            tracing::debug!(url, attempt, "token client retrying after a network error or 5xx");
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

/// When a cached token stops being handed out: a tenth of its lifetime before it expires, at
/// most 30 s, so a caller never receives a token that dies in flight.
fn refresh_at(token: &AccessToken) -> OffsetDateTime {
    let lifetime = token.expires_at - token.received_at;
    token.expires_at - (lifetime / 10).min(Duration::seconds(30))
}

fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
