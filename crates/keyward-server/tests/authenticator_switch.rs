//! Switching a client's authenticator with `PATCH token_endpoint_auth_method` (Keycloak's
//! "Client Authenticator"): every pair of the four methods, with a token before and after, a
//! secret returned only when one was generated, the old method refused afterwards, and what
//! the new method does not use kept for a switch back. Real server, real HTTP, temp SQLite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{
    fixtures::{ec_jwk, ec_key, ec_kid},
    jose::{sign_hmac, sign_jws},
    oauth::CC,
    server::*,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum M {
    Basic,
    Post,
    SecretJwt,
    KeyJwt,
}

impl M {
    fn name(self) -> &'static str {
        match self {
            M::Basic => "client_secret_basic",
            M::Post => "client_secret_post",
            M::SecretJwt => "client_secret_jwt",
            M::KeyJwt => "private_key_jwt",
        }
    }
}

/// Registers `id` for `m`; returns its secret (empty for `private_key_jwt`, which gets the
/// interop EC key).
async fn register(srv: &TestServer, id: &str, m: M) -> String {
    match m {
        M::KeyJwt => {
            srv.key_client(id, &[ec_jwk()], json!({})).await;
            String::new()
        }
        _ => {
            srv.create_client(
                json!({"client_id": id, "scope": "read", "token_endpoint_auth_method": m.name()}),
            )
            .await
            .1
        }
    }
}

/// A `client_credentials` request authenticated by `m` with `secret` (or the EC key).
async fn token(srv: &TestServer, id: &str, m: M, secret: &str) -> StatusCode {
    let resp = match m {
        M::Basic => srv.token_basic(id, secret, &[CC]).await,
        M::Post => srv.token_post(id, secret, &[CC]).await,
        M::SecretJwt => {
            let a = sign_hmac(secret.as_bytes(), &json!({"alg": "HS256"}), &srv.claims(id));
            srv.token_assertion(&a, &[]).await
        }
        M::KeyJwt => {
            let header = json!({"alg": "ES256", "kid": ec_kid()});
            srv.token_assertion(&sign_jws(&ec_key(), &header, &srv.claims(id)), &[])
                .await
        }
    };
    resp.status()
}

async fn switch(srv: &TestServer, id: &str, to: M) -> (StatusCode, Value) {
    srv.admin(
        Method::PATCH,
        &format!("/admin/clients/{id}"),
        Some(json!({"token_endpoint_auth_method": to.name()})),
    )
    .await
}

/// Gives a `private_key_jwt` client (switched from a secret method, so with no keys) the
/// interop EC key.
async fn add_ec_key(srv: &TestServer, id: &str) {
    let (status, body) = srv
        .admin(
            Method::POST,
            &format!("/admin/clients/{id}/credentials"),
            Some(json!({"format": "jwk", "data": ec_jwk().to_string()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// One switch: a token with `from` before; after, the response carries a secret exactly when
/// `generates`, the new method gets a token, the old one is refused, and the secret is not
/// shown again.
async fn check_switch(from: M, to: M, generates: bool) {
    let srv = TestServer::start().await;
    let id = "switching";
    let secret = register(&srv, id, from).await;
    assert_eq!(token(&srv, id, from, &secret).await, StatusCode::OK, "before");

    let (status, body) = switch(&srv, id, to).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_endpoint_auth_method"], to.name());
    let new_secret = body["client_secret"].as_str().map(str::to_owned);
    assert_eq!(new_secret.is_some(), generates, "secret in the answer: {body}");
    let secret = new_secret.unwrap_or(secret);

    if to == M::KeyJwt && from != M::KeyJwt {
        // The client has no keys yet: switching does not need any (as at registration).
        assert_eq!(token(&srv, id, M::KeyJwt, "").await, StatusCode::UNAUTHORIZED);
        add_ec_key(&srv, id).await;
    }
    assert_eq!(token(&srv, id, to, &secret).await, StatusCode::OK, "after");
    assert_eq!(
        token(&srv, id, from, &secret).await,
        StatusCode::UNAUTHORIZED,
        "the old method after the switch"
    );
    let (_, read) = srv
        .admin(Method::GET, &format!("/admin/clients/{id}"), None)
        .await;
    assert!(read.get("client_secret").is_none(), "shown once: {read}");
    assert_eq!(read["token_endpoint_auth_method"], to.name());
}

macro_rules! switches {
    ($($name:ident: $from:ident -> $to:ident, generates $gen:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            check_switch(M::$from, M::$to, $gen).await;
        }
    )*};
}

switches! {
    switch_basic_to_post: Basic -> Post, generates false;
    switch_basic_to_secret_jwt_generates_a_readable_secret: Basic -> SecretJwt, generates true;
    switch_basic_to_private_key_jwt: Basic -> KeyJwt, generates false;
    switch_post_to_basic: Post -> Basic, generates false;
    switch_post_to_secret_jwt_generates_a_readable_secret: Post -> SecretJwt, generates true;
    switch_post_to_private_key_jwt: Post -> KeyJwt, generates false;
    switch_secret_jwt_to_basic_keeps_the_secret: SecretJwt -> Basic, generates false;
    switch_secret_jwt_to_post_keeps_the_secret: SecretJwt -> Post, generates false;
    switch_secret_jwt_to_private_key_jwt: SecretJwt -> KeyJwt, generates false;
    switch_private_key_jwt_to_basic_generates_a_secret: KeyJwt -> Basic, generates true;
    switch_private_key_jwt_to_post_generates_a_secret: KeyJwt -> Post, generates true;
    switch_private_key_jwt_to_secret_jwt_generates_a_secret: KeyJwt -> SecretJwt, generates true;
}

#[tokio::test]
async fn switching_back_to_a_secret_method_restores_the_old_secret() {
    let srv = TestServer::start().await;
    let secret = register(&srv, "roundtrip", M::Basic).await;
    assert!(switch(&srv, "roundtrip", M::KeyJwt)
        .await
        .1
        .get("client_secret")
        .is_none());
    assert_eq!(
        token(&srv, "roundtrip", M::Basic, &secret).await,
        StatusCode::UNAUTHORIZED,
        "the secret is unusable while the client signs with keys"
    );
    let (status, body) = switch(&srv, "roundtrip", M::Basic).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("client_secret").is_none(), "no new secret: {body}");
    assert_eq!(token(&srv, "roundtrip", M::Basic, &secret).await, StatusCode::OK);
}

#[tokio::test]
async fn switching_back_to_private_key_jwt_restores_the_keys() {
    let srv = TestServer::start().await;
    register(&srv, "keys-back", M::KeyJwt).await;
    let before = credential_list(&srv, "keys-back").await;
    let secret = switch(&srv, "keys-back", M::Basic).await.1["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        token(&srv, "keys-back", M::KeyJwt, "").await,
        StatusCode::UNAUTHORIZED,
        "keys are unusable while the client uses a secret"
    );
    assert_eq!(token(&srv, "keys-back", M::Basic, &secret).await, StatusCode::OK);
    let (status, body) = switch(&srv, "keys-back", M::KeyJwt).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("client_secret").is_none());
    assert_eq!(credential_list(&srv, "keys-back").await, before);
    assert_eq!(token(&srv, "keys-back", M::KeyJwt, "").await, StatusCode::OK);
}

#[tokio::test]
async fn switching_away_from_a_jwks_uri_keeps_it_for_the_switch_back() {
    let srv = TestServer::start_with(|c| {
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
    })
    .await;
    let uri = "http://127.0.0.1:9/jwks.json";
    srv.create_client(
        json!({"client_id": "by-url", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri}),
    )
    .await;
    let (status, body) = switch(&srv, "by-url", M::Post).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["client_secret"].is_string());
    assert_eq!(body["jwks_uri"], uri, "kept, unused");
    let (status, body) = switch(&srv, "by-url", M::KeyJwt).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["jwks_uri"], uri);
}

#[tokio::test]
async fn rejects_switch_when_the_pinned_alg_does_not_fit_the_new_method() {
    let srv = TestServer::start().await;
    srv.key_client(
        "pinned",
        &[ec_jwk()],
        json!({"token_endpoint_auth_signing_alg": "ES256"}),
    )
    .await;
    let before = srv.snapshot().await;
    let (status, body) = switch(&srv, "pinned", M::SecretJwt).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_client_metadata");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains("token_endpoint_auth_signing_alg") && description.contains("ES256"),
        "{description}"
    );
    assert_eq!(srv.snapshot().await, before, "nothing changed");
    assert_eq!(token(&srv, "pinned", M::KeyJwt, "").await, StatusCode::OK);

    // Unpinning in the same change makes the switch valid.
    let (status, body) = srv
        .admin(
            Method::PATCH,
            "/admin/clients/pinned",
            Some(json!({"token_endpoint_auth_method": "client_secret_basic", "token_endpoint_auth_signing_alg": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["client_secret"].as_str().unwrap();
    assert_eq!(token(&srv, "pinned", M::Basic, secret).await, StatusCode::OK);
}

#[tokio::test]
async fn rejects_switch_to_a_secret_method_with_a_pinned_key_alg_left_in_place() {
    let srv = TestServer::start().await;
    srv.key_client(
        "pinned-basic",
        &[ec_jwk()],
        json!({"token_endpoint_auth_signing_alg": "ES256"}),
    )
    .await;
    let before = srv.snapshot().await;
    let (status, body) = switch(&srv, "pinned-basic", M::Basic).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_client_metadata");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("token_endpoint_auth_signing_alg"));
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn switch_is_audited_with_old_and_new_method_and_the_generated_secret_id() {
    let srv = TestServer::start().await;
    register(&srv, "audited", M::KeyJwt).await;
    let body = switch(&srv, "audited", M::Basic).await.1;
    let secret = body["client_secret"].as_str().unwrap().to_owned();
    let events = audit_events(&srv, "client_id=audited&action=client.update").await;
    let event = &events[0];
    assert_eq!(event["outcome"], "success");
    assert_eq!(
        event["detail"]["changes"]["token_endpoint_auth_method"],
        json!({"old": "private_key_jwt", "new": "client_secret_basic"})
    );
    let id = event["detail"]["secret_generated"]["id"].as_str().unwrap();
    assert!(id.starts_with("audited-"), "{id}");
    let text = events.iter().map(Value::to_string).collect::<String>();
    assert!(!text.contains(&secret), "the secret is never audited");
}

/// The token path caches clients: a switch takes effect for the very next request.
#[tokio::test]
async fn switch_takes_effect_on_the_next_request_despite_the_client_cache() {
    let srv = TestServer::start().await;
    let secret = register(&srv, "cached", M::Post).await;
    for _ in 0..3 {
        assert_eq!(token(&srv, "cached", M::Post, &secret).await, StatusCode::OK);
    }
    switch(&srv, "cached", M::Basic).await;
    assert_eq!(token(&srv, "cached", M::Basic, &secret).await, StatusCode::OK);
    assert_eq!(
        token(&srv, "cached", M::Post, &secret).await,
        StatusCode::UNAUTHORIZED
    );
}
