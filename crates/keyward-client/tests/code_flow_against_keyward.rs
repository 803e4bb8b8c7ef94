#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The library through keyward's own authorization code flow, on a loopback port: a user signs
//! in and consents in the browser pages, then the library exchanges the code, refreshes,
//! introspects and revokes, with `client_secret_basic` and with `private_key_jwt` (the interop
//! P-256 key, registered inline). And the refusals: another client's token cannot be revoked,
//! a wrong secret is `invalid_client`.

use std::{path::Path, sync::Arc};

use keyward_client::{ClientConfig, TokenClient};
use keyward_testkit::{
    code_flow::{code_client, code_for, create_user, Pkce, REDIRECT_URI, USER, USER_PASSWORD},
    console::ConsoleClient,
    fixtures::{ec_jwk, interop},
    server::TestServer,
};
use serde_json::{json, Value};

/// A server with the flow's user.
async fn server() -> TestServer {
    let srv = TestServer::start().await;
    create_user(&srv, USER, USER_PASSWORD).await;
    srv
}

/// A token client for the native `config`, written to `dir`, on the server's clock (its
/// assertions' `iat` is the server's now).
fn client(srv: &TestServer, dir: &Path, config: &Value) -> TokenClient {
    let path = dir.join(format!("{}.json", config["client_id"].as_str().unwrap()));
    std::fs::write(&path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
    TokenClient::builder(ClientConfig::load(&path).unwrap())
        .clock(Arc::new(srv.clock.clone()))
        .build()
        .unwrap()
}

/// A `client_secret_basic` code-flow client and its library client.
async fn secret_client(srv: &TestServer, dir: &Path) -> (String, TokenClient) {
    let (id, secret) = code_client(srv, json!({})).await;
    let config = json!({"issuer": srv.base, "client_id": id,
        "method": "client_secret_basic", "secret": secret});
    (id, client(srv, dir, &config))
}

/// A `private_key_jwt` code-flow client with the interop P-256 public key inline, and its
/// library client signing with the private half.
async fn key_client(srv: &TestServer, dir: &Path) -> (String, TokenClient) {
    let metadata = json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec_jwk()]}});
    let (id, secret) = code_client(srv, metadata).await;
    assert_eq!(secret, "", "a private_key_jwt client has no secret");
    let config = json!({"issuer": srv.base, "client_id": id, "method": "private_key_jwt",
        "key_file": interop("sample-ec256-private.pem").to_str().unwrap()});
    (id, client(srv, dir, &config))
}

/// A JWT's claims, read without verifying (the server's own tests verify its tokens).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&keyward_jose::b64_decode(payload).unwrap()).unwrap()
}

/// A code for client `id`, as the browser gets it after signing in as alice and consenting.
async fn code(srv: &TestServer, id: &str, pkce: &Pkce) -> String {
    let mut browser = ConsoleClient::new(srv);
    code_for(srv, &mut browser, id, pkce).await
}

/// The whole life of a grant through the library: code → tokens with an ID token for alice,
/// refresh → a new refresh token, introspection of both, revocation of the refresh token and
/// with it of the access tokens.
async fn walk(srv: &TestServer, id: &str, client: &TokenClient) {
    let pkce = Pkce::new();
    let code = code(srv, id, &pkce).await;
    let first = client
        .exchange_code(&code, REDIRECT_URI, Some(&pkce.verifier))
        .await
        .unwrap();
    let id_token = first.id_token.as_deref().expect("an ID token for scope openid");
    let id_claims = claims(id_token);
    assert_eq!(id_claims["sub"], USER);
    assert_eq!(id_claims["aud"], id);
    assert_eq!(id_claims["nonce"], "nonce-1");
    let first_refresh = first.refresh_token().expect("a refresh token").to_owned();

    let renewed = client.refresh(&first_refresh, None).await.unwrap();
    let refresh = renewed
        .refresh_token()
        .expect("a rotated refresh token")
        .to_owned();
    assert_ne!(refresh, first_refresh, "refresh tokens rotate");
    assert!(
        !client.introspect(&first_refresh).await.unwrap().active,
        "a used refresh token is no longer active"
    );

    let access = client.introspect(renewed.secret()).await.unwrap();
    assert!(access.active, "{access:?}");
    assert_eq!(access.username.as_deref(), Some(USER), "{access:?}");
    assert_eq!(access.sub.as_deref(), Some(USER), "{access:?}");
    assert_eq!(access.client_id.as_deref(), Some(id), "{access:?}");
    assert_eq!(access.token_type.as_deref(), Some("Bearer"), "{access:?}");
    assert!(access.exp.unwrap() > srv.clock_now(), "{access:?}");
    let scope = access.scope.as_deref().unwrap();
    assert!(scope.split(' ').any(|s| s == "read"), "{scope}");

    let described = client.introspect(&refresh).await.unwrap();
    assert!(described.active, "{described:?}");
    assert_eq!(described.token_type.as_deref(), Some("refresh_token"));
    assert_eq!(described.username.as_deref(), Some(USER));

    client.revoke(&refresh).await.unwrap();
    for (what, token) in [
        ("the refresh token", refresh.as_str()),
        ("the access token of the revoked grant", renewed.secret()),
        ("the first access token of the grant", first.secret()),
    ] {
        let answer = client.introspect(token).await.unwrap();
        assert_eq!(
            answer,
            keyward_client::Introspection::default(),
            "{what}: inactive and nothing more"
        );
    }
    assert!(
        client.refresh(&refresh, None).await.is_err(),
        "a revoked refresh token refreshes nothing"
    );
    // Revoking again is no error (RFC 7009 §2.2).
    client.revoke(&refresh).await.unwrap();
}

#[tokio::test]
async fn code_flow_with_client_secret_basic_exchanges_refreshes_introspects_and_revokes() {
    let srv = server().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, client) = secret_client(&srv, dir.path()).await;
    walk(&srv, &id, &client).await;
    assert_eq!(
        client.introspection_endpoint().await.unwrap(),
        srv.url("/introspect")
    );
    assert_eq!(client.revocation_endpoint().await.unwrap(), srv.url("/revoke"));
}

#[tokio::test]
async fn code_flow_with_private_key_jwt_exchanges_refreshes_introspects_and_revokes() {
    let srv = server().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, client) = key_client(&srv, dir.path()).await;
    walk(&srv, &id, &client).await;
}

#[tokio::test]
async fn another_clients_token_cannot_be_revoked_and_its_refresh_token_is_not_described() {
    let srv = server().await;
    let dir = tempfile::tempdir().unwrap();
    let (owner_id, owner) = secret_client(&srv, dir.path()).await;
    let (_, other) = key_client(&srv, dir.path()).await;
    let pkce = Pkce::new();
    let code = code(&srv, &owner_id, &pkce).await;
    let tokens = owner
        .exchange_code(&code, REDIRECT_URI, Some(&pkce.verifier))
        .await
        .unwrap();
    let refresh = tokens.refresh_token().unwrap();

    for token in [refresh, tokens.secret()] {
        let err = other.revoke(token).await.unwrap_err();
        assert_eq!(err.oauth_error(), Some("unauthorized_client"), "{err}");
    }
    // A refresh token is described only to its own client; an access token to any.
    assert!(!other.introspect(refresh).await.unwrap().active);
    assert!(other.introspect(tokens.secret()).await.unwrap().active);
    // Neither refused revocation touched the owner's grant.
    assert!(owner.introspect(refresh).await.unwrap().active);
    assert!(owner.introspect(tokens.secret()).await.unwrap().active);
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_at_introspection_and_revocation() {
    let srv = server().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, _) = code_client(&srv, json!({})).await;
    let config = json!({"issuer": srv.base, "client_id": id,
        "method": "client_secret_basic", "secret": "not-the-secret"});
    let client = client(&srv, dir.path(), &config);
    let err = client.introspect("whatever").await.unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_client"), "{err}");
    let err = client.revoke("whatever").await.unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_client"), "{err}");
}
