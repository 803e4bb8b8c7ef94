//! Interop: Authlib (Python), a client library keyward did not write, gets tokens with
//! `private_key_jwt` and `client_secret_jwt` assertions it signs itself.
//!
//! The first test makes a Python environment with pinned Authlib under the target directory
//! (`keyward_testkit::python`); without `python3` or PyPI the tests fail and say so, they never
//! skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Output;

use keyward_testkit::server::*;
use serde_json::{json, Value};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/authlib_client.py");

/// Runs the Authlib client script off the async runtime (the server runs on it).
async fn authlib(args: Vec<String>, env: Option<(&'static str, &'static str)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let python = keyward_testkit::python::interop_python();
        let mut cmd = std::process::Command::new(&python);
        cmd.arg(SCRIPT).args(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()))
    })
    .await
    .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Authlib stamps `iat` from the real clock: move the test clock to it, and keep it there.
fn sync_clock(srv: &TestServer) {
    // Authlib stamps its assertion with the real time when the script runs, which on a loaded
    // machine can be seconds after this call: the server's clock follows the real one until
    // the test ends (no test here moves the clock itself).
    let clock = srv.clock.clone();
    clock.set(keyward_types::Clock::now(&keyward_types::SystemClock));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            clock.set(keyward_types::Clock::now(&keyward_types::SystemClock));
        }
    });
}

/// The token response of a successful run.
fn token_response(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "Authlib client failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not the JSON token response ({e}): {}",
            text(&out.stdout)
        )
    })
}

/// The `{"status", "error", ...}` report of a run the server refused (exit status 2).
fn oauth_error(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected an OAuth error from the server:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "no token may be printed: {}",
        text(&out.stdout)
    );
    let stderr = text(&out.stderr);
    serde_json::from_str(stderr.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("stderr has no error report ({e}): {stderr}"))
}

/// Checks a token response for `client_id`: a Bearer token that verifies with `/jwks`.
async fn assert_token(srv: &TestServer, resp: &Value, client_id: &str) {
    assert_eq!(resp["token_type"], "Bearer", "{resp}");
    assert_eq!(resp["expires_in"], 300, "{resp}");
    let token = resp["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(srv, token).await;
    assert_eq!(claims["client_id"], client_id);
    assert_eq!(claims["sub"], client_id);
    assert_eq!(claims["iss"], srv.base);
}

fn private_key_args(srv: &TestServer, id: &str, key: &str, alg: &str) -> Vec<String> {
    let path = interop(&format!("sample-{key}-private.pem"));
    assert!(path.exists(), "{} is missing", path.display());
    vec![
        srv.url("/token"),
        id.into(),
        "private_key_jwt".into(),
        path.display().to_string(),
        alg.into(),
    ]
}

/// Authlib signs `aud` = the token endpoint URL, as RFC 7523 suggests.
fn legacy() -> Value {
    json!({"legacy_token_endpoint_audience": true})
}

#[tokio::test]
async fn authlib_is_installed() {
    let out = tokio::task::spawn_blocking(|| {
        std::process::Command::new(keyward_testkit::python::interop_python())
            .args([
                "-c",
                "import authlib, requests, joserfc; print(authlib.__version__)",
            ])
            .output()
            .expect("run the interop Python")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "Authlib is missing from the interop Python environment\n{}",
        text(&out.stderr)
    );
    let version = text(&out.stdout);
    assert!(!version.trim().is_empty());
    assert!(
        keyward_testkit::python::REQUIREMENTS.contains(&format!("authlib=={}", version.trim()).as_str()),
        "Authlib {version} is not the pinned version"
    );
}

#[tokio::test]
async fn authlib_private_key_jwt_rs256_gets_token() {
    let srv = TestServer::start().await;
    srv.key_client("authlib-rsa", &[interop_jwk("rsa2048")], legacy())
        .await;
    sync_clock(&srv);
    let out = authlib(private_key_args(&srv, "authlib-rsa", "rsa2048", "RS256"), None).await;
    assert_token(&srv, &token_response(&out), "authlib-rsa").await;
    assert_eq!(srv.replay_entries().await, 1, "the assertion's jti was recorded");
}

#[tokio::test]
async fn authlib_private_key_jwt_es256_gets_token() {
    let srv = TestServer::start().await;
    srv.key_client("authlib-ec", &[interop_jwk("ec256")], legacy())
        .await;
    sync_clock(&srv);
    let out = authlib(private_key_args(&srv, "authlib-ec", "ec256", "ES256"), None).await;
    assert_token(&srv, &token_response(&out), "authlib-ec").await;
    assert_eq!(srv.replay_entries().await, 1);
}

#[tokio::test]
async fn authlib_client_secret_jwt_hs256_gets_token() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.secret_jwt_client("authlib-hs", legacy()).await;
    assert!(!secret.is_empty());
    sync_clock(&srv);
    let out = authlib(
        vec![
            srv.url("/token"),
            id.clone(),
            "client_secret_jwt".into(),
            secret,
            "HS256".into(),
        ],
        None,
    )
    .await;
    assert_token(&srv, &token_response(&out), &id).await;
    assert_eq!(srv.replay_entries().await, 1);
}

#[tokio::test]
async fn authlib_client_secret_jwt_with_wrong_secret_is_refused() {
    let srv = TestServer::start().await;
    let (id, _) = srv.secret_jwt_client("authlib-hs-bad", legacy()).await;
    sync_clock(&srv);
    let before = srv.auth_failures("signature.invalid").await;
    let out = authlib(
        vec![
            srv.url("/token"),
            id,
            "client_secret_jwt".into(),
            "not-the-secret-0123456789abcdef".into(),
            "HS256".into(),
        ],
        None,
    )
    .await;
    let err = oauth_error(&out);
    assert_eq!(err["status"], 401, "{err}");
    assert_eq!(err["error"], "invalid_client", "{err}");
    assert_eq!(srv.replay_entries().await, 0);
    assert!(srv.auth_failures("signature.invalid").await > before);
}

#[tokio::test]
async fn authlib_assertion_refused_without_legacy_audience_flag() {
    let srv = TestServer::start().await;
    srv.key_client("authlib-strict", &[interop_jwk("rsa2048")], json!({}))
        .await;
    sync_clock(&srv);
    let snapshot = srv.snapshot().await;
    let before = srv.auth_failures("assertion.aud_mismatch").await;
    let out = authlib(private_key_args(&srv, "authlib-strict", "rsa2048", "RS256"), None).await;
    let err = oauth_error(&out);
    assert_eq!(err["status"], 401, "{err}");
    assert_eq!(err["error"], "invalid_client", "{err}");
    assert_eq!(err["error_description"], "client authentication failed");
    assert_eq!(srv.replay_entries().await, 0);
    assert_eq!(srv.snapshot().await, snapshot);
    assert!(srv.auth_failures("assertion.aud_mismatch").await > before);
}

/// Authlib's own default assertion lifetime is one hour; keyward allows 60 s. One client may be
/// allowed more with its own `max_assertion_lifetime`, without loosening the others: on one
/// server, the client that allows it gets a token and the client that does not is refused.
#[tokio::test]
async fn authlib_default_hour_long_assertion_is_accepted_only_by_the_client_that_allows_it() {
    let srv = TestServer::start().await;
    let mut allows = legacy();
    allows["max_assertion_lifetime"] = json!(3600);
    srv.key_client("authlib-hour", &[interop_jwk("ec256")], allows)
        .await;
    srv.key_client("authlib-strict-hour", &[interop_jwk("ec256")], legacy())
        .await;
    sync_clock(&srv);
    let before = srv.auth_failures("assertion.lifetime_too_long").await;
    let args = private_key_args(&srv, "authlib-strict-hour", "ec256", "ES256");
    let err = oauth_error(&authlib(args, Some(("ASSERTION_LIFETIME", "authlib"))).await);
    assert_eq!(err["status"], 401, "{err}");
    assert_eq!(err["error"], "invalid_client", "{err}");
    assert!(srv.auth_failures("assertion.lifetime_too_long").await > before);
    assert_eq!(srv.replay_entries().await, 0);

    let args = private_key_args(&srv, "authlib-hour", "ec256", "ES256");
    let out = authlib(args, Some(("ASSERTION_LIFETIME", "authlib"))).await;
    assert_token(&srv, &token_response(&out), "authlib-hour").await;
    assert_eq!(srv.replay_entries().await, 1);
}

#[tokio::test]
async fn rejects_a_client_assertion_lifetime_above_the_server_cap() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            reqwest::Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "too-patient", "token_endpoint_auth_method": "private_key_jwt", "max_assertion_lifetime": 3601})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_client_metadata");
    assert_eq!(
        body["error_description"],
        "max_assertion_lifetime: must be between 1 and 3600 seconds"
    );
    assert!(!srv.client_exists("too-patient").await);
    assert_eq!(srv.snapshot().await, before);
}
