//! Interop: openid-client 6 (Node.js), a client library keyward did not write, discovers keyward
//! and gets a token with `client_secret_basic`; when the secret is wrong, the error it raises
//! says `invalid_client`. openid-client reads only the `WWW-Authenticate` challenge of a 401 that
//! has one, so the Basic challenge carries the error code (RFC 6749 §5.2). The admin API's
//! Bearer challenges follow RFC 6750 §3.1: no error code when no token was presented.
//!
//! The first test installs pinned openid-client under the target directory
//! (`keyward_testkit::node`); without `node`, `npm` or the npm registry the tests fail and say
//! so, they never skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Output;

use keyward_testkit::server::*;
use reqwest::StatusCode;
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/openid_client.mjs");

/// Runs the openid-client script off the async runtime (the server runs on it).
async fn openid_client(issuer: &str, client_id: &str, secret: &str) -> Output {
    let args = [issuer.to_owned(), client_id.to_owned(), secret.to_owned()];
    tokio::task::spawn_blocking(move || {
        keyward_testkit::node::node_script(SCRIPT.as_ref())
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run node: {e}"))
    })
    .await
    .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The JSON the script printed, after checking it exited with `code`.
fn report(out: &Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "openid-client script:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&out.stdout)))
}

/// `GET /admin/clients` with this (or no) `Authorization`: status, `WWW-Authenticate`, body.
async fn list_clients_with(srv: &TestServer, authorization: Option<&str>) -> (StatusCode, String, Value) {
    let mut req = srv.http.get(srv.url("/admin/clients"));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let www = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
    (status, www, resp.json().await.unwrap())
}

#[tokio::test]
async fn openid_client_is_installed() {
    let dir = tokio::task::spawn_blocking(keyward_testkit::node::interop_node_dir)
        .await
        .unwrap();
    let manifest = dir.join("node_modules/openid-client/package.json");
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display())),
    )
    .unwrap();
    assert_eq!(manifest["version"], keyward_testkit::node::OPENID_CLIENT);

    // And Node can import it the way the script does.
    let out = std::process::Command::new("node")
        .current_dir(&dir)
        .args([
            "--input-type=module",
            "-e",
            "import * as client from 'openid-client'; \
             console.log(typeof client.discovery, typeof client.clientCredentialsGrant)",
        ])
        .output()
        .expect("run node");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "function function");
}

#[tokio::test]
async fn openid_client_basic_gets_token() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let tokens = report(&openid_client(&srv.base, &id, &secret).await, 0);
    // oauth4webapi lowercases `token_type` (case-insensitive, RFC 6749 §7.1); keyward sends `Bearer`.
    assert_eq!(tokens["token_type"], "bearer", "{tokens}");
    assert_eq!(tokens["expires_in"], 300, "{tokens}");
    assert_eq!(tokens["scope"], "read write", "{tokens}");
    let claims = verify_with_jwks(&srv, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["iss"], srv.base);
}

#[tokio::test]
async fn openid_client_sees_invalid_client_in_the_basic_challenge() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let mismatches = srv.auth_failures("secret.mismatch").await;
    let err = report(
        &openid_client(&srv.base, &id, "not-the-secret-0123456789abcdef").await,
        2,
    );
    assert_eq!(err["name"], "WWWAuthenticateChallengeError", "{err}");
    assert_eq!(err["status"], 401, "{err}");
    assert_eq!(err["error"], "invalid_client", "{err}");
    assert_eq!(err["error_description"], "client authentication failed", "{err}");
    let challenges = err["challenges"].as_array().unwrap();
    assert_eq!(challenges.len(), 1, "{err}");
    let basic = &challenges[0];
    assert_eq!(basic["scheme"], "basic", "{err}");
    assert_eq!(basic["parameters"]["realm"], "keyward", "{err}");
    assert_eq!(basic["parameters"]["error"], "invalid_client", "{err}");
    // The body, which openid-client leaves unread, says the same.
    assert_eq!(err["body"]["error"], "invalid_client", "{err}");
    assert!(srv.auth_failures("secret.mismatch").await > mismatches);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn basic_failure_challenge_carries_error_and_description() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let resp = srv
        .http
        .post(srv.url("/token"))
        .header(
            "authorization",
            basic_header(&id, "not-the-secret-0123456789abcdef"),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Basic realm=\"keyward\", error=\"invalid_client\", error_description=\"client authentication failed\""
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert_eq!(
        body["error_description"], "client authentication failed",
        "{body}"
    );
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn missing_admin_token_challenge_has_no_error_code() {
    let srv = TestServer::start().await;
    let (status, www, body) = list_clients_with(&srv, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(www, "Bearer realm=\"keyward\"");
    assert_eq!(body["error_description"], "missing bearer token", "{body}");
}

#[tokio::test]
async fn bad_admin_token_challenge_says_invalid_token() {
    let srv = TestServer::start().await;
    let (status, www, body) = list_clients_with(&srv, Some("Bearer not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(www, "Bearer realm=\"keyward\", error=\"invalid_token\"");
    assert_eq!(body["error"], "invalid_token", "{body}");
}
