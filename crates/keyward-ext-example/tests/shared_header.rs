//! The extension point over HTTP: `x-test-shared-header`, defined in this crate, is registered
//! through the server builder, advertised in discovery, chosen by a client in the admin API,
//! and decides that client's token requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use keyward_ext_example::{proof, SharedHeaderMethod, CLIENT_ID_HEADER, NAME, PROOF_HEADER};
use keyward_server::{Config, RunningServer};
use keyward_types::{SigningAlg, SystemClock};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

const ADMIN_SECRET: &str = "test-admin-secret-0123456789";
const CLIENT: &str = "ext-svc";
const KEY: &[u8] = b"a key shared with x-test-shared-header only";

fn config(dir: &tempfile::TempDir) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url: format!("sqlite://{}/keyward.db", dir.path().display()),
        data_dir: dir.path().display().to_string(),
        admin_secret: Some(ADMIN_SECRET.into()),
        token_signing_alg: SigningAlg::ES256,
        ..Config::default()
    }
}

async fn start(dir: &tempfile::TempDir) -> RunningServer {
    let method = SharedHeaderMethod::new([(CLIENT, KEY)]).unwrap();
    keyward_app::prepare(config(dir), Arc::new(SystemClock))
        .await
        .unwrap()
        .auth_method(Arc::new(method))
        .start()
        .await
        .unwrap()
}

struct Server {
    base: String,
    http: reqwest::Client,
    _running: RunningServer,
}

impl Server {
    async fn token(&self, headers: &[(&str, &str)], form: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.http.post(format!("{}/token", self.base)).form(form);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.unwrap()
    }

    async fn create_client(&self, metadata: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}/token", self.base))
            .basic_auth("keyward-admin", Some(ADMIN_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let admin: Value = resp.json().await.unwrap();
        let resp = self
            .http
            .post(format!("{}/admin/clients", self.base))
            .bearer_auth(admin["access_token"].as_str().unwrap())
            .json(&metadata)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json().await.unwrap())
    }
}

async fn server(dir: &tempfile::TempDir) -> Server {
    let running = start(dir).await;
    Server {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
        _running: running,
    }
}

const CC: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test]
async fn a_method_from_outside_keyward_is_advertised_registered_and_decides() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server(&dir).await;

    let discovery: Value = srv
        .http
        .get(format!("{}/.well-known/oauth-authorization-server", srv.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let advertised = discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(advertised.contains(&json!(NAME)), "{discovery}");
    assert!(advertised.contains(&json!("client_secret_basic")), "{discovery}");

    let (status, created) = srv
        .create_client(json!({"client_id": CLIENT, "token_endpoint_auth_method": NAME, "scope": "read"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["token_endpoint_auth_method"], NAME);
    assert!(
        created.get("client_secret").is_none(),
        "keyward keeps no secret for it: {created}"
    );

    let good = proof(KEY, CLIENT);
    let resp = srv
        .token(&[(CLIENT_ID_HEADER, CLIENT), (PROOF_HEADER, &good)], &[CC])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read");
}

#[tokio::test]
async fn a_wrong_proof_is_invalid_client() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server(&dir).await;
    let (status, _) = srv
        .create_client(json!({"client_id": CLIENT, "token_endpoint_auth_method": NAME}))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let wrong = proof(b"another key", CLIENT);
    let resp = srv
        .token(&[(CLIENT_ID_HEADER, CLIENT), (PROOF_HEADER, &wrong)], &[CC])
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get(header::WWW_AUTHENTICATE).is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn its_mechanism_and_another_at_once_is_invalid_request() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server(&dir).await;
    let good = proof(KEY, CLIENT);
    let resp = srv
        .token(
            &[(CLIENT_ID_HEADER, CLIENT), (PROOF_HEADER, &good)],
            &[CC, ("client_id", CLIENT), ("client_secret", "s")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn a_client_of_a_built_in_method_cannot_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server(&dir).await;
    let (status, _) = srv
        .create_client(json!({"client_id": CLIENT, "token_endpoint_auth_method": "client_secret_basic"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let good = proof(KEY, CLIENT);
    let resp = srv
        .token(&[(CLIENT_ID_HEADER, CLIENT), (PROOF_HEADER, &good)], &[CC])
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unregistered_method_name_is_refused_at_client_registration() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server(&dir).await;
    let (status, body) = srv
        .create_client(json!({"client_id": "other", "token_endpoint_auth_method": "x-not-registered"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_client_metadata");
    assert_eq!(
        body["error_description"],
        "token_endpoint_auth_method: unknown token_endpoint_auth_method 'x-not-registered'"
    );
}

#[tokio::test]
async fn a_method_name_registered_twice_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let twice = keyward_app::prepare(config(&dir), Arc::new(SystemClock))
        .await
        .unwrap()
        .auth_method(Arc::new(SharedHeaderMethod::new([]).unwrap()))
        .auth_method(Arc::new(SharedHeaderMethod::new([]).unwrap()))
        .start()
        .await;
    assert!(twice.is_err());
}
