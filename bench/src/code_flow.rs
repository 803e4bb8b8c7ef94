//! `keyward-bench code-flow`: throughput and latency of one back-channel call of the
//! authorization code flow (or `client_credentials`, the reference), for one client
//! authentication method, against a running server (`bench/code-flow.sh`).
//!
//! Everything single-use is made before the timed window, so the window holds only the call
//! measured: codes (one signed-in browser session asks `/authorize` for them, each with its own
//! PKCE verifier), refresh tokens (codes exchanged beforehand), access tokens to introspect, and
//! for `private_key_jwt` every client assertion (one per request, fresh `jti`, signed before the
//! window so that client-side signing does not compete with the measurement). Every request
//! body is built before the window too. The window is a closed loop: `concurrency` requests in
//! flight over keep-alive connections for `duration` seconds. Any non-2xx answer, transport
//! error or inactive introspection fails the run loudly: the figures would be of something else.
//!
//! Inputs are sized from the rate: a 1 s warm-up (not counted) with a fixed batch gives a first
//! estimate; each run prepares `margin` x that rate x `duration` (+ `concurrency`); a run that
//! used them all before its end is repeated with twice as many.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use aws_lc_rs::digest::{digest, SHA256};
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_types::{Clock, SigningAlg, SystemClock};
use reqwest::{header, redirect, StatusCode};
use serde_json::{json, Value};

use crate::{assertion::Signer, procfs};

/// The redirect URI of the bench client: nothing listens there, the driver reads `Location`.
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const STATE: &str = "s";
/// Codes live 60 s on the server (DESIGN.md); preparation plus use must stay well inside.
const CODE_BUDGET: Duration = Duration::from_secs(50);
/// Refresh tokens are prepared in chunks of this many codes, each exchanged soon after issue.
const REFRESH_CHUNK: usize = 4000;
/// Inputs prepared for the warm-up (which gives the first rate estimate).
const WARMUP_INPUTS: usize = 3000;
/// Distinct access tokens the introspection row asks about, in turn.
const INTROSPECTED_TOKENS: usize = 64;
/// Response bodies of failed requests printed to stderr.
const SHOWN_FAILURES: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Method {
    /// `client_secret_basic`.
    Basic,
    /// `private_key_jwt` with an ES256 key.
    PkjwtEs256,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Grant {
    /// `POST /token`, `grant_type=client_credentials`.
    Cc,
    /// `POST /token`, `grant_type=authorization_code` with PKCE (one prepared code each).
    Code,
    /// `POST /token`, `grant_type=refresh_token` (one prepared refresh token each; rotation).
    Refresh,
    /// `POST /introspect` of a user's access token from the code flow.
    Introspect,
    /// `GET /authorize` with a signed-in session: the redirect with a new code (front channel,
    /// no client authentication; `--method` only picks how the client is registered).
    Authorize,
}

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Base URL of the running server.
    #[arg(long)]
    base: String,
    /// The server's issuer (the assertions' `aud`); read from discovery when not given.
    #[arg(long)]
    issuer: Option<String>,
    /// The bootstrap admin client's secret.
    #[arg(long, env = "KEYWARD_ADMIN_SECRET", hide_env_values = true)]
    admin_secret: String,
    #[arg(long, value_enum)]
    method: Method,
    /// PKCS#8 PEM private key (P-256) of the `private_key_jwt` client.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Its public JWK, registered inline.
    #[arg(long)]
    jwk: Option<PathBuf>,
    /// `kid` of the assertions; default: the JWK's.
    #[arg(long)]
    kid: Option<String>,
    #[arg(long, value_enum)]
    grant: Grant,
    /// Length of each timed window in seconds (codes live 60 s: keep it short).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Timed windows, each with its own freshly prepared inputs.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Requests in flight during the window (one keep-alive connection each).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Requests in flight while preparing codes and refresh tokens.
    #[arg(long, default_value_t = 32)]
    prepare_concurrency: usize,
    /// Inputs per run: this many times the expected rate x duration, plus `concurrency`.
    #[arg(long, default_value_t = 1.5)]
    margin: f64,
    /// Length of the warm-up (not counted) in seconds.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// The server's process id: its CPU time per request, from /proc.
    #[arg(long)]
    pid: Option<u32>,
    /// Assertion lifetime in seconds.
    #[arg(long, default_value_t = 55)]
    lifetime: i64,
    /// Per-request timeout in seconds (a timeout is a failure).
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

/// How the client proves itself on the back channel.
enum Auth {
    /// The `Authorization: Basic` value.
    Basic(String),
    Pkjwt {
        signer: Signer,
        client_id: String,
    },
}

impl Auth {
    fn header(&self) -> Option<&str> {
        match self {
            Self::Basic(h) => Some(h),
            Self::Pkjwt { .. } => None,
        }
    }

    /// What goes after the form's own pairs: nothing, or `&client_assertion_type=…&client_assertion=…`
    /// with a new assertion issued at `now`.
    fn proof(&self, now: i64) -> anyhow::Result<String> {
        match self {
            Self::Basic(_) => Ok(String::new()),
            Self::Pkjwt { signer, client_id } => {
                // Signer writes a client_credentials body; keep its assertion pairs.
                let body = signer.body(client_id, now)?;
                body.strip_prefix("grant_type=client_credentials")
                    .map(str::to_owned)
                    .context("unexpected assertion body")
            }
        }
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
fn pkce() -> anyhow::Result<(String, String)> {
    let mut bytes = [0u8; 32];
    keyward_types::random::fill(&mut bytes)?;
    let verifier = keyward_jose::b64_encode(bytes);
    let challenge = keyward_jose::b64_encode(digest(&SHA256, verifier.as_bytes()));
    Ok((verifier, challenge))
}

fn enc(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The value of the first `Set-Cookie` named `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&prefix))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The value of the hidden field `name` of an HTML form.
fn hidden(body: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let rest = body
        .split_once(&marker)
        .map(|(_, r)| r)
        .with_context(|| format!("no field {name} in the sign-in page"))?;
    Ok(rest.split('"').next().unwrap_or_default().to_owned())
}

fn location(response: &reqwest::Response) -> anyhow::Result<String> {
    Ok(response
        .headers()
        .get(header::LOCATION)
        .with_context(|| format!("{} without Location", response.status()))?
        .to_str()?
        .to_owned())
}

/// The server, as the admin, a browser and the client application see it.
struct Setup {
    http: reqwest::Client,
    base: String,
    client_id: String,
    auth: Auth,
    /// `keyward_session=…` once signed in.
    session: Option<String>,
}

impl Setup {
    async fn new(args: &Args, http: reqwest::Client) -> anyhow::Result<Self> {
        let base = args.base.trim_end_matches('/').to_owned();
        let issuer = match &args.issuer {
            Some(i) => i.clone(),
            None => {
                let d: Value = http
                    .get(format!("{base}/.well-known/openid-configuration"))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                d.get("issuer")
                    .and_then(Value::as_str)
                    .context("discovery without issuer")?
                    .to_owned()
            }
        };
        let admin = admin_token(&http, &base, &args.admin_secret).await?;
        let tag = keyward_types::random::uuid()?.simple().to_string();
        let tag = tag.get(..8).unwrap_or(&tag);
        let method = match args.method {
            Method::Basic => "basic",
            Method::PkjwtEs256 => "pkjwt",
        };
        let client_id = format!("cf-{method}-{tag}");
        let mut metadata = json!({
            "client_id": client_id,
            "client_name": "code-flow bench",
            "scope": "read",
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "redirect_uris": [REDIRECT_URI],
            "first_party": true,
        });
        let jwk = match args.method {
            Method::Basic => None,
            Method::PkjwtEs256 => {
                let path = args.jwk.as_ref().context("--jwk is needed for pkjwt-es256")?;
                let jwk: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
                if let Some(m) = metadata.as_object_mut() {
                    m.insert("token_endpoint_auth_method".into(), json!("private_key_jwt"));
                    m.insert("jwks".into(), json!({"keys": [jwk]}));
                }
                Some(jwk)
            }
        };
        let registered = admin_call(&http, &base, &admin, "/admin/clients", &metadata).await?;
        let auth = match (args.method, jwk) {
            (Method::PkjwtEs256, Some(jwk)) => {
                let key = args.key.as_ref().context("--key is needed for pkjwt-es256")?;
                let kid = args
                    .kid
                    .clone()
                    .or_else(|| jwk.get("kid").and_then(Value::as_str).map(str::to_owned));
                Auth::Pkjwt {
                    signer: Signer::new(
                        SigningAlg::ES256,
                        Some(key),
                        None,
                        kid.as_deref(),
                        &issuer,
                        args.lifetime,
                    )?,
                    client_id: client_id.clone(),
                }
            }
            _ => {
                let secret = registered
                    .get("client_secret")
                    .and_then(Value::as_str)
                    .context("no client_secret in the registration response")?;
                Auth::Basic(format!(
                    "Basic {}",
                    STANDARD.encode(format!("{}:{secret}", enc(&client_id)))
                ))
            }
        };
        let mut setup = Self {
            http,
            base,
            client_id,
            auth,
            session: None,
        };
        if args.grant != Grant::Cc {
            let username = format!("cf-user-{tag}");
            let password = format!("cf-password-{}", keyward_types::random::uuid()?.simple());
            let user = json!({"username": username, "password": password,
                "name": "Code Flow Bench", "email": format!("{username}@example.com")});
            admin_call(&setup.http, &setup.base, &admin, "/admin/users", &user).await?;
            setup.sign_in(&username, &password).await?;
        }
        Ok(setup)
    }

    fn authorize_url(&self, challenge: &str) -> String {
        format!(
            "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20profile&state={STATE}\
             &code_challenge={challenge}&code_challenge_method=S256",
            self.base,
            enc(&self.client_id),
            enc(REDIRECT_URI)
        )
    }

    /// Signs in once as a browser does; afterwards every `/authorize` answers with a code.
    async fn sign_in(&mut self, username: &str, password: &str) -> anyhow::Result<()> {
        let (_, challenge) = pkce()?;
        let first = self.http.get(self.authorize_url(&challenge)).send().await?;
        let to = location(&first)?;
        if first.status() != StatusCode::SEE_OTHER || !to.starts_with("/authorize/signin?") {
            bail!("/authorize without a session: {} to {to}", first.status());
        }
        let page = self.http.get(format!("{}{to}", self.base)).send().await?;
        let status = page.status();
        let login =
            set_cookie(&page, "keyward_signin").context("the sign-in page set no keyward_signin cookie")?;
        let body = page.text().await?;
        if status != StatusCode::OK {
            bail!("sign-in page: {status} {body}");
        }
        let form = [
            ("interaction", hidden(&body, "interaction")?),
            ("csrf", hidden(&body, "csrf")?),
            ("username", username.to_owned()),
            ("password", password.to_owned()),
        ];
        let posted = self
            .http
            .post(format!("{}/authorize/signin", self.base))
            .header(header::COOKIE, format!("keyward_signin={login}"))
            .header(header::ORIGIN, &self.base)
            .form(&form)
            .send()
            .await?;
        let session = set_cookie(&posted, "keyward_session");
        if posted.status() != StatusCode::SEE_OTHER || session.is_none() {
            bail!("sign-in: {} {}", posted.status(), posted.text().await?);
        }
        self.session = session.map(|s| format!("keyward_session={s}"));
        // The sign-in's own code proves the session works.
        self.code().await?;
        Ok(())
    }

    /// A new code and its verifier, from `/authorize` with the session.
    async fn code(&self) -> anyhow::Result<(String, String)> {
        let session = self.session.as_deref().context("not signed in")?;
        let (verifier, challenge) = pkce()?;
        let r = self
            .http
            .get(self.authorize_url(&challenge))
            .header(header::COOKIE, session)
            .send()
            .await?;
        let status = r.status();
        let to = location(&r)?;
        if status != StatusCode::SEE_OTHER || !to.starts_with(REDIRECT_URI) {
            bail!("/authorize with a session: {status} to {to}");
        }
        let query = to.split_once('?').map_or("", |(_, q)| q);
        let mut code = None;
        let mut state = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "code" => code = Some(v.into_owned()),
                "state" => state = Some(v.into_owned()),
                _ => {}
            }
        }
        if state.as_deref() != Some(STATE) {
            bail!("redirect without state {STATE}: {to}");
        }
        Ok((code.with_context(|| format!("no code in {to}"))?, verifier))
    }

    /// `n` codes from `concurrency` browsers sharing the session, oldest first.
    async fn codes(self: &Arc<Self>, n: usize, concurrency: usize) -> anyhow::Result<Vec<(String, String)>> {
        let next = Arc::new(AtomicUsize::new(0));
        let out = Arc::new(Mutex::new(Vec::with_capacity(n)));
        let tasks: Vec<_> = (0..concurrency.clamp(1, n.max(1)))
            .map(|_| {
                let (me, next, out) = (self.clone(), next.clone(), out.clone());
                tokio::spawn(async move {
                    while next.fetch_add(1, Ordering::Relaxed) < n {
                        let c = me.code().await?;
                        out.lock().unwrap_or_else(PoisonError::into_inner).push(c);
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for t in tasks {
            t.await??;
        }
        let codes = std::mem::take(&mut *out.lock().unwrap_or_else(PoisonError::into_inner));
        Ok(codes)
    }

    fn code_body(&self, code: &str, verifier: &str, proof: &str) -> String {
        format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}{proof}",
            enc(code),
            enc(REDIRECT_URI),
            enc(verifier)
        )
    }

    /// Exchanges codes (assertions signed as they go: this is preparation) and returns the
    /// token responses in order.
    async fn exchange_all(
        self: &Arc<Self>,
        codes: Vec<(String, String)>,
        concurrency: usize,
    ) -> anyhow::Result<Vec<Value>> {
        let n = codes.len();
        let codes = Arc::new(codes);
        let next = Arc::new(AtomicUsize::new(0));
        let out = Arc::new(Mutex::new(Vec::with_capacity(n)));
        let tasks: Vec<_> = (0..concurrency.clamp(1, n.max(1)))
            .map(|_| {
                let (me, codes, next, out) = (self.clone(), codes.clone(), next.clone(), out.clone());
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((code, verifier)) = codes.get(i) else {
                            break;
                        };
                        let proof = me.auth.proof(SystemClock.now().unix_timestamp())?;
                        let mut request = me
                            .http
                            .post(format!("{}/token", me.base))
                            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                            .body(me.code_body(code, verifier, &proof));
                        if let Some(h) = me.auth.header() {
                            request = request.header(header::AUTHORIZATION, h);
                        }
                        let r = request.send().await?;
                        let status = r.status();
                        let body = r.text().await?;
                        if !status.is_success() {
                            bail!("code exchange while preparing: {status} {body}");
                        }
                        let v: Value = serde_json::from_str(&body)?;
                        out.lock().unwrap_or_else(PoisonError::into_inner).push(v);
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for t in tasks {
            t.await??;
        }
        let tokens = std::mem::take(&mut *out.lock().unwrap_or_else(PoisonError::into_inner));
        Ok(tokens)
    }
}

async fn admin_token(http: &reqwest::Client, base: &str, secret: &str) -> anyhow::Result<String> {
    let r = http
        .post(format!("{base}/token"))
        .basic_auth("keyward-admin", Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await?;
    if !status.is_success() {
        bail!("admin token: {status} {body}");
    }
    Ok(body
        .get("access_token")
        .and_then(Value::as_str)
        .context("admin token: no access_token")?
        .to_owned())
}

async fn admin_call(
    http: &reqwest::Client,
    base: &str,
    bearer: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let r = http
        .post(format!("{base}{path}"))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    if status != StatusCode::CREATED {
        bail!("POST {path}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The requests of one window, built before it starts.
struct Plan {
    method: reqwest::Method,
    urls: Vec<String>,
    header: Option<(header::HeaderName, String)>,
    bodies: Vec<String>,
    /// Bodies (or URLs) may be sent again and again, in turn; otherwise each is sent once and
    /// the window ends early when they run out.
    reusable: bool,
    /// Introspection: the answer must say `"active":true`.
    expect_active: bool,
    /// When the oldest single-use input was made (codes expire 60 s later).
    made_at: Instant,
}

/// How the preparation went, for the log line.
struct Prepared {
    plan: Plan,
    what: String,
}

/// Builds the plan for `count` requests of `grant`.
async fn prepare(setup: &Arc<Setup>, args: &Args, count: usize) -> anyhow::Result<Prepared> {
    let started = Instant::now();
    let token_url = format!("{}/token", setup.base);
    let auth_header = setup.auth.header().map(|h| (header::AUTHORIZATION, h.to_owned()));
    let unique = matches!(setup.auth, Auth::Pkjwt { .. });
    // The grant's own pairs of each body (single-use inputs made here), and whether the same
    // pairs may be sent again and again.
    let mut what = String::new();
    let (url, pairs, reusable): (String, Vec<String>, bool) = match args.grant {
        Grant::Cc => (token_url, vec!["grant_type=client_credentials".to_owned()], true),
        Grant::Code => {
            let codes = setup.codes(count, args.prepare_concurrency).await?;
            let secs = started.elapsed().as_secs_f64();
            what = format!(
                "{} codes in {secs:.1} s ({:.0}/s)",
                codes.len(),
                codes.len() as f64 / secs
            );
            let pairs = codes.iter().map(|(c, v)| setup.code_body(c, v, "")).collect();
            (token_url, pairs, false)
        }
        Grant::Refresh => {
            let mut tokens = Vec::with_capacity(count);
            while tokens.len() < count {
                let chunk = (count - tokens.len()).min(REFRESH_CHUNK);
                let codes = setup.codes(chunk, args.prepare_concurrency).await?;
                for answer in setup.exchange_all(codes, args.prepare_concurrency).await? {
                    let t = answer
                        .get("refresh_token")
                        .and_then(Value::as_str)
                        .context("the code exchange gave no refresh_token")?;
                    tokens.push(format!("grant_type=refresh_token&refresh_token={}", enc(t)));
                }
            }
            what = format!(
                "{} refresh tokens (code + exchange each) in {:.1} s",
                tokens.len(),
                started.elapsed().as_secs_f64()
            );
            (token_url, tokens, false)
        }
        Grant::Introspect => {
            let n = INTROSPECTED_TOKENS.min(count.max(1));
            let codes = setup.codes(n, args.prepare_concurrency).await?;
            let mut pairs = Vec::with_capacity(n);
            for answer in setup.exchange_all(codes, args.prepare_concurrency).await? {
                let t = answer
                    .get("access_token")
                    .and_then(Value::as_str)
                    .context("the code exchange gave no access_token")?;
                pairs.push(format!("token={}&token_type_hint=access_token", enc(t)));
            }
            what = format!("{n} user access tokens, asked about in turn");
            (format!("{}/introspect", setup.base), pairs, true)
        }
        Grant::Authorize => {
            let mut urls = Vec::with_capacity(count);
            for _ in 0..count {
                urls.push(setup.authorize_url(&pkce()?.1));
            }
            let session = setup.session.clone().context("not signed in")?;
            return Ok(Prepared {
                plan: Plan {
                    method: reqwest::Method::GET,
                    urls,
                    header: Some((header::COOKIE, session)),
                    bodies: Vec::new(),
                    reusable: false,
                    expect_active: false,
                    made_at: Instant::now(),
                },
                what: format!("{count} authorization URLs, each with its own PKCE challenge"),
            });
        }
    };
    let made_at = started;
    // One body per request with a fresh assertion each; the secret's bodies as they are.
    let bodies = if unique {
        let signed = Instant::now();
        let n = if reusable { count } else { pairs.len() };
        let pairs = Arc::new(pairs);
        let auth_setup = setup.clone();
        let bodies = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
            let now = SystemClock.now().unix_timestamp();
            (0..n)
                .map(|i| {
                    let own = pairs.get(i % pairs.len().max(1)).map_or("", String::as_str);
                    Ok(format!("{own}{}", auth_setup.auth.proof(now)?))
                })
                .collect()
        })
        .await??;
        let secs = signed.elapsed().as_secs_f64();
        if !what.is_empty() {
            what.push_str("; ");
        }
        what.push_str(&format!("{} assertions signed in {secs:.1} s", bodies.len()));
        bodies
    } else {
        pairs
    };
    Ok(Prepared {
        plan: Plan {
            method: reqwest::Method::POST,
            urls: vec![url],
            header: auth_header,
            bodies,
            reusable: reusable && !unique,
            expect_active: args.grant == Grant::Introspect,
            made_at,
        },
        what,
    })
}

/// What one window measured.
#[derive(Default)]
struct Outcome {
    latencies_us: Vec<u32>,
    ok: u64,
    /// Failures by kind (`400`, `inactive`, `timeout` …) and the first few bodies.
    failures: BTreeMap<String, u64>,
    shown: Vec<String>,
    exhausted: bool,
    seconds: f64,
    server_cpu: f64,
    driver_cpu: f64,
}

impl Outcome {
    fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    fn requests(&self) -> u64 {
        self.ok + self.failed()
    }

    fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds.max(1e-9)
    }
}

/// The `pct` percentile (nearest rank) in milliseconds; `v` sorted.
fn percentile_ms(v: &[u32], pct: usize) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = (v.len() * pct).div_ceil(100).clamp(1, v.len()) - 1;
    f64::from(v.get(rank).copied().unwrap_or(0)) / 1000.0
}

/// `concurrency` requests in flight for `length` (or until single-use inputs run out).
async fn window(
    http: &reqwest::Client,
    plan: Plan,
    concurrency: usize,
    length: Duration,
    pid: Option<u32>,
) -> Outcome {
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicUsize::new(0));
    let exhausted = Arc::new(AtomicBool::new(false));
    let shown = Arc::new(Mutex::new(Vec::new()));
    let server = pid.map(|p| p.to_string());
    let cpu_before = (
        server.as_deref().map_or(0.0, procfs::cpu_seconds),
        procfs::cpu_seconds("self"),
    );
    let started = Instant::now();
    let end = started + length;
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (http, plan, next, exhausted, shown) = (
                http.clone(),
                plan.clone(),
                next.clone(),
                exhausted.clone(),
                shown.clone(),
            );
            tokio::spawn(async move {
                let mut mine = Outcome::default();
                let total = plan.bodies.len().max(plan.urls.len());
                while Instant::now() < end {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total && !plan.reusable {
                        exhausted.store(true, Ordering::Relaxed);
                        break;
                    }
                    let url = plan
                        .urls
                        .get(i % plan.urls.len().max(1))
                        .map_or("", String::as_str);
                    let mut request = http.request(plan.method.clone(), url);
                    if let Some((name, value)) = &plan.header {
                        request = request.header(name, value);
                    }
                    if let Some(body) = plan.bodies.get(i % plan.bodies.len().max(1)) {
                        request = request
                            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                            .body(body.clone());
                    }
                    let sent = Instant::now();
                    let result = match request.send().await {
                        // Read the body: the connection is reused only after it.
                        Ok(r) => {
                            let status = r.status();
                            // `/authorize`: a redirect to the client with a code, not an error.
                            let coded = r
                                .headers()
                                .get(header::LOCATION)
                                .and_then(|v| v.to_str().ok())
                                .is_some_and(|l| l.starts_with(REDIRECT_URI) && l.contains("?code="));
                            r.bytes().await.map(|b| (status, coded, b))
                        }
                        Err(e) => Err(e),
                    };
                    let took = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                    let kind = match &result {
                        Ok((s, coded, _)) if plan.method == reqwest::Method::GET => {
                            (*s != StatusCode::SEE_OTHER || !coded)
                                .then(|| format!("{} without a code", s.as_u16()))
                        }
                        Ok((s, _, b)) if s.is_success() => {
                            let active =
                                !plan.expect_active || b.windows(13).any(|w| w == b"\"active\":true");
                            (!active).then(|| "200 inactive".to_owned())
                        }
                        Ok((s, _, _)) => Some(s.as_u16().to_string()),
                        Err(e) if e.is_timeout() => Some("timeout".to_owned()),
                        Err(e) if e.is_connect() => Some("connect".to_owned()),
                        Err(_) => Some("transport".to_owned()),
                    };
                    match kind {
                        None => {
                            mine.ok += 1;
                            mine.latencies_us.push(took);
                        }
                        Some(k) => {
                            let mut s = shown.lock().unwrap_or_else(PoisonError::into_inner);
                            if s.len() < SHOWN_FAILURES {
                                let detail = match &result {
                                    Ok((_, _, b)) => String::from_utf8_lossy(b).chars().take(300).collect(),
                                    Err(e) => e.to_string(),
                                };
                                s.push(format!("{k}: {detail}"));
                            }
                            *mine.failures.entry(k).or_default() += 1;
                        }
                    }
                }
                mine
            })
        })
        .collect();
    let mut all = Outcome::default();
    for t in tasks {
        match t.await {
            Ok(mine) => {
                all.ok += mine.ok;
                all.latencies_us.extend(mine.latencies_us);
                for (k, n) in mine.failures {
                    *all.failures.entry(k).or_default() += n;
                }
            }
            Err(_) => *all.failures.entry("driver task panicked".into()).or_default() += 1,
        }
    }
    all.seconds = started.elapsed().as_secs_f64();
    all.server_cpu = server.as_deref().map_or(0.0, procfs::cpu_seconds) - cpu_before.0;
    all.driver_cpu = procfs::cpu_seconds("self") - cpu_before.1;
    all.exhausted = exhausted.load(Ordering::Relaxed);
    all.shown = std::mem::take(&mut *shown.lock().unwrap_or_else(PoisonError::into_inner));
    all.latencies_us.sort_unstable();
    all
}

fn grant_name(g: Grant) -> &'static str {
    match g {
        Grant::Cc => "client_credentials",
        Grant::Code => "authorization_code",
        Grant::Refresh => "refresh_token",
        Grant::Introspect => "introspection",
        Grant::Authorize => "authorize (code issuance)",
    }
}

/// Inputs for `seconds` at `rate`, with the margin and one per connection.
fn sized(args: &Args, rate: f64, seconds: u64) -> usize {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (rate * seconds as f64 * args.margin).ceil() as usize;
    n + args.concurrency
}

/// Prepares and measures one window (`exhausted` says whether its inputs ran out early).
async fn measured(
    setup: &Arc<Setup>,
    args: &Args,
    count: usize,
    length: Duration,
) -> anyhow::Result<(Outcome, String)> {
    let prepared = prepare(setup, args, count).await?;
    let age = prepared.plan.made_at.elapsed();
    if matches!(args.grant, Grant::Code) && age + length > CODE_BUDGET {
        bail!(
            "the codes would be {:.0} s old by the window's end (they live 60 s): lower --duration or --margin",
            (age + length).as_secs_f64()
        );
    }
    // On stderr, for a profiler to start on.
    eprintln!("timed window of {:.0} s starts", length.as_secs_f64());
    let outcome = window(&setup.http, prepared.plan, args.concurrency, length, args.pid).await;
    Ok((outcome, prepared.what))
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    // The workspace builds reqwest with rustls but no provider; plain http needs one installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout))
        .redirect(redirect::Policy::none())
        // Below the server's idle timeout (60 s), as the README asks of clients.
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency.max(args.prepare_concurrency))
        .build()?;
    let setup = Arc::new(Setup::new(&args, http).await?);
    let label = format!(
        "{} / {}",
        match args.method {
            Method::Basic => "client_secret_basic",
            Method::PkjwtEs256 => "private_key_jwt ES256",
        },
        grant_name(args.grant)
    );
    println!(
        "{label}: client {}, {} in flight, {} s x {} runs",
        setup.client_id, args.concurrency, args.duration, args.runs
    );

    // Warm-up (not counted): a fixed batch; its rate sizes the first run.
    let (warm, what) = measured(
        &setup,
        &args,
        WARMUP_INPUTS,
        Duration::from_secs(args.warmup.max(1)),
    )
    .await?;
    report_failures(&label, "warm-up", &warm)?;
    let mut rate = warm.rate();
    println!(
        "warm-up: {:.0} req/s over {:.2} s ({} requests{}); prepared {what}",
        rate,
        warm.seconds,
        warm.requests(),
        if warm.exhausted { ", inputs used up" } else { "" }
    );

    let length = Duration::from_secs(args.duration);
    for r in 1..=args.runs {
        let mut tries = 0;
        let (outcome, what) = loop {
            let count = sized(&args, rate, args.duration);
            let (outcome, what) = measured(&setup, &args, count, length).await?;
            report_failures(&label, &format!("run {r}"), &outcome)?;
            if !outcome.exhausted {
                break (outcome, what);
            }
            tries += 1;
            println!(
                "run {r}: the {count} prepared inputs ran out after {:.2} s ({:.0} req/s); again with twice as many",
                outcome.seconds,
                outcome.rate()
            );
            if tries > 2 {
                bail!("{label}: inputs ran out three times; raise --margin");
            }
            rate = rate.max(outcome.rate()) * 2.0;
        };
        rate = rate.max(outcome.rate());
        let v = &outcome.latencies_us;
        let (p50, p99, max) = (percentile_ms(v, 50), percentile_ms(v, 99), percentile_ms(v, 100));
        let per_request = |cpu: f64| cpu / (outcome.ok.max(1) as f64) * 1e6;
        println!(
            "run {r}: {:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.1} ms, {} requests in {:.2} s, \
             non-2xx 0, server CPU {:.1} us/req ({:.0} %), driver CPU {:.0} %; prepared {what}",
            outcome.rate(),
            outcome.ok,
            outcome.seconds,
            per_request(outcome.server_cpu),
            outcome.server_cpu / outcome.seconds * 100.0,
            outcome.driver_cpu / outcome.seconds * 100.0,
        );
        // For bench/code-flow.sh: req/s p50 p99 server-us/req driver-CPU-%.
        println!(
            "RESULT {:.1} {p50:.3} {p99:.3} {:.1} {:.0}",
            outcome.rate(),
            per_request(outcome.server_cpu),
            outcome.driver_cpu / outcome.seconds * 100.0
        );
    }
    Ok(())
}

/// Any failed request makes the measurement wrong: say what failed and stop.
fn report_failures(label: &str, phase: &str, outcome: &Outcome) -> anyhow::Result<()> {
    if outcome.failed() == 0 {
        return Ok(());
    }
    for s in &outcome.shown {
        eprintln!("{label} {phase}: {s}");
    }
    let kinds: Vec<String> = outcome
        .failures
        .iter()
        .map(|(k, n)| format!("{k} x {n}"))
        .collect();
    bail!(
        "{label} {phase}: {} of {} requests failed ({}): the measurement is wrong",
        outcome.failed(),
        outcome.requests(),
        kinds.join(", ")
    )
}
