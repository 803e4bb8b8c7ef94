#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The library against a real keyward on a loopback port: every client authentication method,
//! the Keycloak adapter config with the interop JKS and PKCS#12 files, caching, single-flight,
//! typed errors, and a rotation to the next key served from the client's own JWKS.

use std::{path::Path, sync::Arc};

use axum::{routing::get, Json, Router};
use keyward_client::{ClientConfig, ClientError, TokenClient, TokenRequest};
use keyward_testkit::{
    fixtures::{interop, interop_text, KEYPASS, STOREPASS},
    server::TestServer,
};
use serde_json::{json, Value};

fn write(dir: &Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

/// A token client for `config`, on the server's clock (its assertions' `iat` is the server's
/// now) and with the server's issuer when the config is a Keycloak one.
fn client(srv: &TestServer, path: &Path) -> TokenClient {
    let config = ClientConfig::load(path).unwrap().with_issuer(&srv.base);
    TokenClient::builder(config)
        .clock(Arc::new(srv.clock.clone()))
        .build()
        .unwrap()
}

/// Registers `metadata` and writes a native config for it with `fields` added.
async fn native(srv: &TestServer, dir: &Path, metadata: Value, fields: Value) -> TokenClient {
    let (id, secret) = srv.create_client(metadata).await;
    let mut config = json!({"issuer": srv.base, "client_id": id, "secret": secret});
    for (k, v) in fields.as_object().unwrap() {
        config[k] = v.clone();
    }
    client(srv, &write(dir, "client.json", &config))
}

/// The token's claims, read without verifying (the server's own tests verify its tokens).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&keyward_jose::b64_decode(payload).unwrap()).unwrap()
}

async fn token(client: &TokenClient, scope: &str) -> Result<String, ClientError> {
    let request = TokenRequest {
        scope: Some(scope.into()),
        audience: None,
    };
    client.token(&request).await.map(|t| t.secret().to_owned())
}

#[tokio::test]
async fn every_secret_method_gets_a_token_through_discovery() {
    let srv = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (i, method) in ["client_secret_basic", "client_secret_post", "client_secret_jwt"]
        .into_iter()
        .enumerate()
    {
        let metadata =
            json!({"client_id": format!("svc-{i}"), "token_endpoint_auth_method": method, "scope": "read"});
        let client = native(&srv, dir.path(), metadata, json!({"method": method})).await;
        let token = token(&client, "read").await.unwrap();
        let claims = claims(&token);
        assert_eq!(claims["client_id"], format!("svc-{i}"), "{method}");
        assert_eq!(claims["scope"], "read", "{method}");
        assert_eq!(
            client.token_endpoint().await.unwrap(),
            srv.url("/token"),
            "discovered"
        );
    }
}

#[tokio::test]
async fn keycloak_json_with_the_interop_jks_gets_a_token() {
    let srv = TestServer::start().await;
    let jwk: Value = serde_json::from_str(&interop_text("sample-rsa2048-public.jwk")).unwrap();
    srv.create_client(
        json!({"client_id": "kc-app", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [jwk]}, "scope": "read"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let keycloak = json!({
        "realm": "demo", "auth-server-url": "http://unused.example", "resource": "kc-app",
        "credentials": {"jwt": {
            "client-keystore-file": interop("sample-rsa2048.jks").to_str().unwrap(),
            "client-keystore-type": "JKS", "client-keystore-password": STOREPASS,
            "client-key-password": KEYPASS, "client-key-alias": "clientkey", "token-expiration": 10
        }}
    });
    let client = client(&srv, &write(dir.path(), "keycloak.json", &keycloak));
    let token = token(&client, "read").await.unwrap();
    assert_eq!(claims(&token)["client_id"], "kc-app");
}

#[tokio::test]
async fn keycloak_json_with_the_interop_pkcs12_and_ps256_gets_a_token() {
    let srv = TestServer::start().await;
    let jwk: Value = serde_json::from_str(&interop_text("sample-rsa2048-public.jwk")).unwrap();
    let mut jwk = jwk;
    jwk.as_object_mut().unwrap().remove("alg");
    srv.create_client(
        json!({"client_id": "kc-p12", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [jwk]}, "scope": "read"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    // The classpath: prefix resolves against the config's directory.
    std::fs::copy(
        interop("sample-rsa2048-keytool.p12"),
        dir.path().join("client.p12"),
    )
    .unwrap();
    let keycloak = json!({
        "realm": "demo", "auth-server-url": "http://unused.example", "resource": "kc-p12",
        "credentials": {"jwt": {
            "client-keystore-file": "classpath:client.p12", "client-keystore-type": "PKCS12",
            "client-keystore-password": "${env.KW_TEST_STOREPASS}", "client-key-alias": "clientkey",
            "algorithm": "PS256"
        }}
    });
    let path = write(dir.path(), "keycloak.json", &keycloak);
    let env = |name: &str| (name == "KW_TEST_STOREPASS").then(|| STOREPASS.to_owned());
    let config = ClientConfig::load_with(&path, &env)
        .unwrap()
        .with_issuer(&srv.base);
    let client = TokenClient::builder(config)
        .clock(Arc::new(srv.clock.clone()))
        .build()
        .unwrap();
    let assertion = client.assertion().unwrap().unwrap();
    let header: Value =
        serde_json::from_slice(&keyward_jose::b64_decode(assertion.split('.').next().unwrap()).unwrap())
            .unwrap();
    assert_eq!(header["alg"], "PS256");
    assert_eq!(
        claims(&token(&client, "read").await.unwrap())["client_id"],
        "kc-p12"
    );
}

#[tokio::test]
async fn a_cached_token_is_handed_out_again_until_shortly_before_it_expires() {
    let srv = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = native(
        &srv,
        dir.path(),
        json!({"client_id": "cached", "scope": "read write"}),
        json!({"method": "client_secret_basic"}),
    )
    .await;
    let first = token(&client, "read").await.unwrap();
    // keyward puts a fresh jti in every token: the same string is the same response.
    assert_eq!(token(&client, "read").await.unwrap(), first);
    // Another scope is another cache entry.
    let other = token(&client, "write").await.unwrap();
    assert_ne!(other, first);
    // 300 s tokens are refreshed 30 s before they expire.
    let lifetime = claims(&first)["exp"].as_i64().unwrap() - claims(&first)["iat"].as_i64().unwrap();
    srv.clock.advance(time::Duration::seconds(lifetime - 31));
    assert_eq!(token(&client, "read").await.unwrap(), first);
    srv.clock.advance(time::Duration::seconds(2));
    assert_ne!(token(&client, "read").await.unwrap(), first);
}

#[tokio::test]
async fn fifty_concurrent_callers_share_one_request() {
    let srv = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = native(
        &srv,
        dir.path(),
        json!({"client_id": "herd", "token_endpoint_auth_method": "client_secret_jwt", "scope": "read"}),
        json!({"method": "client_secret_jwt"}),
    )
    .await;
    let before = srv.replay_entries().await;
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { token(&client, "read").await.unwrap() })
    });
    let tokens: Vec<String> = futures_join(calls).await;
    assert_eq!(tokens.len(), 50);
    assert!(tokens.iter().all(|t| t == &tokens[0]), "one response for all");
    // Every assertion the server accepts leaves one row in its replay store: one request.
    assert_eq!(srv.replay_entries().await - before, 1);
}

async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_refused_request_is_a_typed_error_with_the_servers_error() {
    let srv = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    srv.create_client(json!({"client_id": "wrong", "scope": "read"}))
        .await;
    let config = json!({"issuer": srv.base, "client_id": "wrong", "method": "client_secret_basic",
        "secret": "not-the-secret"});
    let client = client(&srv, &write(dir.path(), "c.json", &config));
    let err = token(&client, "read").await.unwrap_err();
    match &err {
        ClientError::Server { status, error, .. } => {
            assert_eq!((*status, error.as_str()), (401, "invalid_client"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.oauth_error(), Some("invalid_client"));
    assert!(!format!("{err} {err:?}").contains("not-the-secret"));
}

/// The client's own JWKS, served the way `keyward client serve-jwks` serves it.
async fn serve_jwks(client: TokenClient) -> String {
    let app = Router::new().route(
        "/k_jwks",
        get(move || {
            let client = client.clone();
            async move { Json(serde_json::to_value(client.jwks()).unwrap()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/k_jwks")
}

#[tokio::test]
async fn rotation_to_the_next_key_fails_no_request() {
    let srv = TestServer::start_with(|c| {
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = json!({
        "issuer": srv.base, "client_id": "rotating", "method": "private_key_jwt",
        "key_file": interop("sample-ec256-private.pem").to_str().unwrap(),
        "next_key": {"key_file": interop("sample-rsa2048-keytool.p12").to_str().unwrap(),
            "store_password": STOREPASS, "key_alias": "clientkey", "kid": "next-rsa"}
    });
    let client = client(&srv, &write(dir.path(), "c.json", &config));
    assert_eq!(client.jwks().keys.len(), 2, "current and next are published");
    let jwks_uri = serve_jwks(client.clone()).await;
    srv.create_client(
        json!({"client_id": "rotating", "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": jwks_uri, "scope": "a b"}),
    )
    .await;
    token(&client, "a").await.unwrap();
    assert!(client.rotate());
    let after = client.assertion().unwrap().unwrap();
    assert!(after.starts_with(&keyward_jose::b64_encode(b"{\"alg\":\"RS256\"")));
    // A new scope: not cached, so this request is signed with the next key.
    token(&client, "b").await.unwrap();
    assert_eq!(client.jwks().keys.len(), 1);
}
