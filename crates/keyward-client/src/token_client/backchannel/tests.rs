//! Introspection and revocation against a stub issuer: what is sent, how the answer is read,
//! a missing endpoint and a refusal as typed errors, and one metadata fetch for all endpoints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use keyward_types::ClientSecret;
use serde_json::{json, Value};

use crate::{ClientConfig, ClientError, Credential, Introspection, TokenClient, DEFAULT_TOKEN_EXPIRATION};

/// What the stub saw: metadata fetches, and the last back-channel request's Authorization
/// header and form.
#[derive(Default)]
struct Seen {
    metadata: AtomicUsize,
    last: Mutex<Option<(String, String)>>,
}

/// An issuer whose metadata is `metadata` (with `{base}` replaced by its address) and whose
/// `/introspect` and `/revoke` answer `(status, body)`.
async fn issuer(metadata: Value, status: u16, body: &'static str) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let metadata: Value = serde_json::from_str(&metadata.to_string().replace("{base}", &base)).unwrap();
    let seen = Arc::new(Seen::default());
    let answer = {
        let seen = seen.clone();
        move |headers: HeaderMap, form: String| {
            let seen = seen.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                *seen.last.lock().unwrap() = Some((auth.unwrap_or_default(), form));
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
            }
        }
    };
    let counter = seen.clone();
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                counter.metadata.fetch_add(1, Ordering::SeqCst);
                let metadata = metadata.clone();
                async move { Json(metadata) }
            }),
        )
        .route("/introspect", post(answer.clone()))
        .route("/revoke", post(answer));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

fn client(issuer: &str) -> TokenClient {
    let config = ClientConfig {
        client_id: "rs".into(),
        issuer: issuer.into(),
        token_endpoint: None,
        credential: Credential::ClientSecretBasic(ClientSecret::from_presented("s".into())),
        token_expiration: DEFAULT_TOKEN_EXPIRATION,
    };
    TokenClient::builder(config)
        .retries(0, Duration::from_millis(1))
        .build()
        .unwrap()
}

fn full_metadata() -> Value {
    json!({"issuer": "{base}", "token_endpoint": "{base}/token",
        "introspection_endpoint": "{base}/introspect", "revocation_endpoint": "{base}/revoke"})
}

#[tokio::test]
async fn introspection_sends_the_token_with_the_clients_authentication_and_reads_the_answer() {
    let body = r#"{"active":true,"scope":"read","client_id":"app","sub":"alice","username":"alice",
        "exp":2000000000,"token_type":"Bearer","aud":["x"],"jti":"j","ext":{"n":1}}"#;
    let (base, seen) = issuer(full_metadata(), 200, body).await;
    let answer = client(&base).introspect("tok-1").await.unwrap();
    assert_eq!(
        answer,
        Introspection {
            active: true,
            scope: Some("read".into()),
            client_id: Some("app".into()),
            sub: Some("alice".into()),
            username: Some("alice".into()),
            exp: Some(2_000_000_000),
            token_type: Some("Bearer".into()),
        }
    );
    let (auth, form) = seen.last.lock().unwrap().clone().unwrap();
    assert!(auth.starts_with("Basic "), "{auth}");
    assert_eq!(form, "token=tok-1");
}

#[tokio::test]
async fn an_inactive_answer_is_active_false_and_nothing_else() {
    let (base, _) = issuer(full_metadata(), 200, r#"{"active":false}"#).await;
    let answer = client(&base).introspect("tok").await.unwrap();
    assert_eq!(answer, Introspection::default());
}

#[tokio::test]
async fn an_answer_without_active_is_a_bad_response() {
    let (base, _) = issuer(full_metadata(), 200, r#"{"scope":"read"}"#).await;
    let err = client(&base).introspect("tok").await.unwrap_err();
    assert!(matches!(err, ClientError::BadResponse { .. }), "{err}");
}

#[tokio::test]
async fn revocation_posts_the_token_and_a_refusal_is_the_servers_oauth_error() {
    let (base, seen) = issuer(full_metadata(), 200, "").await;
    client(&base).revoke("rt-1").await.unwrap();
    assert_eq!(seen.last.lock().unwrap().clone().unwrap().1, "token=rt-1");

    let refusal = r#"{"error":"unauthorized_client","error_description":"not yours"}"#;
    let (base, _) = issuer(full_metadata(), 400, refusal).await;
    let err = client(&base).revoke("rt-1").await.unwrap_err();
    assert_eq!(err.oauth_error(), Some("unauthorized_client"));
    let (base, _) = issuer(full_metadata(), 401, r#"{"error":"invalid_client"}"#).await;
    let err = client(&base).introspect("tok").await.unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_client"));
}

#[tokio::test]
async fn a_missing_endpoint_is_a_typed_error_and_the_metadata_is_fetched_once() {
    let (base, seen) = issuer(json!({"token_endpoint": "{base}/token"}), 200, "{}").await;
    let client = client(&base);
    let err = client.introspect("tok").await.unwrap_err();
    assert!(
        matches!(err, ClientError::NoEndpoint("introspection_endpoint")),
        "{err}"
    );
    let err = client.revoke("tok").await.unwrap_err();
    assert!(
        matches!(err, ClientError::NoEndpoint("revocation_endpoint")),
        "{err}"
    );
    assert_eq!(client.token_endpoint().await.unwrap(), format!("{base}/token"));
    assert_eq!(seen.metadata.load(Ordering::SeqCst), 1);
    assert!(seen.last.lock().unwrap().is_none(), "nothing was posted");
}
