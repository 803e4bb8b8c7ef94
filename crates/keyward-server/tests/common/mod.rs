//! Test harness: a real keyward server on a loopback port, over a temp SQLite file, with a
//! clock the test moves. Requests go over HTTP with reqwest; state is checked through a second
//! handle on the same database file.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod jwks_server;

use std::sync::Arc;

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_server::{Config, RunningServer};
use keyward_storage::Storage;
use keyward_types::{ClientId, ManualClock, SigningAlg};
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::OffsetDateTime;

pub const ADMIN_ID: &str = "keyward-admin";
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789";

pub struct TestServer {
    server: Option<RunningServer>,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub config: Config,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server; `tune` may change the config (its database and data dir are temp).
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            database_url: format!("sqlite://{}/keyward.db", dir.path().display()),
            data_dir: dir.path().display().to_string(),
            admin_secret: Some(ADMIN_SECRET.into()),
            // ES256 keys are generated in microseconds; tests of other algs set their own.
            token_signing_alg: SigningAlg::ES256,
            ..Config::default()
        };
        tune(&mut config);
        let clock = ManualClock::new(OffsetDateTime::now_utc());
        let server = keyward_server::start(config.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
        let base = format!("http://{}", server.addr);
        Self {
            server: Some(server),
            base,
            http: reqwest::Client::new(),
            clock,
            config,
            dir,
        }
    }

    /// Stops the server (finishing in-flight requests) and starts it again on the same database
    /// and key files, on a new port.
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        let server = keyward_server::start(self.config.clone(), Arc::new(self.clock.clone()))
            .await
            .unwrap();
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A second handle on the server's database, to check what was (not) stored.
    pub async fn storage(&self) -> Arc<dyn Storage> {
        keyward_server::open_storage(&self.config.database_url)
            .await
            .unwrap()
    }

    /// Every client and its secret hashes, and the audit log length: compare before and after a
    /// rejected request to show nothing was stored or changed.
    pub async fn snapshot(&self) -> String {
        let s = self.storage().await;
        let mut out = String::new();
        for c in s.list_clients(None, 10_000).await.unwrap() {
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
        let audit = s.list_audit(None, 500).await.unwrap();
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

    /// A token for the bootstrap admin client.
    pub async fn admin_token(&self) -> String {
        let resp = self
            .token_basic(ADMIN_ID, ADMIN_SECRET, &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
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

    /// A `client_secret_basic` client with scope `read write`.
    pub async fn basic_client(&self) -> (String, String) {
        self.create_client(json!({"client_id": "svc-basic", "scope": "read write"}))
            .await
    }

    /// A `client_secret_post` client with scope `read write`.
    pub async fn post_client(&self) -> (String, String) {
        self.create_client(json!({"client_id": "svc-post", "scope": "read write", "token_endpoint_auth_method": "client_secret_post"}))
            .await
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
        let id = format!("alive-{}", uuid::Uuid::new_v4().simple());
        let (id, secret) = self
            .create_client(json!({"client_id": id, "scope": "read"}))
            .await;
        let resp = self
            .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "a token after the hostile request");
    }

    /// The metrics text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

pub fn form_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn basic_header(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", form_escape(id), form_escape(secret)))
    )
}

/// Asserts an RFC 6749 §5.2 error response and returns its body.
pub async fn assert_error(resp: reqwest::Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(resp.status(), status);
    assert_eq!(
        resp.headers().get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    body
}

/// Asserts the one `invalid_client` answer every authentication failure gets.
pub async fn assert_invalid_client(resp: reqwest::Response, used_basic: bool) {
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = assert_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(body["error_description"], "client authentication failed");
    if used_basic {
        assert_eq!(www.as_deref(), Some("Basic realm=\"keyward\""));
    }
}

/// Decodes a JWT's header and claims without verifying (tests verify separately).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let jws = keyward_jose::CompactJws::parse(token).unwrap();
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&keyward_jose::b64_decode(header).unwrap()).unwrap();
    (header, jws.claims().unwrap())
}

impl TestServer {
    /// The test clock's current Unix time.
    pub fn clock_now(&self) -> i64 {
        use keyward_types::Clock;
        self.clock.now().unix_timestamp()
    }
}

// ---- client assertions (RFC 7523) ----

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `shared/interop/NAME`: key material made by keytool, OpenSSL and jwcrypto, beside the repo.
pub fn interop(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/interop")
        .join(name)
}

/// The PKCS#8 DER inside a `-----BEGIN PRIVATE KEY-----` file.
pub fn pem_der(path: &std::path::Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// An interop private key (`rsa2048`, `ec256`, `ec384`, `ed25519`) as a signer for `alg`.
pub fn interop_key(name: &str, alg: SigningAlg) -> keyward_jose::SigningKey {
    let der = pem_der(&interop(&format!("sample-{name}-private.pem")));
    keyward_jose::SigningKey::from_pkcs8(alg, zeroize::Zeroizing::new(der)).unwrap()
}

/// The public JWK file of an interop key (`rsa2048`, `ec256`, `ed25519`).
pub fn interop_jwk(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(interop(&format!("sample-{name}-public.jwk"))).unwrap())
        .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    keyward_jose::b64_encode(bytes)
}

/// A compact JWS over exactly this header and these claims, signed by `key`.
pub fn sign_jws(key: &keyward_jose::SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&sig))
}

/// A compact JWS MACed with `secret` (HS256/384/512 by `header.alg`).
pub fn sign_hmac(secret: &[u8], header: &Value, claims: &Value) -> String {
    use aws_lc_rs::hmac;
    let alg = match header["alg"].as_str().unwrap() {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = hmac::sign(&hmac::Key::new(alg, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

impl TestServer {
    /// Valid assertion claims for `client_id`: iss = sub = client, aud = issuer, 30 s lifetime.
    pub fn claims(&self, client_id: &str) -> Value {
        let now = self.clock_now();
        json!({
            "iss": client_id, "sub": client_id, "aud": self.base,
            "iat": now, "exp": now + 30, "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    /// `POST /token` with `client_assertion` (and the right assertion type) plus `extra`.
    pub async fn token_assertion(&self, assertion: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
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

    /// Entries in the replay store.
    pub async fn replay_entries(&self) -> u64 {
        self.storage().await.replay_entries().await.unwrap()
    }

    /// A `private_key_jwt` client registered with the given public JWKs.
    pub async fn key_client(&self, id: &str, keys: &[Value], extra: Value) -> String {
        let mut meta = json!({
            "client_id": id, "scope": "read write",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": keys},
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            meta[k] = v;
        }
        self.create_client(meta).await.0
    }

    /// A `client_secret_jwt` client; returns `(client_id, secret)`.
    pub async fn secret_jwt_client(&self, id: &str, extra: Value) -> (String, String) {
        let mut meta =
            json!({"client_id": id, "scope": "read", "token_endpoint_auth_method": "client_secret_jwt"});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            meta[k] = v;
        }
        self.create_client(meta).await
    }
}

/// Verifies a token this server issued against its published `/jwks` (key by `kid`, algorithm
/// from the header) and returns the claims.
pub async fn verify_with_jwks(srv: &TestServer, token: &str) -> Value {
    let jwks: keyward_jose::Jwks = srv
        .http
        .get(srv.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jws = keyward_jose::CompactJws::parse(token).unwrap();
    let kid = jws.header.kid.clone().unwrap();
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(&kid))
        .expect("kid published");
    let key = keyward_jose::VerifyingKey::from_jwk(jwk, jws.header.alg.parse().unwrap()).unwrap();
    key.verify(jws.signing_input.as_bytes(), &jws.signature).unwrap();
    jws.claims().unwrap()
}

// ---- client key credentials (import, generate, list) ----

/// A `private_key_jwt` client with scope `read` and an empty credential list.
pub async fn empty_key_client(srv: &TestServer, id: &str) -> String {
    srv.create_client(
        json!({"client_id": id, "token_endpoint_auth_method": "private_key_jwt", "scope": "read"}),
    )
    .await
    .0
}

/// `POST /admin/clients/{id}/credentials` (import).
pub async fn import(srv: &TestServer, id: &str, body: Value) -> (StatusCode, Value) {
    srv.admin(
        reqwest::Method::POST,
        &format!("/admin/clients/{id}/credentials"),
        Some(body),
    )
    .await
}

/// `POST /admin/clients/{id}/credentials/generate`, as the raw response (headers matter).
pub async fn generate_raw(srv: &TestServer, id: &str, body: Value) -> reqwest::Response {
    let token = srv.admin_token().await;
    srv.http
        .post(srv.url(&format!("/admin/clients/{id}/credentials/generate")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The client's credential list (`GET .../credentials`), as the array.
pub async fn credential_list(srv: &TestServer, id: &str) -> Value {
    let (status, body) = srv
        .admin(
            reqwest::Method::GET,
            &format!("/admin/clients/{id}/credentials"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["credentials"].clone()
}

/// Every audit event, newest first (one page of 500), and the raw text of that page.
pub async fn audit_log(srv: &TestServer) -> (Vec<Value>, String) {
    let token = srv.admin_token().await;
    let text = srv
        .http
        .get(srv.url("/admin/audit?limit=500"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    (body["events"].as_array().unwrap().clone(), text)
}

/// The bytes of `shared/interop/NAME`.
pub fn interop_bytes(name: &str) -> Vec<u8> {
    std::fs::read(interop(name)).unwrap()
}

/// The text of `shared/interop/NAME`.
pub fn interop_text(name: &str) -> String {
    std::fs::read_to_string(interop(name)).unwrap()
}

/// Standard base64 of `shared/interop/NAME` (the import API's encoding for binary formats).
pub fn interop_b64(name: &str) -> String {
    STANDARD.encode(interop_bytes(name))
}

/// The RFC 7638 thumbprint of a public JWK, computed here from its required members.
pub fn rfc7638(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str().unwrap() {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical = members
        .iter()
        .map(|m| format!("\"{m}\":\"{}\"", jwk[*m].as_str().unwrap()))
        .collect::<Vec<_>>()
        .join(",");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{{{canonical}}}").as_bytes());
    keyward_jose::b64_encode(digest.as_ref())
}

/// The server clock as RFC 3339 `seconds` from now, whole seconds.
pub fn rfc3339_from_now(srv: &TestServer, seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(srv.clock_now() + seconds)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

impl TestServer {
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
