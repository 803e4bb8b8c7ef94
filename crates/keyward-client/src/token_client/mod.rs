//! Tokens for one client: `client_credentials` (RFC 6749 §4.4), cached per (scope, audience)
//! until shortly before they expire, and the authorization code exchange and refresh (§4.1.3,
//! §6) with the same client authentication, never cached (each answer is the caller's own);
//! introspection and revocation with that authentication too (`backchannel`).
//!
//! Each cache entry has its own async mutex, so when N callers want the same token at once one
//! of them asks the server and the others wait for its answer: one request, not N (a stampede
//! at expiry would otherwise multiply the server's load by the number of callers).

mod backchannel;
mod discovery;
mod transport;

use std::{collections::HashMap, fmt, sync::Arc, time::Duration as StdDuration};

use keyward_types::{Clock, Jwks, SystemClock};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use tokio::sync::{Mutex as AsyncMutex, OnceCell};
use zeroize::Zeroizing;

use crate::{auth::AuthRequest, ClientAuth, ClientConfig, ClientError};

pub use backchannel::Introspection;

/// What a `client_credentials` token is asked for: the cache key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TokenRequest {
    pub scope: Option<String>,
    /// Sent as RFC 8707 `resource`, the audience parameter keyward reads.
    pub audience: Option<String>,
}

/// A token response. `Debug` prints none of the tokens: they are bearer credentials.
pub struct AccessToken {
    token: Zeroizing<String>,
    refresh_token: Option<Zeroizing<String>>,
    /// The ID token of an authorization code exchange (OIDC Core §3.1.3.3).
    pub id_token: Option<String>,
    pub token_type: String,
    pub expires_at: OffsetDateTime,
    pub scope: Option<String>,
    received_at: OffsetDateTime,
}

impl AccessToken {
    pub fn secret(&self) -> &str {
        &self.token
    }

    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref().map(String::as_str)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
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
    client_id: String,
    issuer: String,
    auth: Arc<dyn ClientAuth>,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    /// The token endpoint: configured, or the metadata's.
    endpoint: OnceCell<String>,
    metadata: OnceCell<discovery::Metadata>,
    slots: std::sync::Mutex<HashMap<TokenRequest, Slot>>,
    retries: u32,
    backoff: StdDuration,
}

/// Options for a [`TokenClient`]; defaults: the config's own authentication, system clock,
/// 3 retries from 200 ms backoff.
pub struct TokenClientBuilder {
    config: ClientConfig,
    auth: Option<Arc<dyn ClientAuth>>,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    retries: u32,
    backoff: StdDuration,
}

impl TokenClientBuilder {
    /// Authenticates with `auth` instead of the config's credential: a custom method.
    pub fn auth(mut self, auth: Arc<dyn ClientAuth>) -> Self {
        self.auth = Some(auth);
        self
    }

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
        // reqwest's rustls needs a process-wide crypto provider; one the application installed
        // first stays.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
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
        let config = self.config;
        let auth = match self.auth {
            Some(auth) => auth,
            None => config.credential.into_auth(config.token_expiration),
        };
        Ok(TokenClient {
            inner: Arc::new(Inner {
                client_id: config.client_id,
                issuer: config.issuer,
                auth,
                http,
                clock: self.clock,
                endpoint: OnceCell::new_with(config.token_endpoint),
                metadata: OnceCell::new(),
                slots: std::sync::Mutex::default(),
                retries: self.retries,
                backoff: self.backoff,
            }),
        })
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: String,
    expires_in: Option<i64>,
    scope: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
}

impl TokenClient {
    pub fn builder(config: ClientConfig) -> TokenClientBuilder {
        TokenClientBuilder {
            config,
            auth: None,
            http: None,
            clock: Arc::new(SystemClock),
            retries: 3,
            backoff: StdDuration::from_millis(200),
        }
    }

    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        Self::builder(config).build()
    }

    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The client's authentication method.
    pub fn auth(&self) -> &Arc<dyn ClientAuth> {
        &self.inner.auth
    }

    /// The client's public keys as a JWK Set (empty for the secret methods): what a server
    /// that reads the client's keys from a `jwks_uri` fetches. During a rotation it holds the
    /// current and the next key.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.inner.auth.public_keys(),
        }
    }

    /// Starts signing with the next key; `false` when there is none.
    pub fn rotate(&self) -> bool {
        self.inner.auth.rotate()
    }

    /// The signed client assertion this client would send now (`None` for methods that send
    /// none, as the secret methods).
    pub fn assertion(&self) -> Result<Option<String>, ClientError> {
        let (form, _) = self.authenticated_now()?.into_parts();
        Ok(form
            .into_iter()
            .find(|(name, _)| name == "client_assertion")
            .map(|(_, value)| value.to_string()))
    }

    /// What the client authentication adds to a request: names of parameters and headers,
    /// never their values (for `--verbose`).
    pub fn describe_auth(&self) -> Result<String, ClientError> {
        Ok(self.authenticated_now()?.describe())
    }

    /// What the client authentication adds to a request made now (to the token endpoint when
    /// it is known already), without sending it.
    fn authenticated_now(&self) -> Result<AuthRequest<'_>, ClientError> {
        let inner = &self.inner;
        let endpoint = inner.endpoint.get().map_or("", String::as_str);
        let mut request = AuthRequest::new(&inner.client_id, &inner.issuer, endpoint, inner.clock.now());
        inner.auth.authenticate(&mut request)?;
        Ok(request)
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
        let mut grant = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &request.scope {
            grant.push(("scope", scope.as_str()));
        }
        if let Some(audience) = &request.audience {
            grant.push(("resource", audience.as_str()));
        }
        let token = Arc::new(self.grant(&grant).await?);
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3; `code_verifier` per RFC 7636).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<AccessToken, ClientError> {
        let mut grant = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = code_verifier {
            grant.push(("code_verifier", verifier));
        }
        self.grant(&grant).await
    }

    /// Uses a refresh token (RFC 6749 §6), optionally narrowing the scope.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<AccessToken, ClientError> {
        let mut grant = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        if let Some(scope) = scope {
            grant.push(("scope", scope));
        }
        self.grant(&grant).await
    }

    /// The token endpoint: configured, or from the issuer's metadata (OIDC Discovery §4).
    pub async fn token_endpoint(&self) -> Result<&str, ClientError> {
        let inner = &self.inner;
        inner
            .endpoint
            .get_or_try_init(|| async {
                let meta = inner.metadata().await?;
                meta.token_endpoint.clone().ok_or(ClientError::NoTokenEndpoint)
            })
            .await
            .map(String::as_str)
    }

    async fn grant(&self, grant: &[(&str, &str)]) -> Result<AccessToken, ClientError> {
        let url = self.token_endpoint().await?.to_owned();
        let body = self.inner.post_form(&url, grant).await?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
            url: url.clone(),
            message: e.to_string(),
        })?;
        let lifetime = Duration::seconds(parsed.expires_in.unwrap_or(0).max(0));
        let now = self.inner.clock.now();
        Ok(AccessToken {
            token: Zeroizing::new(parsed.access_token),
            refresh_token: parsed.refresh_token.map(Zeroizing::new),
            id_token: parsed.id_token,
            token_type: parsed.token_type,
            expires_at: now + lifetime,
            scope: parsed.scope,
            received_at: now,
        })
    }
}

/// When a cached token stops being handed out: a tenth of its lifetime before it expires, at
/// most 30 s, so a caller never receives a token that dies in flight.
fn refresh_at(token: &AccessToken) -> OffsetDateTime {
    let lifetime = token.expires_at - token.received_at;
    token.expires_at - (lifetime / 10_i32).min(Duration::seconds(30))
}
