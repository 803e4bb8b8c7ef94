//! A custom client authentication method on the authorization code flow's back channel: the
//! code exchange, a refresh and introspection all authenticate the client with the method it
//! registered, `x-test-shared-header`, through the same path as `client_credentials`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use keyward_ext_example::{proof, SharedHeaderMethod, CLIENT_ID_HEADER, NAME, PROOF_HEADER};
use keyward_testkit::{code_flow::*, console::ConsoleClient, server::TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CLIENT: &str = "ext-web";
const KEY: &[u8] = b"a key shared with x-test-shared-header only";

async fn post(srv: &TestServer, path: &str, form: &[(&str, &str)], with_proof: bool) -> reqwest::Response {
    let mut req = srv
        .http
        .post(srv.url(path))
        .form(form)
        .header(CLIENT_ID_HEADER, CLIENT);
    if with_proof {
        req = req.header(PROOF_HEADER, proof(KEY, CLIENT));
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_code_flow_back_channel_authenticates_with_a_custom_method() {
    let method = SharedHeaderMethod::new([(CLIENT, KEY)]).unwrap();
    let srv = TestServer::start_with_methods(|_| {}, vec![Arc::new(method)]).await;
    create_user(&srv, USER, USER_PASSWORD).await;
    let (status, created) = srv
        .admin(
            reqwest::Method::POST,
            "/admin/clients",
            Some(
                json!({"client_id": CLIENT, "token_endpoint_auth_method": NAME, "scope": "read",
                "grant_types": ["authorization_code", "refresh_token"], "redirect_uris": [REDIRECT_URI],
                "first_party": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let code = code_for(&srv, &mut browser, CLIENT, &pkce).await;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    // Without the method's proof the client is not authenticated, and the code is not spent.
    let refused = post(&srv, "/token", &exchange, false).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    let resp = post(&srv, "/token", &exchange, true).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let tokens: Value = resp.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let resp = post(
        &srv,
        "/token",
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        true,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let refreshed: Value = resp.json().await.unwrap();
    let resp = post(
        &srv,
        "/introspect",
        &[("token", refreshed["access_token"].as_str().unwrap())],
        true,
    )
    .await;
    let introspected: Value = resp.json().await.unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["username"], USER);
    assert_eq!(introspected["client_id"], CLIENT);
}
