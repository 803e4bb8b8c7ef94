//! The token client against a real keyward server: every client authentication method, the
//! Keycloak adapter config with keystores made by keytool, caching, single-flight refresh and
//! no retry on a refusal. The server's replay store counts the assertion-authenticated token
//! requests it received, one row per request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    path::Path,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use keyward_client::{
    ClientConfig, ClientError, Credential, TokenClient, TokenRequest, DEFAULT_TOKEN_EXPIRATION,
};
use keyward_testkit::{
    fixtures::{interop, interop_text, KEYPASS, STOREPASS},
    server::*,
};
use keyward_types::{ClientSecret, Clock, SigningAlg};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

fn client(srv: &TestServer, config: ClientConfig) -> TokenClient {
    TokenClient::builder(config)
        .clock(Arc::new(srv.clock.clone()))
        .retries(3, Duration::from_millis(500))
        .build()
        .unwrap()
}

fn config(srv: &TestServer, id: &str, credential: Credential) -> ClientConfig {
    ClientConfig {
        client_id: id.into(),
        issuer: srv.base.clone(),
        token_endpoint: None,
        credential,
        token_expiration: DEFAULT_TOKEN_EXPIRATION,
    }
}

fn secret(s: &str) -> ClientSecret {
    ClientSecret::from_presented(s.to_owned())
}

/// The token is the server's: it verifies against the server's JWKS and names the client.
async fn assert_issued_to(srv: &TestServer, token: &str, id: &str) {
    let claims = verify_with_jwks(srv, token).await;
    assert_eq!(claims["client_id"], id, "{claims}");
}

fn write_json(dir: &Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

fn public_jwk(name: &str) -> Value {
    serde_json::from_str(&interop_text(name)).unwrap()
}

#[tokio::test]
async fn client_secret_basic_gets_a_token() {
    let srv = TestServer::start().await;
    let (id, s) = srv.basic_client().await;
    let tc = client(&srv, config(&srv, &id, Credential::ClientSecretBasic(secret(&s))));
    let token = tc.token(&TokenRequest::default()).await.unwrap();
    assert_issued_to(&srv, token.secret(), &id).await;
}

#[tokio::test]
async fn client_secret_post_gets_a_token() {
    let srv = TestServer::start().await;
    let (id, s) = srv.post_client().await;
    let tc = client(&srv, config(&srv, &id, Credential::ClientSecretPost(secret(&s))));
    let request = TokenRequest {
        scope: Some("read".into()),
        audience: None,
    };
    let token = tc.token(&request).await.unwrap();
    assert_issued_to(&srv, token.secret(), &id).await;
}

#[tokio::test]
async fn client_secret_jwt_gets_a_token() {
    let srv = TestServer::start().await;
    let (id, s) = srv.secret_jwt_client("hs-client", json!({})).await;
    let credential = Credential::ClientSecretJwt {
        secret: secret(&s),
        alg: SigningAlg::HS256,
    };
    let tc = client(&srv, config(&srv, &id, credential));
    let token = tc.token(&TokenRequest::default()).await.unwrap();
    assert_issued_to(&srv, token.secret(), &id).await;
}

#[tokio::test]
async fn private_key_jwt_with_pem_key_gets_a_token() {
    let srv = TestServer::start().await;
    srv.key_client("pem-client", &[public_jwk("sample-ec256-public.jwk")], json!({}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.toml");
    std::fs::write(
        &path,
        format!(
            "issuer = \"{}\"\nclient_id = \"pem-client\"\nmethod = \"private_key_jwt\"\nkey_file = \"{}\"\n",
            srv.base,
            interop("sample-ec256-private.pem").display()
        ),
    )
    .unwrap();
    let tc = client(&srv, ClientConfig::load(&path).unwrap());
    let token = tc.token(&TokenRequest::default()).await.unwrap();
    assert_issued_to(&srv, token.secret(), "pem-client").await;
    assert_eq!(
        tc.jwks().keys[0].kid,
        public_jwk("sample-ec256-public.jwk")["kid"]
            .as_str()
            .map(str::to_owned)
    );
}

/// A Keycloak adapter config as a Java client holds it. Its issuer is always
/// `{auth-server-url}/realms/{realm}`; keyward's issuer is its base URL, so the test sets it.
fn keycloak_json(id: &str, jwt: Value) -> Value {
    json!({"realm": "demo", "auth-server-url": "http://keycloak.invalid", "resource": id,
        "ssl-required": "external", "credentials": {"jwt": jwt}})
}

#[tokio::test]
async fn keycloak_json_with_interop_jks_gets_a_token() {
    let srv = TestServer::start().await;
    srv.key_client("kc-jks", &[public_jwk("sample-rsa2048-public.jwk")], json!({}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(interop("sample-rsa2048.jks"), dir.path().join("client.jks")).unwrap();
    let path = write_json(
        dir.path(),
        "keycloak.json",
        &keycloak_json(
            "kc-jks",
            json!({
                "client-keystore-file": "classpath:client.jks", "client-keystore-type": "JKS",
                "client-keystore-password": STOREPASS, "client-key-password": KEYPASS,
                "client-key-alias": "clientkey", "token-expiration": 10
            }),
        ),
    );
    let config = ClientConfig::load(&path).unwrap();
    assert_eq!(config.issuer, "http://keycloak.invalid/realms/demo");
    let tc = client(&srv, config.with_issuer(srv.base.clone()));
    let token = tc.token(&TokenRequest::default()).await.unwrap();
    assert_issued_to(&srv, token.secret(), "kc-jks").await;
}

#[tokio::test]
async fn keycloak_json_with_interop_pkcs12_gets_a_token() {
    let srv = TestServer::start().await;
    srv.key_client("kc-p12", &[public_jwk("sample-rsa2048-public.jwk")], json!({}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(
        dir.path(),
        "keycloak.json",
        &keycloak_json(
            "kc-p12",
            json!({
                "client-keystore-file": interop("sample-rsa2048-keytool.p12").to_str().unwrap(),
                "client-keystore-type": "PKCS12", "client-keystore-password": STOREPASS,
                "client-key-alias": "clientkey"
            }),
        ),
    );
    let tc = client(
        &srv,
        ClientConfig::load(&path).unwrap().with_issuer(srv.base.clone()),
    );
    let token = tc.token(&TokenRequest::default()).await.unwrap();
    assert_issued_to(&srv, token.secret(), "kc-p12").await;
}

async fn key_client(srv: &TestServer, id: &str) -> TokenClient {
    srv.key_client(id, &[public_jwk("sample-ec256-public.jwk")], json!({}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(
        dir.path(),
        "c.json",
        &json!({
            "issuer": srv.base, "client_id": id, "method": "private_key_jwt",
            "key_file": interop("sample-ec256-private.pem").to_str().unwrap()
        }),
    );
    client(srv, ClientConfig::load(&path).unwrap())
}

#[tokio::test]
async fn second_call_is_served_from_the_cache() {
    let srv = TestServer::start().await;
    let tc = key_client(&srv, "cached").await;
    let first = tc.token(&TokenRequest::default()).await.unwrap();
    let second = tc.token(&TokenRequest::default()).await.unwrap();
    assert_eq!(first.secret(), second.secret());
    assert_eq!(
        srv.replay_entries().await,
        1,
        "one token request reached the server"
    );
}

#[tokio::test]
async fn cached_token_is_renewed_shortly_before_expiry() {
    let srv = TestServer::start().await;
    let tc = key_client(&srv, "renewed").await;
    let first = tc.token(&TokenRequest::default()).await.unwrap();
    let lifetime = first.expires_at - srv.clock.now();
    srv.clock.advance(lifetime - time::Duration::seconds(1));
    let second = tc.token(&TokenRequest::default()).await.unwrap();
    assert_ne!(first.secret(), second.secret());
    assert_eq!(srv.replay_entries().await, 2);
}

#[tokio::test]
async fn fifty_concurrent_callers_make_one_request() {
    let srv = TestServer::start().await;
    let tc = key_client(&srv, "single-flight").await;
    let calls = (0..50).map(|_| {
        let tc = tc.clone();
        tokio::spawn(async move { tc.token(&TokenRequest::default()).await.unwrap() })
    });
    let tokens: Vec<_> = futures_join(calls.collect()).await;
    assert!(tokens.iter().all(|t| t.secret() == tokens[0].secret()));
    assert_eq!(
        srv.replay_entries().await,
        1,
        "one token request reached the server"
    );
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn refused_credentials_are_not_retried() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    let tc = TokenClient::builder(config(&srv, &id, Credential::ClientSecretBasic(secret("wrong"))))
        .clock(Arc::new(srv.clock.clone()))
        .retries(3, Duration::from_secs(3))
        .build()
        .unwrap();
    tc.token_endpoint().await.unwrap();
    let started = std::time::Instant::now();
    let err = tc.token(&TokenRequest::default()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a retry would have waited 3 s"
    );
    assert_eq!(err.oauth_error(), Some("invalid_client"));
    assert!(matches!(err, ClientError::Server { status: 401, .. }), "{err}");
}

/// A token endpoint that answers 503 `failures` times, then a token; counts the requests.
async fn flaky_endpoint(failures: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let n = seen.fetch_add(1, Ordering::SeqCst);
            // Read the whole request (headers, then the Content-Length body) before answering.
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let read = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..read]);
                let text = String::from_utf8_lossy(&request).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    if request.len() >= end + 4 + length || read == 0 {
                        break;
                    }
                }
            }
            let (status, body) = if n < failures {
                (
                    "503 Service Unavailable",
                    r#"{"error":"temporarily_unavailable"}"#,
                )
            } else {
                (
                    "200 OK",
                    r#"{"access_token":"stub-token","token_type":"Bearer","expires_in":300}"#,
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
        }
    });
    (url, count)
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let (url, count) = flaky_endpoint(2).await;
    let config = ClientConfig {
        client_id: "svc".into(),
        issuer: "http://issuer.invalid".into(),
        token_endpoint: Some(url),
        credential: Credential::ClientSecretPost(secret("s")),
        token_expiration: DEFAULT_TOKEN_EXPIRATION,
    };
    let tc = TokenClient::builder(config)
        .retries(3, Duration::from_millis(10))
        .build()
        .unwrap();
    let token = tc.token(&TokenRequest::default()).await.unwrap();
    assert_eq!(token.secret(), "stub-token");
    assert_eq!(count.load(Ordering::SeqCst), 3, "two 503s, then the token");
}

#[tokio::test]
async fn gives_up_after_the_retries_with_the_server_error() {
    let (url, count) = flaky_endpoint(usize::MAX).await;
    let config = ClientConfig {
        client_id: "svc".into(),
        issuer: "http://issuer.invalid".into(),
        token_endpoint: Some(url),
        credential: Credential::ClientSecretPost(secret("s")),
        token_expiration: DEFAULT_TOKEN_EXPIRATION,
    };
    let tc = TokenClient::builder(config)
        .retries(2, Duration::from_millis(10))
        .build()
        .unwrap();
    let err = tc.token(&TokenRequest::default()).await.unwrap_err();
    assert_eq!(err.oauth_error(), Some("temporarily_unavailable"));
    assert_eq!(
        count.load(Ordering::SeqCst),
        3,
        "the first attempt and two retries"
    );
}
