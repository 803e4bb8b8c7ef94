//! A real keyward server on a loopback port, in the test process, over a temp SQLite file, with
//! a clock the test moves. Requests go over HTTP with reqwest; state is checked through a second
//! handle on the same database file.
//!
//! `use keyward_testkit::server::*` brings in what the server's tests use besides: the OAuth
//! wire helpers, signers, fixtures and the JWKS host.

use std::sync::Arc;

use keyward_client_auth::ClientAuthenticator;
use keyward_server::{Config, RunningServer};
use keyward_storage::Storage;
use keyward_types::{ClientId, Clock, ManualClock, SigningAlg};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub use crate::{
    fixtures::*,
    jose::{assertion_claims, rfc7638, sign_hmac, sign_jws, sign_raw},
    jwks_server::{JwksServer, Served},
    oauth::*,
    rate_limit::{allow_many_auth_failures, client_from},
    server_clients::*,
    JWT_BEARER,
};

pub const ADMIN_ID: &str = "keyward-admin";
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789";

pub struct TestServer {
    server: Option<RunningServer>,
    pub base: String,
    /// `http://` + the metrics listener's address; `None` when the test turned it off.
    pub metrics_base: Option<String>,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub config: Config,
    pub dir: tempfile::TempDir,
    methods: Vec<Arc<dyn ClientAuthenticator>>,
}

/// The one place a test server is started (first start and restarts).
async fn launch(
    config: &Config,
    clock: &ManualClock,
    methods: &[Arc<dyn ClientAuthenticator>],
) -> RunningServer {
    let mut builder = keyward_app::prepare(config.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    for method in methods {
        builder = builder.auth_method(method.clone());
    }
    builder.start().await.unwrap()
}

/// `https://` + the bound address when TLS is configured, else `http://`.
/// A test server's configuration over `dir` (temp database and key files).
fn test_config(dir: &std::path::Path) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url: format!("sqlite://{}/keyward.db", dir.display()),
        data_dir: dir.display().to_string(),
        admin_secret: Some(ADMIN_SECRET.into()),
        // ES256 keys are generated in microseconds; tests of other algs set their own.
        token_signing_alg: SigningAlg::ES256,
        // A free port each: servers of parallel tests never share the default one.
        metrics_listen: "127.0.0.1:0".into(),
        ..Config::default()
    }
}

/// Why a test server with `tune`'s configuration does not start (it must not).
pub async fn start_error(tune: impl FnOnce(&mut Config)) -> keyward_app::StartupError {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    tune(&mut config);
    let clock = ManualClock::new(keyward_types::Clock::now(&keyward_types::SystemClock));
    let started = match keyward_app::prepare(config, Arc::new(clock)).await {
        Ok(builder) => builder.start().await.map_err(Into::into),
        Err(e) => Err(e),
    };
    match started {
        Ok(server) => panic!("the server started on {}", server.addr),
        Err(e) => e,
    }
}

/// A plain client; with TLS configured, one that trusts the configured certificate.
fn http_client(config: &Config) -> reqwest::Client {
    let Some(cert) = &config.tls_cert_file else {
        return reqwest::Client::new();
    };
    keyward_server::install_crypto_provider();
    let pem = std::fs::read(cert).unwrap();
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

fn metrics_base(server: &RunningServer) -> Option<String> {
    server.metrics_addr.map(|a| format!("http://{a}"))
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server; `tune` may change the config (its database and data dir are temp).
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_methods(tune, Vec::new()).await
    }

    /// Starts a server with client authentication methods registered besides the built-in
    /// ones, as an extension crate registers its own.
    pub async fn start_with_methods(
        tune: impl FnOnce(&mut Config),
        methods: Vec<Arc<dyn ClientAuthenticator>>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        tune(&mut config);
        let clock = ManualClock::new(keyward_types::Clock::now(&keyward_types::SystemClock));
        let server = launch(&config, &clock, &methods).await;
        let base = server.base_url.clone();
        Self {
            metrics_base: metrics_base(&server),
            server: Some(server),
            base,
            http: http_client(&config),
            clock,
            config,
            dir,
            methods,
        }
    }

    /// Stops the server (finishing in-flight requests) and starts it again on the same database
    /// and key files, on a new port.
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        let server = launch(&self.config, &self.clock, &self.methods).await;
        self.base = server.base_url.clone();
        self.metrics_base = metrics_base(&server);
        self.server = Some(server);
    }

    /// The address the server listens on (for raw sockets).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.as_ref().unwrap().addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The issuer the server announces (`iss` of its tokens and authorization responses).
    pub fn issuer(&self) -> String {
        self.server.as_ref().unwrap().issuer.clone()
    }

    /// The test clock's current Unix time.
    pub fn clock_now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// A second handle on the server's database, to check what was (not) stored.
    pub async fn storage(&self) -> Arc<dyn Storage> {
        keyward_app::open_storage(&self.config.database_url, &self.config)
            .await
            .unwrap()
    }

    /// Every client and its secret hashes, and the audit log length: compare before and after a
    /// rejected request to show nothing was stored or changed.
    pub async fn snapshot(&self) -> String {
        let s = self.storage().await;
        let mut out = String::new();
        for c in s
            .list_clients(&keyward_storage::ClientQuery::first(10_000))
            .await
            .unwrap()
        {
            let e = s.load_client(&c.client_id).await.unwrap().unwrap();
            let secrets: Vec<_> = e
                .secrets
                .iter()
                .map(|x| (x.id.clone(), x.hash.as_bytes().to_vec(), x.expires_at))
                .collect();
            out.push_str(&format!(
                "{}|{:?}\n",
                serde_json::to_string(&e.client).unwrap(),
                secrets
            ));
        }
        let audit = s
            .list_audit(&keyward_storage::AuditQuery::newest(500))
            .await
            .unwrap();
        let changes = audit.iter().filter(|r| r.event.outcome == "success").count();
        out.push_str(&format!("successful admin changes: {changes}\n"));
        out
    }

    pub async fn client_exists(&self, id: &str) -> bool {
        self.storage()
            .await
            .load_client(&ClientId::parse(id).unwrap())
            .await
            .unwrap()
            .is_some()
    }

    /// Entries in the replay store.
    pub async fn replay_entries(&self) -> u64 {
        self.storage().await.replay_entries().await.unwrap()
    }

    /// `POST /token` with Basic credentials (form-urlencoded halves, RFC 6749 §2.3.1).
    pub async fn token_basic(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/token"))
            .header("authorization", basic_header(id, secret))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// `POST /token` with `client_id` and `client_secret` in the form.
    pub async fn token_post(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("client_id", id), ("client_secret", secret)];
        all.extend_from_slice(form);
        self.http
            .post(self.url("/token"))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// `POST /token` with `client_assertion` (and the right assertion type) plus `extra`.
    pub async fn token_assertion(&self, assertion: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![
            CC,
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ];
        form.extend_from_slice(extra);
        self.http
            .post(self.url("/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// An access token for `id`, by `client_secret_basic`.
    pub async fn token_for(&self, id: &str, secret: &str) -> String {
        let resp = self.token_basic(id, secret, &[CC]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A token for the bootstrap admin client.
    pub async fn admin_token(&self) -> String {
        self.token_for(ADMIN_ID, ADMIN_SECRET).await
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = self.admin_token().await;
        self.admin_as(&token, method, path, body).await
    }

    pub async fn admin_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Registers a client and returns `(client_id, client_secret)`.
    pub async fn create_client(&self, metadata: Value) -> (String, String) {
        let (status, body) = self
            .admin(reqwest::Method::POST, "/admin/clients", Some(metadata))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["client_id"].as_str().unwrap().to_owned(),
            body["client_secret"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// After a hostile request: the process still answers `/healthz` and still issues a token
    /// to a freshly registered client (so storage, signing and the runtime are all intact). Call
    /// it after comparing snapshots: it registers a client.
    pub async fn assert_still_serving(&self) {
        let health = self.http.get(self.url("/healthz")).send().await.unwrap();
        assert_eq!(
            health.status(),
            StatusCode::OK,
            "/healthz after the hostile request"
        );
        let id = format!("alive-{}", keyward_types::random::uuid().unwrap().simple());
        let (id, secret) = self
            .create_client(json!({"client_id": id, "scope": "read"}))
            .await;
        let resp = self.token_basic(&id, &secret, &[CC]).await;
        assert_eq!(resp.status(), StatusCode::OK, "a token after the hostile request");
    }

    /// `GET path` on the public listener, its body as JSON (a public document: discovery, JWKS).
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The metrics text, scraped from the metrics listener.
    pub async fn metrics(&self) -> String {
        let resp = self.http.get(self.metrics_url()).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "scrape of the metrics listener");
        resp.text().await.unwrap()
    }

    /// `GET /metrics` on the metrics listener.
    pub fn metrics_url(&self) -> String {
        let base = self
            .metrics_base
            .as_deref()
            .expect("this test server has no metrics listener (metrics_listen is off)");
        format!("{base}/metrics")
    }

    /// `keyward_admin_auth_failures_total{reason}`, 0 before the first such refusal; process
    /// global like [`TestServer::auth_failures`].
    pub async fn admin_auth_failures(&self, reason: &str) -> u64 {
        let prefix = format!("keyward_admin_auth_failures_total{{reason=\"{reason}\"}} ");
        self.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().parse::<u64>().unwrap()))
            .unwrap_or(0)
    }

    /// `keyward_client_auth_failures_total{reason}`, 0 before the first such failure. The
    /// counter is process-global and tests run in parallel: compare before and after with `>`.
    pub async fn auth_failures(&self, reason: &str) -> u64 {
        let prefix = format!("keyward_client_auth_failures_total{{reason=\"{reason}\"}} ");
        self.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().parse::<u64>().unwrap()))
            .unwrap_or(0)
    }
}
