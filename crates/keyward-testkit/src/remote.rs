//! Talking to a keyward running as a process, by its base URL: tokens, the admin API, clients.
//! Answers come back as `(status, JSON body)` (the body as a JSON string when it is not JSON).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{
    oauth::{basic_header, CC},
    JWT_BEARER,
};

/// The bootstrap admin client's secret the process tests give their servers.
pub const ADMIN_SECRET: &str = "admin-secret-0123456789abcdef";

/// A client without proxies (the servers are on loopback) and with a timeout, so a hung server
/// fails the test instead of stalling it.
pub fn http() -> reqwest::Client {
    keyward_server::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

async fn answer(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn token_form(http: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    answer(
        http.post(format!("{base}/token"))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// `POST /token`, client credentials grant, `client_secret_basic`.
pub async fn token_basic(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> (StatusCode, Value) {
    let resp = http
        .post(format!("{base}/token"))
        .header("authorization", basic_header(id, secret))
        .form(&[CC])
        .send()
        .await
        .unwrap();
    answer(resp).await
}

/// `POST /token`, client credentials grant, `client_secret_post`.
pub async fn token_post(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> (StatusCode, Value) {
    token_form(http, base, &[CC, ("client_id", id), ("client_secret", secret)]).await
}

/// `POST /token`, client credentials grant, authenticated by a client assertion.
pub async fn token_assertion(http: &reqwest::Client, base: &str, assertion: &str) -> (StatusCode, Value) {
    let form = [
        CC,
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    token_form(http, base, &form).await
}

/// `GET /healthz`'s status; 504 when no answer came.
pub async fn healthz(http: &reqwest::Client, base: &str) -> StatusCode {
    match http.get(format!("{base}/healthz")).send().await {
        Ok(r) => r.status(),
        Err(_) => StatusCode::GATEWAY_TIMEOUT,
    }
}

/// The `access_token` of a 200 answer; panics with the answer otherwise.
pub fn access_token((status, body): &(StatusCode, Value)) -> String {
    assert_eq!(*status, StatusCode::OK, "token request failed: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Asserts a 401 `invalid_client` answer.
pub fn assert_invalid_client((status, body): &(StatusCode, Value)) {
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
}

/// A token for the bootstrap admin client with `secret`.
pub async fn admin_token_with(http: &reqwest::Client, base: &str, secret: &str) -> String {
    access_token(&token_basic(http, base, "keyward-admin", secret).await)
}

/// A token for the bootstrap admin client with [`ADMIN_SECRET`].
pub async fn admin_token(http: &reqwest::Client, base: &str) -> String {
    admin_token_with(http, base, ADMIN_SECRET).await
}

/// An admin API request with `token`.
pub async fn admin_as(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http.request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req.send().await.unwrap()).await
}

/// An admin API request with a fresh admin token ([`ADMIN_SECRET`]).
pub async fn admin(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let token = admin_token(http, base).await;
    admin_as(http, base, &token, method, path, body).await
}

/// Registers a client with the admin token `token`; returns `(client_id, client_secret or "")`.
pub async fn create_client_as(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    metadata: Value,
) -> (String, String) {
    let (status, body) = admin_as(http, base, token, Method::POST, "/admin/clients", Some(metadata)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["client_secret"].as_str().unwrap_or_default().to_owned();
    (body["client_id"].as_str().unwrap().to_owned(), secret)
}

/// Registers a client with a fresh admin token; returns `(client_id, client_secret or "")`.
pub async fn create_client(http: &reqwest::Client, base: &str, metadata: Value) -> (String, String) {
    let token = admin_token(http, base).await;
    create_client_as(http, base, &token, metadata).await
}

/// `GET url`, which must answer 200 with JSON.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let resp = http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.unwrap()
}
