//! Strict JOSE at the token endpoint: a `crit` header is refused (RFC 7515 §4.1.11), duplicate
//! member names anywhere in the header or the claims are refused (RFC 7515 §4, RFC 7519 §4),
//! and an HMAC key is at least the size of its hash (RFC 7518 §3.2): new `client_secret_jwt`
//! secrets are 64 random bytes, and a shorter secret verifies HS256 only.
//!
//! Every refused assertion carries a genuine signature, so the rule under test is the only
//! thing wrong with it; each test also shows the same assertion without the fault succeeding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aws_lc_rs::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM},
    hmac,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_jose::b64_decode;
use keyward_storage::AuditEvent;
use keyward_testkit::server::*;
use keyward_types::{ClientId, ClientSecret, SecretHash, StoredSecret};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// ---- helpers ----

/// Sends `assertion` and expects the fixed `401 invalid_client`, the failure counter for
/// `reason` to rise, and nothing stored: no client change and no replay entry.
async fn expect_refused(srv: &TestServer, assertion: &str, reason: &str) {
    let snapshot = srv.snapshot().await;
    let replay = srv.replay_entries().await;
    let failures = srv.auth_failures(reason).await;
    assert_invalid_client(srv.token_assertion(assertion, &[]).await, false).await;
    assert_eq!(
        srv.snapshot().await,
        snapshot,
        "a refused assertion changed storage"
    );
    assert_eq!(
        srv.replay_entries().await,
        replay,
        "a refused assertion left a replay entry"
    );
    let after = srv.auth_failures(reason).await;
    assert!(
        after > failures,
        "reason {reason} not counted ({failures} → {after})"
    );
}

async fn expect_token(srv: &TestServer, assertion: &str, client_id: &str) {
    let resp = srv.token_assertion(assertion, &[]).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], client_id);
}

/// Claims text for `id` with `aud` exactly as given (raw JSON members, in this order).
fn claims_with(srv: &TestServer, id: &str, aud_members: &str) -> String {
    let now = srv.clock_now();
    format!(
        r#"{{"iss":"{id}","sub":"{id}",{aud_members},"iat":{now},"exp":{},"jti":"{}"}}"#,
        now + 30,
        keyward_types::random::uuid().unwrap()
    )
}

/// A `client_secret_jwt` client whose secret is `secret`, written to the database the way an
/// older keyward stored it (HMAC under the pepper, AES-256-GCM under the key-encryption key,
/// bound to the secret's id), so a 43-character secret made before secrets grew to 64 bytes
/// can be tested.
async fn legacy_secret_jwt_client(srv: &TestServer, id: &str, secret: &str) {
    // A client like any other, from a template registered through the API.
    let template_id = format!("{id}-template");
    srv.secret_jwt_client(&template_id, json!({})).await;
    let storage = srv.storage().await;
    let template = storage
        .load_client(&ClientId::parse(&template_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut client = template.client.clone();
    client.client_id = ClientId::parse(id).unwrap();

    let key_file = |name: &str| {
        let text = std::fs::read_to_string(srv.dir.path().join(name)).unwrap();
        b64_decode(text.trim()).unwrap()
    };
    let pepper = hmac::Key::new(hmac::HMAC_SHA256, &key_file("pepper.key"));
    let kek = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key_file("kek.key")).unwrap());
    let secret_id = format!("{id}-legacy");
    let nonce = [7u8; 12];
    let mut sealed = secret.as_bytes().to_vec();
    kek.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(secret_id.as_bytes()),
        &mut sealed,
    )
    .unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(srv.clock_now()).unwrap();
    let stored = StoredSecret {
        id: secret_id,
        hash: SecretHash::compute(&pepper, &ClientSecret::from_presented(secret.to_owned())),
        created_at: now,
        expires_at: None,
        not_after: None,
        encrypted: Some([nonce.to_vec(), sealed].concat()),
    };
    let audit = AuditEvent {
        at: now,
        actor: "test".into(),
        action: "client.create".into(),
        target: id.into(),
        outcome: "success".into(),
        detail: json!({}),
    };
    storage
        .insert_client(&client, Some(&stored), &[], &audit)
        .await
        .unwrap();
}

/// 43 characters, as `client_secret_jwt` secrets were generated before (32 random bytes).
fn legacy_secret() -> String {
    URL_SAFE_NO_PAD.encode([0x5a_u8; 32])
}

/// A short-secret client refuses `alg` but still takes HS256.
async fn assert_short_secret_refused(alg: &str) {
    let srv = TestServer::start().await;
    let secret = legacy_secret();
    assert_eq!(secret.len(), 43);
    legacy_secret_jwt_client(&srv, "legacy-hs", &secret).await;
    let a = sign_hmac(secret.as_bytes(), &json!({"alg": alg}), &srv.claims("legacy-hs"));
    expect_refused(&srv, &a, "assertion.hmac_key_too_short").await;
    srv.assert_still_serving().await;
    // The secret itself is good: a 43-byte key is long enough for HS256 (32-byte hash).
    let a = sign_hmac(
        secret.as_bytes(),
        &json!({"alg": "HS256"}),
        &srv.claims("legacy-hs"),
    );
    expect_token(&srv, &a, "legacy-hs").await;
}

async fn rotate(srv: &TestServer, id: &str, grace: u64) -> String {
    let (status, body) = srv
        .admin(
            Method::POST,
            &format!("/admin/clients/{id}/secret"),
            Some(json!({"grace_period_seconds": grace})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["client_secret"].as_str().unwrap().to_owned()
}

/// A generated secret: `chars` base64url characters that decode to `bytes` random bytes.
fn assert_secret_size(secret: &str, chars: usize, bytes: usize) {
    assert_eq!(secret.len(), chars, "{} characters", secret.len());
    assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), bytes);
}

// ---- crit ----

#[tokio::test]
async fn rejects_assertion_with_crit_header() {
    let srv = TestServer::start().await;
    ec_client(&srv, "crit").await;
    let kid = ec_kid();
    for header in [
        json!({"alg": "ES256", "kid": kid, "crit": ["urn:x"], "urn:x": true}),
        json!({"alg": "ES256", "kid": kid, "crit": ["exp"], "exp": 1}),
        json!({"alg": "ES256", "kid": kid, "crit": []}),
        json!({"alg": "ES256", "kid": kid, "crit": null}),
    ] {
        let a = sign_jws(&ec_key(), &header, &srv.claims("crit"));
        expect_refused(&srv, &a, "assertion.crit").await;
    }
    srv.assert_still_serving().await;
    let a = sign_jws(
        &ec_key(),
        &json!({"alg": "ES256", "kid": kid}),
        &srv.claims("crit"),
    );
    expect_token(&srv, &a, "crit").await;
}

/// RFC 7797's unencoded payload is the extension an attacker would reach for: a verifier that
/// ignored `b64` would check a signature over different bytes than the payload it reads.
#[tokio::test]
async fn rejects_assertion_with_b64_false_crit() {
    let srv = TestServer::start().await;
    ec_client(&srv, "b64").await;
    let header = json!({"alg": "ES256", "kid": ec_kid(), "b64": false, "crit": ["b64"]});
    let a = sign_jws(&ec_key(), &header, &srv.claims("b64"));
    expect_refused(&srv, &a, "assertion.crit").await;
    srv.assert_still_serving().await;
}

// ---- duplicate member names ----

#[tokio::test]
async fn rejects_assertion_with_duplicate_aud_claim() {
    let srv = TestServer::start().await;
    ec_client(&srv, "dupaud").await;
    let header = json!({"alg": "ES256", "kid": ec_kid()}).to_string();
    let iss = srv.base.clone();
    // Last wins in serde_json: the first would have passed the audience check while a reader
    // that keeps the first member sees an assertion made for another server.
    for aud in [
        format!(r#""aud":"http://evil","aud":"{iss}""#),
        format!(r#""aud":"{iss}","aud":"http://evil""#),
        format!(r#""aud":"{iss}","aud":"{iss}""#),
    ] {
        let claims = claims_with(&srv, "dupaud", &aud);
        expect_refused(
            &srv,
            &sign_raw(&ec_key(), &header, &claims),
            "assertion.malformed",
        )
        .await;
    }
    srv.assert_still_serving().await;
    let claims = claims_with(&srv, "dupaud", &format!(r#""aud":"{iss}""#));
    expect_token(&srv, &sign_raw(&ec_key(), &header, &claims), "dupaud").await;
}

/// A duplicate anywhere in the claims, not only at the top: a nested object counts too, and
/// two spellings of one name (`\u0061ud` is `aud`) are one name.
#[tokio::test]
async fn rejects_assertion_with_duplicate_nested_or_escaped_claim() {
    let srv = TestServer::start().await;
    ec_client(&srv, "dupnest").await;
    let header = json!({"alg": "ES256", "kid": ec_kid()}).to_string();
    let iss = srv.base.clone();
    for aud in [
        format!(r#""aud":"{iss}","cnf":{{"jkt":"a","jkt":"b"}}"#),
        format!(r#""aud":"http://evil","\u0061ud":"{iss}""#),
    ] {
        let claims = claims_with(&srv, "dupnest", &aud);
        expect_refused(
            &srv,
            &sign_raw(&ec_key(), &header, &claims),
            "assertion.malformed",
        )
        .await;
    }
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn rejects_assertion_with_duplicate_header_member() {
    let srv = TestServer::start().await;
    ec_client(&srv, "duphdr").await;
    let kid = ec_kid();
    for header in [
        // Members the header struct does not read: its derive alone lets them through.
        format!(r#"{{"alg":"ES256","kid":"{kid}","cty":"JWT","cty":"JWT"}}"#),
        format!(r#"{{"alg":"ES256","kid":"{kid}","x5t#S256":"a","x5t#S256":"b"}}"#),
        format!(r#"{{"alg":"ES256","kid":"{kid}","crit":["urn:x"],"crit":null}}"#),
        // And those it reads.
        format!(r#"{{"alg":"ES256","kid":"{kid}","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"ES256","kid":"{kid}","\u0074yp":"JWT","typ":"JWT"}}"#),
    ] {
        let claims = srv.claims("duphdr").to_string();
        expect_refused(
            &srv,
            &sign_raw(&ec_key(), &header, &claims),
            "assertion.malformed",
        )
        .await;
    }
    srv.assert_still_serving().await;
    let header = format!(r#"{{"alg":"ES256","kid":"{kid}","cty":"JWT"}}"#);
    expect_token(
        &srv,
        &sign_raw(&ec_key(), &header, &srv.claims("duphdr").to_string()),
        "duphdr",
    )
    .await;
}

// ---- HMAC key size ----

#[tokio::test]
async fn rejects_hs384_with_short_secret() {
    assert_short_secret_refused("HS384").await;
}

#[tokio::test]
async fn rejects_hs512_with_short_secret() {
    assert_short_secret_refused("HS512").await;
}

#[tokio::test]
async fn client_secret_jwt_secrets_are_64_bytes() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.secret_jwt_client("hs-size", json!({})).await;
    assert_secret_size(&secret, 86, 64);
    assert_secret_size(&rotate(&srv, &id, 0).await, 86, 64);
    // Secrets that are only compared stay 32 bytes.
    let (basic, basic_secret) = srv.basic_client().await;
    assert_secret_size(&basic_secret, 43, 32);
    assert_secret_size(&rotate(&srv, &basic, 0).await, 43, 32);
}

#[tokio::test]
async fn hs512_works_with_new_secret() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.secret_jwt_client("hs-new", json!({})).await;
    for alg in ["HS512", "HS384", "HS256"] {
        let a = sign_hmac(secret.as_bytes(), &json!({"alg": alg}), &srv.claims(&id));
        expect_token(&srv, &a, &id).await;
    }
    // A client with a short secret gets HS512 by rotating: the new secret is long enough, and
    // during the grace period the old one still works for HS256 only.
    let old = legacy_secret();
    legacy_secret_jwt_client(&srv, "hs-rotated", &old).await;
    let new = rotate(&srv, "hs-rotated", 60).await;
    let a = sign_hmac(
        new.as_bytes(),
        &json!({"alg": "HS512"}),
        &srv.claims("hs-rotated"),
    );
    expect_token(&srv, &a, "hs-rotated").await;
    let a = sign_hmac(
        old.as_bytes(),
        &json!({"alg": "HS256"}),
        &srv.claims("hs-rotated"),
    );
    expect_token(&srv, &a, "hs-rotated").await;
    // The new secret is long enough for HS512, so this is a wrong signature, not a short key.
    let a = sign_hmac(
        old.as_bytes(),
        &json!({"alg": "HS512"}),
        &srv.claims("hs-rotated"),
    );
    expect_refused(&srv, &a, "signature.invalid").await;
}
