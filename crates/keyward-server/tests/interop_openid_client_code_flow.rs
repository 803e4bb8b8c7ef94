//! Interop: openid-client 6 (Node.js), a relying-party library keyward did not write, runs
//! keyward's authorization code flow end to end against a real server on loopback, with
//! `client_secret_basic` and with `private_key_jwt` (ES256), each with and without a pushed
//! authorization request (RFC 9126). The library discovers keyward, builds the request (PKCE
//! S256, `state`, `nonce`), checks the authorization response (`state`, RFC 9207 `iss`),
//! exchanges the code and validates the ID token (`iss`, `aud`, `exp`, `iat`, `nonce`),
//! refreshes, reads userinfo (checking `sub`), introspects, and revokes. The script plays the
//! user's browser over plain HTTP: keyward's redirects, its cookies, the sign-in form and the
//! consent form.
//!
//! What the tests check of the result: the ID token is for the user and the client and carries
//! the nonce the library sent; the refresh rotates the refresh token; userinfo answers the
//! user's profile and email; introspection says the new access and refresh tokens are active and
//! the spent refresh token is not; after the refresh token is revoked, both it and the access
//! token of its family are inactive.
//!
//! The pinned openid-client is installed under the target directory by `keyward_testkit::node`;
//! without `node`, `npm` or the npm registry the tests fail and say so, they never skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Output;

use keyward_testkit::{
    code_flow::{code_client, create_user, USER, USER_PASSWORD},
    fixtures::{ec_jwk, interop},
    server::TestServer,
};
use serde_json::{json, Value};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/interop/openid_client_code_flow.mjs"
);

/// How the client authenticates, and with what.
enum Auth {
    /// `client_secret_basic` with this secret.
    Basic(String),
    /// `private_key_jwt` with the interop P-256 key.
    PrivateKeyJwt,
}

/// Runs the script off the async runtime (the server runs on it) and returns its report.
async fn run_flow(srv: &TestServer, client_id: &str, auth: &Auth, par: bool) -> Value {
    let (method, credential) = match auth {
        Auth::Basic(secret) => ("basic", secret.clone()),
        Auth::PrivateKeyJwt => (
            "private_key_jwt",
            interop("sample-ec256-private.pem").to_str().unwrap().to_owned(),
        ),
    };
    let args = [
        srv.base.clone(),
        client_id.to_owned(),
        method.to_owned(),
        credential,
        USER.to_owned(),
        USER_PASSWORD.to_owned(),
        if par { "1" } else { "0" }.to_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        keyward_testkit::node::node_script(SCRIPT.as_ref())
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run node: {e}"))
    })
    .await
    .unwrap();
    report(&out)
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The JSON the script printed, after checking it exited 0.
fn report(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "openid-client code flow script:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&out.stdout)))
}

/// A server with the user, and a code-flow client registered with `auth_metadata` (and scope
/// `read`, which the flow does not ask for). Returns the server, the client id and its secret.
async fn server_and_client(auth_metadata: Value) -> (TestServer, String, String) {
    let srv = TestServer::start().await;
    create_user(&srv, USER, USER_PASSWORD).await;
    let mut metadata = json!({"client_name": "openid-client RP", "scope": "read"});
    for (k, v) in auth_metadata.as_object().unwrap() {
        metadata[k] = v.clone();
    }
    let (id, secret) = code_client(&srv, metadata).await;
    (srv, id, secret)
}

/// A `private_key_jwt` client's registration: the interop P-256 public key inline.
fn key_metadata() -> Value {
    json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec_jwk()]}})
}

/// Everything a successful run shows, for client `id` of `srv`; `pages` are the pages the
/// browser filled in, `par` whether the request was pushed.
fn assert_flow(srv: &TestServer, id: &str, r: &Value, pages: &[&str], par: bool) {
    let issuer = srv.issuer();

    // The authorization request: by reference after PAR, whole otherwise.
    let sent: Vec<&str> = r["authorization_url"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    if par {
        assert_eq!(sent, ["client_id", "request_uri"], "{r}");
    } else {
        assert_eq!(
            sent,
            [
                "client_id",
                "code_challenge",
                "code_challenge_method",
                "nonce",
                "redirect_uri",
                "response_type",
                "scope",
                "state"
            ],
            "{r}"
        );
    }
    assert_eq!(r["authorization_url"]["path"], "/authorize", "{r}");
    assert_eq!(r["pages"], json!(pages), "{r}");
    // The browser's way: /authorize, sign-in, back to /authorize/continue, consent if asked,
    // and every answer that is not a page is a 303.
    let mut way = vec![
        "GET /authorize 303",
        "GET /authorize/signin 200",
        "POST /authorize/signin 303",
        "GET /authorize/continue 303",
    ];
    if pages.contains(&"consent") {
        way.extend(["GET /authorize/consent 200", "POST /authorize/consent 303"]);
    }
    let walked: Vec<String> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s["method"].as_str().unwrap(),
                s["path"].as_str().unwrap(),
                s["status"]
            )
        })
        .collect();
    assert_eq!(walked, way, "{r}");
    assert_eq!(r["callback"]["has_code"], true, "{r}");
    assert_eq!(r["callback"]["state_matches"], true, "{r}");
    assert_eq!(r["callback"]["iss"], issuer.as_str(), "{r}");

    // The code exchange, and the ID token the library validated.
    assert_eq!(r["token"]["token_type"], "bearer", "{r}");
    assert_eq!(r["token"]["scope"], "email offline_access openid profile", "{r}");
    assert_eq!(r["token"]["has_refresh_token"], true, "{r}");
    let claims = &r["id_token_claims"];
    assert_eq!(claims["iss"], issuer.as_str(), "{r}");
    assert_eq!(claims["sub"], USER, "{r}");
    assert_eq!(claims["aud"], id, "{r}");
    assert_eq!(claims["azp"], id, "{r}");
    assert_eq!(claims["nonce"], r["expected_nonce"], "{r}");
    assert!(claims["nonce"].is_string(), "{r}");
    assert!(
        claims["auth_time"].is_i64() && claims["at_hash"].is_string(),
        "{r}"
    );

    // The refresh rotated the refresh token; its ID token is for the same user, without nonce.
    let refresh = &r["refresh"];
    assert_eq!(refresh["new_refresh_token"], true, "{r}");
    assert_eq!(refresh["new_access_token"], true, "{r}");
    assert_eq!(refresh["scope"], "email offline_access openid profile", "{r}");
    assert_eq!(refresh["id_token_claims"]["sub"], USER, "{r}");
    assert_eq!(refresh["id_token_claims"]["aud"], id, "{r}");
    assert_eq!(
        refresh["id_token_claims"]["auth_time"], claims["auth_time"],
        "{r}"
    );
    assert!(refresh["id_token_claims"].get("nonce").is_none(), "{r}");

    // Userinfo (the library checked `sub` against the ID token's).
    assert_eq!(
        r["userinfo"],
        json!({"sub": USER, "preferred_username": USER,
            "name": "Name of alice", "email": "alice@example.com"}),
        "{r}"
    );

    // Introspection before revocation: the new tokens are active, the spent refresh token not.
    let before = &r["introspection_before_revocation"];
    assert_eq!(before["access"]["active"], true, "{r}");
    assert_eq!(before["access"]["token_type"], "Bearer", "{r}");
    assert_eq!(before["access"]["sub"], USER, "{r}");
    assert_eq!(before["access"]["username"], USER, "{r}");
    assert_eq!(before["access"]["client_id"], id, "{r}");
    assert_eq!(before["access"]["iss"], issuer.as_str(), "{r}");
    assert_eq!(
        before["access"]["scope"], "email offline_access openid profile",
        "{r}"
    );
    assert_eq!(before["refresh"]["active"], true, "{r}");
    assert_eq!(before["refresh"]["token_type"], "refresh_token", "{r}");
    assert_eq!(before["refresh"]["sub"], USER, "{r}");
    assert_eq!(before["refresh"]["client_id"], id, "{r}");
    assert_eq!(before["spent_refresh"], json!({"active": false}), "{r}");

    // Revoking the refresh token revoked its family: the access token too.
    let after = &r["introspection_after_revocation"];
    assert_eq!(after["refresh"], json!({"active": false}), "{r}");
    assert_eq!(after["access"], json!({"active": false}), "{r}");
}

#[tokio::test]
async fn openid_client_runs_the_code_flow_with_client_secret_basic() {
    let (srv, id, secret) = server_and_client(json!({})).await;
    let r = run_flow(&srv, &id, &Auth::Basic(secret), false).await;
    assert_flow(&srv, &id, &r, &["signin", "consent"], false);
    assert_eq!(r["kid"], Value::Null);
}

#[tokio::test]
async fn openid_client_runs_the_code_flow_with_client_secret_basic_and_par_for_a_first_party_client() {
    let (srv, id, secret) = server_and_client(json!({"first_party": true})).await;
    let r = run_flow(&srv, &id, &Auth::Basic(secret), true).await;
    assert_flow(&srv, &id, &r, &["signin"], true);
}

#[tokio::test]
async fn openid_client_runs_the_code_flow_with_private_key_jwt() {
    let (srv, id, secret) = server_and_client(key_metadata()).await;
    assert_eq!(secret, "", "a private_key_jwt client has no secret");
    let r = run_flow(&srv, &id, &Auth::PrivateKeyJwt, false).await;
    assert_flow(&srv, &id, &r, &["signin", "consent"], false);
    assert_eq!(
        r["kid"],
        ec_jwk()["kid"],
        "the script's thumbprint is the registered kid"
    );
}

#[tokio::test]
async fn openid_client_runs_the_code_flow_with_private_key_jwt_and_par() {
    let (srv, id, _) = server_and_client(merge(
        key_metadata(),
        json!({"require_pushed_authorization_requests": true}),
    ))
    .await;
    let r = run_flow(&srv, &id, &Auth::PrivateKeyJwt, true).await;
    assert_flow(&srv, &id, &r, &["signin", "consent"], true);
}

fn merge(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}
