//! Client assertions, token verification against a `/jwks`, and a JWKS URL the test controls.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_jose::{CompactJws, Jwks, SigningKey, VerifyingKey};
use keyward_types::SigningAlg;
use serde_json::{json, Value};

use super::ISSUER;

// --- JWS --------------------------------------------------------------------------------------

fn interop(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/interop")
        .join(name)
}

/// The interop EC P-256 public JWK (`shared/interop/sample-ec256-public.jwk` beside the repository).
pub fn ec_jwk() -> Value {
    serde_json::from_str(&std::fs::read_to_string(interop("sample-ec256-public.jwk")).unwrap()).unwrap()
}

/// The interop EC P-256 private key, and its JWK's `kid`.
pub fn ec_key() -> (SigningKey, String) {
    let text = std::fs::read_to_string(interop("sample-ec256-private.pem")).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = zeroize::Zeroizing::new(STANDARD.decode(body).unwrap());
    let key = SigningKey::from_pkcs8(SigningAlg::ES256, der).unwrap();
    (key, ec_jwk()["kid"].as_str().unwrap().to_owned())
}

/// Assertion claims for `client_id`: iss = sub = client, aud = issuer, 60 s, a random jti.
pub fn claims(client_id: &str) -> (Value, String) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let jti = uuid::Uuid::new_v4().to_string();
    let claims =
        json!({"iss": client_id, "sub": client_id, "aud": ISSUER, "iat": now, "exp": now + 60, "jti": jti});
    (claims, jti)
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        keyward_jose::b64_encode(header.to_string()),
        keyward_jose::b64_encode(claims.to_string())
    )
}

/// A `private_key_jwt` assertion signed by `key` with header `{alg, kid}`; returns it and its jti.
pub fn key_assertion(key: &SigningKey, kid: &str, client_id: &str) -> (String, String) {
    let (claims, jti) = claims(client_id);
    let input = signing_input(&json!({"alg": key.alg().as_str(), "kid": kid}), &claims);
    let sig = key.sign(input.as_bytes()).unwrap();
    (format!("{input}.{}", keyward_jose::b64_encode(sig)), jti)
}

/// A `client_secret_jwt` assertion, HS256 with the client secret.
pub fn hs256_assertion(secret: &str, client_id: &str) -> String {
    use aws_lc_rs::hmac;
    let input = signing_input(&json!({"alg": "HS256"}), &claims(client_id).0);
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        input.as_bytes(),
    );
    format!("{input}.{}", keyward_jose::b64_encode(tag.as_ref()))
}

/// The `kid` in a JWS header.
pub fn kid_of(token: &str) -> String {
    CompactJws::parse(token).unwrap().header.kid.unwrap()
}

/// Verifies `token` with the key of its `kid` in `base`'s `/jwks`; the claims, or why not.
pub async fn verify_with_jwks(http: &reqwest::Client, base: &str, token: &str) -> Result<Value, String> {
    let jwks: Jwks = http
        .get(format!("{base}/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jws = CompactJws::parse(token).map_err(|e| e.to_string())?;
    let kid = jws.header.kid.clone().ok_or("token without kid")?;
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid.as_str()))
        .ok_or_else(|| format!("kid {kid} not in {base}/jwks"))?;
    let alg = jws.header.alg.parse().map_err(|_| "unknown alg".to_owned())?;
    let key = VerifyingKey::from_jwk(jwk, alg).map_err(|e| e.to_string())?;
    key.verify(jws.signing_input.as_bytes(), &jws.signature)
        .map_err(|e| format!("signature of {kid}: {e}"))?;
    jws.claims().map_err(|e| e.to_string())
}

// --- A JWKS URL the test controls -------------------------------------------------------------

/// Serves whatever document is set, at any path, over plain HTTP/1.1 on loopback.
pub struct JwksServer {
    pub url: String,
    body: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(keys: &[Value]) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new(json!({ "keys": keys }).to_string()));
        let served = body.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let served = served.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = served.lock().unwrap().clone();
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(resp.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Self { url, body, task }
    }

    pub fn set_keys(&self, keys: &[Value]) {
        *self.body.lock().unwrap() = json!({ "keys": keys }).to_string();
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
