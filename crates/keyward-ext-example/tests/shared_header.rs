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
use keyward_testkit::server::{TestServer, CC};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

const CLIENT: &str = "ext-svc";
const KEY: &[u8] = b"a key shared with x-test-shared-header only";

/// A test server with `x-test-shared-header` registered, knowing [`CLIENT`]'s key.
async fn server() -> TestServer {
    let method = SharedHeaderMethod::new([(CLIENT, KEY)]).unwrap();
    TestServer::start_with_methods(|_| {}, vec![Arc::new(method)]).await
}

/// `POST /token` with extra headers, the way the method's clients send it.
async fn token(srv: &TestServer, headers: &[(&str, &str)], form: &[(&str, &str)]) -> reqwest::Response {
    let mut req = srv.http.post(srv.url("/token")).form(form);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

/// `POST /admin/clients`, returning the status and body whatever they are.
async fn register(srv: &TestServer, metadata: Value) -> (StatusCode, Value) {
    srv.admin(reqwest::Method::POST, "/admin/clients", Some(metadata))
        .await
}

#[tokio::test]
async fn a_method_from_outside_keyward_is_advertised_registered_and_decides() {
    let srv = server().await;

    let discovery = srv.get_json("/.well-known/oauth-authorization-server").await;
    let advertised = discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(advertised.contains(&json!(NAME)), "{discovery}");
    assert!(advertised.contains(&json!("client_secret_basic")), "{discovery}");

    let (status, created) = register(
        &srv,
        json!({"client_id": CLIENT, "token_endpoint_auth_method": NAME, "scope": "read"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["token_endpoint_auth_method"], NAME);
    assert!(
        created.get("client_secret").is_none(),
        "keyward keeps no secret for it: {created}"
    );

    let good = proof(KEY, CLIENT);
    let resp = token(&srv, &[(CLIENT_ID_HEADER, CLIENT), (PROOF_HEADER, &good)], &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read");
}

#[tokio::test]
async fn a_wrong_proof_is_invalid_client() {
    let srv = server().await;
    let (status, _) = register(
        &srv,
        json!({"client_id": CLIENT, "token_endpoint_auth_method": NAME}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let wrong = proof(b"another key", CLIENT);
    let resp = token(&srv, &[(CLIENT_ID_HEADER, CLIENT), (PROOF_HEADER, &wrong)], &[CC]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get(header::WWW_AUTHENTICATE).is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn its_mechanism_and_another_at_once_is_invalid_request() {
    let srv = server().await;
    let good = proof(KEY, CLIENT);
    let resp = token(
        &srv,
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
    let srv = server().await;
    let (status, _) = register(
        &srv,
        json!({"client_id": CLIENT, "token_endpoint_auth_method": "client_secret_basic"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let good = proof(KEY, CLIENT);
    let resp = token(&srv, &[(CLIENT_ID_HEADER, CLIENT), (PROOF_HEADER, &good)], &[CC]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unregistered_method_name_is_refused_at_client_registration() {
    let srv = server().await;
    let (status, body) = register(
        &srv,
        json!({"client_id": "other", "token_endpoint_auth_method": "x-not-registered"}),
    )
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
    let srv = TestServer::start().await;
    let twice = keyward_app::prepare(srv.config.clone(), Arc::new(srv.clock.clone()))
        .await
        .unwrap()
        .auth_method(Arc::new(SharedHeaderMethod::new([]).unwrap()))
        .auth_method(Arc::new(SharedHeaderMethod::new([]).unwrap()))
        .start()
        .await;
    assert!(
        matches!(twice, Err(keyward_server::ServeError::AuthMethod(_))),
        "the second registration of one name must stop the start"
    );
}
