//! Registering clients and their credentials on a [`TestServer`], assertions for them, and what
//! the admin API reports back.

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::server::TestServer;

impl TestServer {
    /// A `client_secret_basic` client with scope `read write`.
    pub async fn basic_client(&self) -> (String, String) {
        self.create_client(json!({"client_id": "svc-basic", "scope": "read write"}))
            .await
    }

    /// A `client_secret_post` client with scope `read write`.
    pub async fn post_client(&self) -> (String, String) {
        self.create_client(json!({"client_id": "svc-post", "scope": "read write", "token_endpoint_auth_method": "client_secret_post"}))
            .await
    }

    /// A `private_key_jwt` client registered with the given public JWKs.
    pub async fn key_client(&self, id: &str, keys: &[Value], extra: Value) -> String {
        let meta = json!({
            "client_id": id, "scope": "read write",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": keys},
        });
        self.create_client(merged(meta, extra)).await.0
    }

    /// A `client_secret_jwt` client; returns `(client_id, secret)`.
    pub async fn secret_jwt_client(&self, id: &str, extra: Value) -> (String, String) {
        let meta =
            json!({"client_id": id, "scope": "read", "token_endpoint_auth_method": "client_secret_jwt"});
        self.create_client(merged(meta, extra)).await
    }

    /// Valid assertion claims for `client_id`: iss = sub = client, aud = issuer, 30 s lifetime.
    pub fn claims(&self, client_id: &str) -> Value {
        crate::jose::assertion_claims(client_id, &self.base, self.clock_now(), 30)
    }
}

/// `base` with the members of `extra` set over it.
fn merged(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        base[k] = v;
    }
    base
}

/// Verifies a token this server issued against its published `/jwks` (key by `kid`, algorithm
/// from the header) and returns the claims.
pub async fn verify_with_jwks(srv: &TestServer, token: &str) -> Value {
    crate::jose::verify_at(&srv.http, &srv.base, token).await
}

/// A `private_key_jwt` client holding the interop EC P-256 key.
pub async fn ec_client(srv: &TestServer, id: &str) {
    srv.key_client(id, &[crate::fixtures::ec_jwk()], json!({})).await;
}

/// A `private_key_jwt` client with scope `read` and an empty credential list.
pub async fn empty_key_client(srv: &TestServer, id: &str) -> String {
    srv.create_client(
        json!({"client_id": id, "token_endpoint_auth_method": "private_key_jwt", "scope": "read"}),
    )
    .await
    .0
}

/// `POST /admin/clients/{id}/credentials` (import).
pub async fn import(srv: &TestServer, id: &str, body: Value) -> (StatusCode, Value) {
    srv.admin(
        reqwest::Method::POST,
        &format!("/admin/clients/{id}/credentials"),
        Some(body),
    )
    .await
}

/// `POST /admin/clients/{id}/credentials/generate`, as the raw response (headers matter).
pub async fn generate_raw(srv: &TestServer, id: &str, body: Value) -> reqwest::Response {
    let token = srv.admin_token().await;
    srv.http
        .post(srv.url(&format!("/admin/clients/{id}/credentials/generate")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The client's credential list (`GET .../credentials`), as the array.
pub async fn credential_list(srv: &TestServer, id: &str) -> Value {
    let (status, body) = srv
        .admin(
            reqwest::Method::GET,
            &format!("/admin/clients/{id}/credentials"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["credentials"].clone()
}

/// Every audit event, newest first (one page of 500), and the raw text of that page.
pub async fn audit_log(srv: &TestServer) -> (Vec<Value>, String) {
    let token = srv.admin_token().await;
    let text = srv
        .http
        .get(srv.url("/admin/audit?limit=500"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    (body["events"].as_array().unwrap().clone(), text)
}

/// `GET /admin/audit?{query}` with a fresh admin token: the status and the body.
pub async fn audit_query(srv: &TestServer, query: &str) -> (StatusCode, Value) {
    srv.admin(reqwest::Method::GET, &format!("/admin/audit?{query}"), None)
        .await
}

/// The events of `GET /admin/audit?{query}`, which must succeed.
pub async fn audit_events(srv: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = audit_query(srv, query).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body["events"].as_array().unwrap().clone()
}

/// The server clock as RFC 3339 `seconds` from now, whole seconds.
pub fn rfc3339_from_now(srv: &TestServer, seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(srv.clock_now() + seconds)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
