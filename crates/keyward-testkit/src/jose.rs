//! Signing test JWS by hand (exactly the header and claims given, good or hostile) and checking
//! tokens against a server's published `/jwks`.

use keyward_jose::{b64_encode, CompactJws, Jwks, SigningKey, VerifyingKey};
use serde_json::{json, Value};

/// A compact JWS over exactly this header and these claims, signed by `key`.
pub fn sign_jws(key: &SigningKey, header: &Value, claims: &Value) -> String {
    sign_raw(key, &header.to_string(), &claims.to_string())
}

/// A compact JWS over exactly this header and claims text (JSON or not), genuinely signed by
/// `key`.
pub fn sign_raw(key: &SigningKey, header: &str, claims: &str) -> String {
    let input = format!("{}.{}", b64_encode(header), b64_encode(claims));
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64_encode(sig))
}

/// A compact JWS MACed with `secret` (HS256/384/512 by `header.alg`).
pub fn sign_hmac(secret: &[u8], header: &Value, claims: &Value) -> String {
    use aws_lc_rs::hmac;
    let alg = match header["alg"].as_str().unwrap() {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    let input = format!(
        "{}.{}",
        b64_encode(header.to_string()),
        b64_encode(claims.to_string())
    );
    let tag = hmac::sign(&hmac::Key::new(alg, secret), input.as_bytes());
    format!("{input}.{}", b64_encode(tag.as_ref()))
}

/// Client assertion claims (RFC 7523 §3): iss = sub = `client_id`, `aud`, issued at `now`,
/// valid for `lifetime` seconds, a random `jti`.
pub fn assertion_claims(client_id: &str, aud: &str, now: i64, lifetime: i64) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "iat": now, "exp": now + lifetime, "jti": keyward_types::random::uuid().unwrap().to_string(),
    })
}

/// The RFC 7638 thumbprint of a public JWK, computed here from its required members.
pub fn rfc7638(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str().unwrap() {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical = members
        .iter()
        .map(|m| format!("\"{m}\":\"{}\"", jwk[*m].as_str().unwrap()))
        .collect::<Vec<_>>()
        .join(",");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{{{canonical}}}").as_bytes());
    b64_encode(digest.as_ref())
}

async fn published(http: &reqwest::Client, base: &str) -> Jwks {
    http.get(format!("{base}/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The claims of `token` if the key of its `kid` in `jwks` verifies it.
fn verified(jwks: &Jwks, token: &str) -> Option<Value> {
    let jws = CompactJws::parse(token).ok()?;
    let kid = jws.header.kid.as_deref()?;
    let jwk = jwks.keys.iter().find(|k| k.kid.as_deref() == Some(kid))?;
    let key = VerifyingKey::from_jwk(jwk, jws.header.alg.parse().ok()?).ok()?;
    key.verify(jws.signing_input.as_bytes(), &jws.signature).ok()?;
    jws.claims().ok()
}

/// Verifies `token` with the key of its `kid` in `base`'s `/jwks` (algorithm from the header)
/// and returns its claims.
pub async fn verify_at(http: &reqwest::Client, base: &str, token: &str) -> Value {
    let jwks = published(http, base).await;
    verified(&jwks, token).unwrap_or_else(|| panic!("{base}/jwks does not verify the token {token}"))
}

/// Whether `base`'s `/jwks` verifies `token` (for polling until it does).
pub async fn verifies_at(http: &reqwest::Client, base: &str, token: &str) -> bool {
    verified(&published(http, base).await, token).is_some()
}
