//! The token endpoint's wire format: Basic credentials, error answers, JWT parts.

use base64::{engine::general_purpose::STANDARD, Engine};
use reqwest::StatusCode;
use serde_json::Value;

/// The `grant_type` pair of a client credentials request.
pub const CC: (&str, &str) = ("grant_type", "client_credentials");

pub fn form_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `Basic base64(id:secret)` with both halves form-urlencoded first (RFC 6749 §2.3.1).
pub fn basic_header(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", form_escape(id), form_escape(secret)))
    )
}

/// Asserts an RFC 6749 §5.2 error response and returns its body.
pub async fn assert_error(resp: reqwest::Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(resp.status(), status);
    assert_eq!(
        resp.headers().get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    body
}

/// `WWW-Authenticate` of every failed Basic client authentication: RFC 6749 §5.2's challenge
/// with the error and the body's description, so clients that read only the challenge of a 401
/// (openid-client) see `invalid_client`.
pub const BASIC_CHALLENGE: &str =
    "Basic realm=\"keyward\", error=\"invalid_client\", error_description=\"client authentication failed\"";

/// Asserts the one `invalid_client` answer every authentication failure gets.
pub async fn assert_invalid_client(resp: reqwest::Response, used_basic: bool) {
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = assert_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(body["error_description"], "client authentication failed");
    if used_basic {
        assert_eq!(www.as_deref(), Some(BASIC_CHALLENGE));
    }
}

/// Asserts a 200 token response whose access token names `client_id`.
pub async fn assert_token_for(resp: reqwest::Response, client_id: &str) {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], client_id);
}

/// Decodes a JWT's header and claims without verifying (tests verify separately).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let jws = keyward_jose::CompactJws::parse(token).unwrap();
    (jwt_header(token), jws.claims().unwrap())
}

/// The JOSE header of a compact JWS, as JSON.
pub fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&keyward_jose::b64_decode(header).unwrap()).unwrap()
}

/// The `kid` in a JWS header.
pub fn kid_of(token: &str) -> String {
    keyward_jose::CompactJws::parse(token)
        .unwrap()
        .header
        .kid
        .unwrap()
}
