#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Retries, against a token endpoint that answers from a script: a 5xx or a dropped connection
//! is asked again after a backoff, a 4xx never, and what the server said reaches the caller.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{http::StatusCode, routing::post, Router};
use keyward_client::{
    ClientConfig, ClientError, Credential, TokenClient, TokenRequest, DEFAULT_TOKEN_EXPIRATION,
};
use keyward_types::ClientSecret;

/// A token endpoint that answers each request with the next `(status, body)` of its script.
struct Scripted {
    url: String,
    hits: Arc<AtomicUsize>,
}

async fn scripted(script: Vec<(u16, &'static str)>) -> Scripted {
    let hits = Arc::new(AtomicUsize::new(0));
    let script = Arc::new(Mutex::new(script.into_iter()));
    let counter = hits.clone();
    let app = Router::new().route(
        "/token",
        post(move || {
            let (script, counter) = (script.clone(), counter.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let (status, body) = script.lock().unwrap().next().unwrap_or((500, "{}"));
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Scripted {
        url: format!("http://{addr}/token"),
        hits,
    }
}

fn client(endpoint: &str, retries: u32) -> TokenClient {
    let config = ClientConfig {
        client_id: "svc".into(),
        issuer: "http://issuer.test".into(),
        token_endpoint: Some(endpoint.into()),
        credential: Credential::ClientSecretBasic(ClientSecret::from_presented("s".into())),
        token_expiration: DEFAULT_TOKEN_EXPIRATION,
    };
    TokenClient::builder(config)
        .retries(retries, Duration::from_millis(10))
        .build()
        .unwrap()
}

const TOKEN: &str = r#"{"access_token":"at-1","token_type":"Bearer","expires_in":300}"#;

#[tokio::test]
async fn a_503_is_retried_and_the_next_answer_is_used() {
    let stub = scripted(vec![
        (503, r#"{"error":"temporarily_unavailable"}"#),
        (200, TOKEN),
    ])
    .await;
    let token = client(&stub.url, 3)
        .token(&TokenRequest::default())
        .await
        .unwrap();
    assert_eq!(token.secret(), "at-1");
    assert_eq!(stub.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_401_is_not_retried_and_carries_the_servers_error() {
    let stub = scripted(vec![
        (
            401,
            r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
        ),
        (200, TOKEN),
    ])
    .await;
    let err = client(&stub.url, 3)
        .token(&TokenRequest::default())
        .await
        .unwrap_err();
    let ClientError::Server {
        status,
        error,
        description,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*status, error.as_str(), description.as_deref()),
        (401, "invalid_client", Some("client authentication failed"))
    );
    assert_eq!(stub.hits.load(Ordering::SeqCst), 1, "a 4xx is never retried");
}

#[tokio::test]
async fn retries_are_bounded_and_the_last_5xx_is_reported() {
    let stub = scripted(vec![(502, "bad gateway"); 10]).await;
    let err = client(&stub.url, 2)
        .token(&TokenRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(&err, ClientError::Server { status: 502, .. }), "{err:?}");
    assert_eq!(stub.hits.load(Ordering::SeqCst), 3, "one try and two retries");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    // A port nothing listens on: bind, read the port, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = client(&format!("http://{addr}/token"), 1)
        .token(&TokenRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(&err, ClientError::Http { .. }), "{err:?}");
}
