//! The token endpoint's parsers: the `Authorization: Basic` header, the form and what the
//! client presented in it, and client assertions (the compact JWS, its claims and the rules
//! that run before the signature).

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_client_auth::fuzzing;
use keyward_jose::{b64_encode, CompactJws};
use keyward_types::AuthMethod;
use serde_json::{Map, Value};

use crate::NOW;

/// An `Authorization` header value. What decodes encodes back (form-urlencoded halves, base64)
/// to the same client id and secret.
pub fn basic_header(data: &[u8]) {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((id, secret)) = fuzzing::decode_basic(header) else {
        return;
    };
    let raw = format!(
        "{}:{}",
        form_escape(id.as_bytes()),
        form_escape(secret.as_bytes())
    );
    let again = fuzzing::decode_basic(&format!("Basic {}", STANDARD.encode(raw)));
    assert!(
        again
            .as_ref()
            .is_ok_and(|(i, s)| *i == id && s.as_str() == secret.as_str()),
        "a decoded Basic header does not encode back to the same client id and secret"
    );
}

/// A token request: up to the first newline the `Authorization` header (none when empty or
/// absent), then the form body. A request the server reads names at most one client, and Basic
/// is what it read only when the header was there.
pub fn token_form(data: &[u8]) {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (data.get(..at), data.get(at + 1..).unwrap_or_default()),
        None => (None, data),
    };
    // The server hands a header on only when it is visible ASCII (`HeaderValue::to_str`).
    let authorization = header
        .filter(|h| !h.is_empty() && h.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)))
        .and_then(|h| std::str::from_utf8(h).ok());
    let Some(request) = keyward_server::fuzzing::token_request(authorization, body) else {
        return;
    };
    let Ok(presented) = &request.presented else {
        return;
    };
    assert_eq!(
        request.read_by.contains(&AuthMethod::ClientSecretBasic),
        authorization.is_some(),
        "Basic must be read from the Authorization header and only from it"
    );
    if let Some(form_id) = &request.client_id {
        assert_eq!(
            form_id,
            presented.claimed_client_id(),
            "the client_id parameter names another client than the credentials"
        );
    }
}

/// A compact JWS and its claims as JSON. What parses is the three parts it was made of.
pub fn jws(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = CompactJws::parse(token) else {
        return;
    };
    assert_eq!(
        format!("{}.{}", parsed.signing_input, b64_encode(&parsed.signature)),
        token,
        "signing input and signature are not the token"
    );
    assert_eq!(
        parsed.signing_input.split('.').nth(1),
        Some(b64_encode(&parsed.payload).as_str()),
        "the payload is not the second part"
    );
    let _ = parsed.claims::<Value>();
    let _ = parsed.claims::<Map<String, Value>>();
}

/// A `client_assertion` given as its decoded parts, `header JSON \n claims JSON [\n signature]`,
/// so that the fuzzer mutates the JSON the rules read rather than its base64 (the `jws` target
/// covers the encoding). Extracted as the token endpoint does, then every rule before the
/// signature, for both JWT methods. An assertion that passes is one the rules describe.
pub fn assertion(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let (Some(header), Some(claims)) = (parts.next(), parts.next()) else {
        return;
    };
    let signature = parts.next().unwrap_or_default();
    let token = format!(
        "{}.{}.{}",
        b64_encode(header),
        b64_encode(claims),
        b64_encode(signature)
    );
    let Some(a) = fuzzing::read_jwt_bearer(&token) else {
        return;
    };
    for method in [AuthMethod::PrivateKeyJwt, AuthMethod::ClientSecretJwt] {
        let Some(Ok(alg)) = fuzzing::assertion_rules(&a, &method, NOW) else {
            continue;
        };
        assert_eq!(
            alg.is_symmetric(),
            method == AuthMethod::ClientSecretJwt,
            "HMAC is for client_secret_jwt only"
        );
        let claim = |name: &str| a.claims.get(name);
        assert_eq!(
            claim("iss").and_then(Value::as_str),
            claim("sub").and_then(Value::as_str)
        );
        let aud = match claim("aud") {
            Some(Value::Array(list)) if list.len() == 1 => list.first(),
            other => other,
        };
        let aud = aud.and_then(Value::as_str).unwrap_or_default();
        assert!(
            aud == fuzzing::ISSUER || aud == format!("{}/token", fuzzing::ISSUER),
            "aud is not this server"
        );
        let exp = claim("exp").and_then(Value::as_f64).unwrap_or(f64::NAN);
        let now = NOW.unix_timestamp() as f64;
        // `iat` may be ahead by the skew, and the lifetime counts from it; `exp` may be fractional.
        let latest = now + (fuzzing::SKEW_SECS + fuzzing::MAX_LIFETIME_SECS + 1) as f64;
        assert!(exp > now && exp < latest, "exp is not within the lifetime");
        let jti = claim("jti").and_then(Value::as_str).unwrap_or_default();
        assert!(!jti.is_empty() && jti.len() <= 256, "jti is missing or too long");
    }
}

/// `application/x-www-form-urlencoded` of every byte but ASCII letters and digits.
fn form_escape(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An authorization request's query string. Whatever `/authorize` accepts is bound to a
/// registered redirect URI exactly, carries a well-formed S256 challenge, asks only for scopes
/// the fixed client may have (never the admin scope), and keeps `state` and `nonce` bounded.
pub fn authorize_query(data: &[u8]) {
    let Ok(read) = keyward_server::fuzzing::authorize_request(data) else {
        return;
    };
    assert!(
        read.registered_redirect_uris.contains(&read.redirect_uri),
        "accepted an unregistered redirect_uri"
    );
    assert_eq!(read.code_challenge.len(), 43, "a challenge that is not a SHA-256");
    for scope in &read.scope {
        assert!(
            ["openid", "profile", "email", "offline_access", "read", "write"].contains(&scope.as_str()),
            "granted scope {scope:?}"
        );
    }
    for value in [&read.state, &read.nonce].into_iter().flatten() {
        assert!(value.len() <= 512, "an unbounded state or nonce");
    }
}
