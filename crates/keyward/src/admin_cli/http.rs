//! The admin API client: a bearer token from `POST /token` (`client_credentials`,
//! `client_secret_basic`, scope `keyward:admin`), renewed shortly before it expires and once on
//! a `401`, and every failure turned into one line an operator can act on.

use std::{
    fmt,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_types::ClientSecret;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use thiserror::Error;
use url::Url;
use zeroize::Zeroizing;

/// Items asked for per page when a list is followed to its end (the server's default).
const PAGE_SIZE: u32 = 100;

/// Long enough for a server generating an RSA-4096 keystore on a busy host.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A token this close to its expiry is renewed first, so it cannot expire in flight.
const RENEW_MARGIN: Duration = Duration::from_secs(30);

/// Why a request to the server failed. Each message names what to check.
#[derive(Debug, Error)]
pub(crate) enum ApiError {
    #[error("cannot connect to {url} (is the server running there? set --url or KEYWARD_URL): {}", cause(.source))]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("request to {url} failed: {}", cause(.source))]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the server at {url} refused the admin client '{client_id}' ({status} {error}); check KEYWARD_ADMIN_SECRET and --admin-client-id")]
    AdminLogin {
        url: String,
        client_id: String,
        status: u16,
        error: String,
    },
    /// An error answer of the admin API (RFC 6749 §5.2 shape: `error`, `error_description`).
    #[error("{status} {error}: {description}{reason}")]
    Refused {
        status: u16,
        error: String,
        description: String,
        /// ` (reason: …)` when the server gave a stable reason code (key errors).
        reason: String,
    },
    #[error("{url} answered {status} with a body that is not the expected JSON")]
    NotJson { url: String, status: u16 },
}

/// A bearer token: only ever sent in the `Authorization` header, never printed.
struct AccessToken(Zeroizing<String>);

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

struct Token {
    value: AccessToken,
    renew_at: Instant,
}

/// An authenticated connection to one server's admin API.
pub(crate) struct AdminClient {
    http: reqwest::Client,
    base: Url,
    client_id: String,
    secret: ClientSecret,
    token: Option<Token>,
}

impl AdminClient {
    pub(crate) fn new(
        base: &str,
        ca_cert: Option<&Path>,
        client_id: String,
        secret: ClientSecret,
    ) -> anyhow::Result<Self> {
        let base = Url::parse(base).with_context(|| format!("--url {base}: not a URL"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            anyhow::bail!("--url {base}: must be an http:// or https:// URL");
        }
        Ok(Self {
            http: http_client(ca_cert)?,
            base,
            client_id,
            secret,
            token: None,
        })
    }

    /// `base` + the segments, each percent-encoded as one path segment (a client id can never
    /// add a segment or a query).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub(crate) async fn get(
        &mut self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Value, ApiError> {
        let mut url = self.url(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.send(Method::GET, url, None).await
    }

    /// Every item of a keyset-paged list (`member` of each page, `limit` 100 a page with
    /// `query`), following `next_after` until the last page (or a page that names itself).
    pub(crate) async fn get_all_pages(
        &mut self,
        segments: &[&str],
        member: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut page_query = vec![("limit", PAGE_SIZE.to_string())];
            page_query.extend(query.iter().cloned());
            if let Some(a) = &after {
                page_query.push(("after", a.clone()));
            }
            let page = self.get(segments, &page_query).await?;
            if let Some(Value::Array(page_items)) = page.get(member) {
                items.extend(page_items.iter().cloned());
            }
            match page.get("next_after").and_then(Value::as_str) {
                Some(next) if after.as_deref() != Some(next) => after = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
    }

    pub(crate) async fn post(&mut self, segments: &[&str], body: &Value) -> Result<Value, ApiError> {
        self.send_json(Method::POST, segments, body).await
    }

    pub(crate) async fn patch(&mut self, segments: &[&str], body: &Value) -> Result<Value, ApiError> {
        self.send_json(Method::PATCH, segments, body).await
    }

    pub(crate) async fn delete(&mut self, segments: &[&str]) -> Result<Value, ApiError> {
        let url = self.url(segments);
        self.send(Method::DELETE, url, None).await
    }

    async fn send_json(
        &mut self,
        method: Method,
        segments: &[&str],
        body: &Value,
    ) -> Result<Value, ApiError> {
        // The body may hold a keystore password: wiped when the request is done.
        let bytes = Zeroizing::new(serde_json::to_vec(body).unwrap_or_default());
        let url = self.url(segments);
        self.send(method, url, Some(&bytes)).await
    }

    /// One admin request; on `401` (the token expired early, or the server restarted with new
    /// signing keys) a fresh token and one retry. `Null` for an empty answer (`204`).
    async fn send(&mut self, method: Method, url: Url, body: Option<&[u8]>) -> Result<Value, ApiError> {
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("authorization", format!("Bearer {}", token.as_str()));
            if let Some(b) = body {
                req = req.header("content-type", "application/json").body(b.to_vec());
            }
            let resp = req.send().await.map_err(|e| transport(&url, e))?;
            if resp.status() == StatusCode::UNAUTHORIZED && !retried {
                retried = true;
                self.token = None;
                continue;
            }
            return answer(&url, resp).await;
        }
    }

    /// The current token, or a new one when there is none or it is about to expire.
    async fn token(&mut self) -> Result<Zeroizing<String>, ApiError> {
        if let Some(t) = &self.token {
            if Instant::now() < t.renew_at {
                return Ok(t.value.0.clone());
            }
        }
        let url = self.url(&["token"]);
        let authorization = basic(&self.client_id, &self.secret);
        let resp = self
            .http
            .post(url.clone())
            .header("authorization", authorization.as_str())
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", keyward_server::ADMIN_SCOPE),
            ])
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        let status = resp.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST) {
            let body: Value = resp.json().await.unwrap_or_default();
            return Err(ApiError::AdminLogin {
                url: url.to_string(),
                client_id: self.client_id.clone(),
                status: status.as_u16(),
                error: super::text(&body, "error"),
            });
        }
        let body = answer(&url, resp).await?;
        let value = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::NotJson {
                url: url.to_string(),
                status: status.as_u16(),
            })?;
        let lifetime = Duration::from_secs(body.get("expires_in").and_then(Value::as_u64).unwrap_or(60));
        let token = Zeroizing::new(value.to_owned());
        self.token = Some(Token {
            value: AccessToken(token.clone()),
            renew_at: Instant::now() + lifetime.saturating_sub(RENEW_MARGIN),
        });
        Ok(token)
    }
}

/// `Basic base64(id:secret)`, both halves form-urlencoded first (RFC 6749 §2.3.1).
fn basic(id: &str, secret: &ClientSecret) -> Zeroizing<String> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = Zeroizing::new(format!("{}:{}", enc(id), enc(secret.expose())));
    Zeroizing::new(format!("Basic {}", STANDARD.encode(pair.as_bytes())))
}

/// The innermost cause ("Connection refused", "invalid peer certificate: UnknownIssuer"):
/// reqwest's own message only repeats the URL.
fn cause(e: &reqwest::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

fn transport(url: &Url, source: reqwest::Error) -> ApiError {
    let url = url.to_string();
    if source.is_connect() {
        ApiError::Unreachable { url, source }
    } else {
        ApiError::Transport { url, source }
    }
}

/// A success answer's JSON (`Null` when empty), or the server's error as [`ApiError::Refused`].
async fn answer(url: &Url, resp: reqwest::Response) -> Result<Value, ApiError> {
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| transport(url, e))?;
    let body: Option<Value> = if bytes.is_empty() {
        Some(Value::Null)
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    if status.is_success() {
        return body.ok_or_else(|| ApiError::NotJson {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let body = body.unwrap_or_default();
    let error = super::text(&body, "error");
    let reason = super::text(&body, "reason");
    Err(ApiError::Refused {
        status: status.as_u16(),
        error: if error.is_empty() {
            status.canonical_reason().unwrap_or("error").to_owned()
        } else {
            error
        },
        description: super::text(&body, "error_description"),
        reason: if reason.is_empty() {
            String::new()
        } else {
            format!(" (reason: {reason})")
        },
    })
}

/// No redirects: a redirect would carry the bearer token elsewhere. TLS trusts the public web roots, or only
/// `ca_cert` when given (a server with a private CA).
fn http_client(ca_cert: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("keyward-cli/", env!("CARGO_PKG_VERSION")));
    let builder = match ca_cert {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{}: not a PEM certificate", path.display()))?;
            builder.tls_built_in_root_certs(false).add_root_certificate(cert)
        }
        None => {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
            builder.use_preconfigured_tls(tls)
        }
    };
    Ok(builder.build()?)
}
