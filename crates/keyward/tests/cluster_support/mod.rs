//! Fixture for the multi-node tests: a fresh PostgreSQL database per test (dropped at the end,
//! also on panic), `keyward serve` processes that share it, and the HTTP, JWS and SQL helpers
//! the tests need. `process.rs` is a trimmed copy of `tests/common` (owned elsewhere); `jose.rs`
//! signs assertions, verifies tokens and serves a JWKS URL.
// Each test binary uses a different subset of these helpers.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod jose;
mod process;

use std::{
    future::Future,
    process::Command,
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine};
pub use jose::*;
pub use process::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_keyward");
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
pub const LISTENING: &str = "keyward listening on ";
pub const ISSUER: &str = "http://keyward.test";
pub const ADMIN_SECRET: &str = "cluster-admin-secret-0123456789";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The timing assertions (within 1 s) must not compete with another test's nodes for the two
/// cores, so the tests of one binary run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

// --- PostgreSQL -------------------------------------------------------------------------------

pub fn base_database_url() -> String {
    std::env::var("KEYWARD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// `url` with its database name replaced by `name` (a query string is kept).
fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (url, String::new()),
    };
    let (server, _) = main.rsplit_once('/').expect("database URL without a path");
    format!("{server}/{name}{query}")
}

/// Runs `sql` with psql against `url`; returns the unaligned, tuples-only output.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed for `{sql}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// [`psql`] off the async workers, so a load running beside it is not stalled.
pub async fn psql_async(url: &str, sql: &str) -> String {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    tokio::task::spawn_blocking(move || psql(&url, &sql))
        .await
        .unwrap()
}

/// A database `kw_cluster_<random>`; dropping the guard drops it (connections terminated).
pub struct TestDb {
    pub name: String,
    pub url: String,
    /// The base database, for statements about this one (ALTER, terminate).
    pub admin_url: String,
}

impl TestDb {
    pub fn create() -> Self {
        let admin_url = base_database_url();
        let name = format!("kw_cluster_{}", uuid::Uuid::new_v4().simple());
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        Self {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }

    /// Terminates every connection to this database; returns how many.
    pub async fn terminate_connections(&self) -> usize {
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            self.name
        );
        psql_async(&self.admin_url, &sql).await.lines().count()
    }

    pub async fn allow_connections(&self, allow: bool) {
        let sql = format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}", self.name);
        psql_async(&self.admin_url, &sql).await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE terminates what is still connected (nodes of a failed test, say).
        let out = Command::new("psql")
            .args([&self.admin_url, "-X", "-At", "-c"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .output();
        if !out.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("could not drop test database {}: {out:?}", self.name);
        }
    }
}

/// Two nodes on one fresh database. The nodes are declared first: they are killed before the
/// database is dropped.
pub struct Cluster {
    pub a: Node,
    pub b: Node,
    pub env: NodeEnv,
    pub db: TestDb,
    pub http: reqwest::Client,
}

impl Cluster {
    pub async fn start() -> Self {
        let db = TestDb::create();
        let env = NodeEnv::new(&db.url);
        let mut nodes = start_nodes(&env, 2);
        let b = nodes.pop().unwrap();
        let a = nodes.pop().unwrap();
        Self {
            a,
            b,
            env,
            db,
            http: http(),
        }
    }
}

// --- HTTP -------------------------------------------------------------------------------------

pub fn http() -> reqwest::Client {
    keyward_server::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

async fn answer(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

pub async fn token_basic(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> (StatusCode, Value) {
    let resp = http
        .post(format!("{base}/token"))
        .header("authorization", basic(id, secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    answer(resp).await
}

pub async fn token_post(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ];
    answer(
        http.post(format!("{base}/token"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub async fn token_assertion(http: &reqwest::Client, base: &str, assertion: &str) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    answer(
        http.post(format!("{base}/token"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub async fn healthz(http: &reqwest::Client, base: &str) -> StatusCode {
    match http.get(format!("{base}/healthz")).send().await {
        Ok(r) => r.status(),
        Err(_) => StatusCode::GATEWAY_TIMEOUT,
    }
}

/// The `access_token` of a 200 answer; panics with the answer otherwise.
pub fn access_token((status, body): &(StatusCode, Value)) -> String {
    assert_eq!(*status, StatusCode::OK, "token request failed: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

pub fn assert_invalid_client((status, body): &(StatusCode, Value)) {
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
}

pub async fn admin_token(http: &reqwest::Client, base: &str) -> String {
    access_token(&token_basic(http, base, "keyward-admin", ADMIN_SECRET).await)
}

pub async fn admin(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let token = admin_token(http, base).await;
    let mut req = http.request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req.send().await.unwrap()).await
}

/// Registers a client; returns `(client_id, client_secret or "")`.
pub async fn create_client(http: &reqwest::Client, base: &str, metadata: Value) -> (String, String) {
    let (status, body) = admin(http, base, Method::POST, "/admin/clients", Some(metadata)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["client_secret"].as_str().unwrap_or_default().to_owned();
    (body["client_id"].as_str().unwrap().to_owned(), secret)
}

/// Polls `check` every 50 ms until it holds; the time it took, or `None` after `limit`.
pub async fn time_until<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
