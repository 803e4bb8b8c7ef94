//! Keys checked as a cryptographer would, wherever a key enters: inline `jwks` at registration,
//! admin import (JWK, JWKS, PEM and DER SubjectPublicKeyInfo, PEM PKCS#1), `jwks_uri`
//! documents, and a key stored before the checks existed. Every hostile key is built here from
//! its numbers; each refusal is asserted with its status, error, reason and message, with
//! nothing stored, and with the server still serving afterwards.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_jose::{b64_decode, b64_encode};
use keyward_storage::AuditEvent;
use keyward_testkit::server::*;
use keyward_types::{ClientId, Credential, PublicJwk, SigningAlg};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// ---- Ed25519 points ----

/// The canonical encodings of the eight points of small order (orders 1, 2, 4, 4, 8, 8, 8, 8).
const SMALL_ORDER: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];

/// Non-canonical encodings of small-order points: `x = 0` with the sign bit set (y = 1 and
/// y = −1), and y = p (0) and y = p + 1 (1), each with and without the sign bit.
const SMALL_ORDER_NON_CANONICAL: [&str; 6] = [
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

/// y = p + 3: a point of large order, but not its canonical encoding (that is y = 3).
const NON_CANONICAL_LARGE_ORDER: &str = "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";

/// An Ed25519 public key keyward must refuse, with the reason and a word of the message.
struct BadEd {
    x: [u8; 32],
    hex: &'static str,
    reason: &'static str,
    says: &'static str,
}

fn bad_ed25519_keys() -> Vec<BadEd> {
    let small = SMALL_ORDER
        .iter()
        .chain(&SMALL_ORDER_NON_CANONICAL)
        .map(|&hex| BadEd {
            x: hex32(hex),
            hex,
            reason: "weak_key",
            says: "small order",
        });
    small
        .chain([BadEd {
            x: hex32(NON_CANONICAL_LARGE_ORDER),
            hex: NON_CANONICAL_LARGE_ORDER,
            reason: "invalid_key",
            says: "not canonically encoded",
        }])
        .collect()
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn ed_jwk(x: &[u8]) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": b64_encode(x)})
}

/// SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4): a fixed 12-byte prefix, then `x`.
fn ed_spki_der(x: &[u8]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(x);
    der
}

/// `R ‖ S` = the identity point and zero: verifies under a small-order key for any message
/// whose challenge the key's order divides (every message, for the identity key).
fn forged_ed25519_signature() -> [u8; 64] {
    let mut sig = [0u8; 64];
    sig[0] = 1;
    sig
}

/// A compact JWS over `claims` whose signature is the forgery above.
fn forged_assertion(kid: Option<&str>, claims: &Value) -> (String, String) {
    let mut header = json!({"alg": "EdDSA"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let input = format!(
        "{}.{}",
        b64_encode(header.to_string()),
        b64_encode(claims.to_string())
    );
    let token = format!("{input}.{}", b64_encode(forged_ed25519_signature()));
    (input, token)
}

// ---- RSA numbers and DER by hand ----

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER of an unsigned big-endian value (a zero octet first when the top bit is set).
fn der_uint(value: &[u8]) -> Vec<u8> {
    let mut content = Vec::new();
    if value.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(value);
    der(0x02, &content)
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    der(0x30, &[der_uint(n), der_uint(e)].concat())
}

/// SubjectPublicKeyInfo with algorithm rsaEncryption (1.2.840.113549.1.1.1) and NULL parameters.
fn rsa_spki_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let oid = der(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);
    let algorithm = der(0x30, &[oid, vec![0x05, 0x00]].concat());
    let mut bits = vec![0x00];
    bits.extend(rsa_pkcs1_der(n, e));
    der(0x30, &[algorithm, der(0x03, &bits)].concat())
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn rsa_jwk(n: &[u8], e: &[u8]) -> Value {
    json!({"kty": "RSA", "n": b64_encode(n), "e": b64_encode(e)})
}

/// The modulus of the interop RSA-2048 key (made by OpenSSL): odd, exactly 2048 bits.
fn interop_n() -> Vec<u8> {
    let n = b64_decode(interop_jwk("rsa2048")["n"].as_str().unwrap()).unwrap();
    assert_eq!((n.len(), n[0] >= 0x80, n[255] & 1), (256, true, 1));
    n
}

const E_65537: [u8; 3] = [1, 0, 1];

// ---- what a refusal must look like ----

/// Registering a client with `jwk` inline is `400 invalid_client_metadata` naming `jwks`, and
/// nothing is stored.
async fn assert_inline_refused(srv: &TestServer, id: &str, jwk: &Value, says: &str) {
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({
                "client_id": id, "scope": "read",
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [jwk]},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{jwk}: {body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(body["field"], "jwks", "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains(says), "{jwk}: {description}");
    assert_eq!(
        srv.snapshot().await,
        before,
        "{jwk}: a refused registration stored something"
    );
    assert!(!srv.client_exists(id).await);
}

/// Importing `body` into `client` is `400 invalid_key` with `reason`, and the client's
/// credential list stays empty.
async fn assert_import_refused(srv: &TestServer, client: &str, body: Value, reason: &str, says: &str) {
    let before = srv.snapshot().await;
    let (status, resp) = import(srv, client, body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {resp}");
    assert_eq!(resp["error"], "invalid_key", "{resp}");
    assert_eq!(resp["reason"], reason, "{body}: {resp}");
    let description = resp["error_description"].as_str().unwrap();
    assert!(description.contains(says), "{body}: {description}");
    assert_eq!(credential_list(srv, client).await, json!([]), "{body}");
    assert_eq!(
        srv.snapshot().await,
        before,
        "{body}: a refused import stored something"
    );
}

/// The import bodies of one public key in every format that carries a bare public key.
fn import_bodies(jwk: &Value, spki: &[u8], pkcs1: Option<&[u8]>) -> Vec<Value> {
    let mut bodies = vec![
        json!({"format": "jwk", "data": jwk.to_string()}),
        json!({"format": "jwks", "data": json!({"keys": [jwk]}).to_string()}),
        json!({"format": "pem", "data": pem("PUBLIC KEY", spki)}),
        json!({"format": "der", "data": STANDARD.encode(spki)}),
    ];
    if let Some(pkcs1) = pkcs1 {
        bodies.push(json!({"format": "pem", "data": pem("RSA PUBLIC KEY", pkcs1)}));
    }
    bodies
}

/// One broken RSA key refused at registration and by import in every public-key format.
async fn assert_rsa_refused(n: &[u8], e: &[u8], reason: &str, says: &str) {
    let srv = TestServer::start().await;
    let jwk = rsa_jwk(n, e);
    assert_inline_refused(&srv, "rsa-inline", &jwk, says).await;
    let client = empty_key_client(&srv, "rsa-import").await;
    let (spki, pkcs1) = (rsa_spki_der(n, e), rsa_pkcs1_der(n, e));
    for body in import_bodies(&jwk, &spki, Some(&pkcs1)) {
        assert_import_refused(&srv, &client, body, reason, says).await;
    }
    srv.assert_still_serving().await;
    // The same builders make an acceptable key from the interop numbers: only the number at
    // fault was refused.
    let good = rsa_spki_der(&interop_n(), &E_65537);
    let (status, body) = import(
        &srv,
        &client,
        json!({"format": "pem", "data": pem("PUBLIC KEY", &good)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["credentials"][0]["kid"],
        interop_jwk("rsa2048")["kid"],
        "{body}"
    );
}

// ---- Ed25519 ----

#[tokio::test]
async fn rejects_ed25519_small_order_key_inline() {
    let srv = TestServer::start().await;
    for (i, bad) in bad_ed25519_keys().iter().enumerate() {
        let id = format!("inline-{i}");
        assert_inline_refused(&srv, &id, &ed_jwk(&bad.x), bad.says).await;
    }
    srv.assert_still_serving().await;
    // An honest Ed25519 key registers the same way.
    srv.key_client("inline-honest", &[interop_jwk("ed25519")], json!({}))
        .await;
}

#[tokio::test]
async fn rejects_ed25519_small_order_key_import() {
    let srv = TestServer::start().await;
    let client = empty_key_client(&srv, "ed-import").await;
    for bad in bad_ed25519_keys() {
        for body in import_bodies(&ed_jwk(&bad.x), &ed_spki_der(&bad.x), None) {
            assert_import_refused(&srv, &client, body, bad.reason, bad.says).await;
        }
    }
    srv.assert_still_serving().await;
    let honest = interop_jwk("ed25519");
    let x = b64_decode(honest["x"].as_str().unwrap()).unwrap();
    let (status, body) = import(
        &srv,
        &client,
        json!({"format": "pem", "data": pem("PUBLIC KEY", &ed_spki_der(&x))}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A `jwks_uri` document skips a key that fails the checks, as it skips keys of other types:
/// the forged assertion naming it finds no key, and the document's honest key still works.
#[tokio::test]
async fn rejects_ed25519_small_order_key_from_jwks_uri() {
    let srv = TestServer::start_with(|c| {
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
    })
    .await;
    let bad = bad_ed25519_keys();
    let mut keys: Vec<Value> = bad
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut jwk = ed_jwk(&b.x);
            jwk["kid"] = json!(format!("bad-{i}"));
            jwk
        })
        .collect();
    keys.push(interop_jwk("ed25519"));
    let jwks = JwksServer::start(&keys).await;
    srv.create_client(json!({
        "client_id": "remote-ed", "scope": "read",
        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks.url(),
    }))
    .await;
    for (i, b) in bad.iter().enumerate() {
        let kid = format!("bad-{i}");
        let before = (srv.snapshot().await, srv.replay_entries().await);
        let failures = srv.auth_failures("key.unknown_kid").await;
        let (_, forged) = forged_assertion(Some(&kid), &srv.claims("remote-ed"));
        assert_invalid_client(srv.token_assertion(&forged, &[]).await, false).await;
        assert_eq!(
            (srv.snapshot().await, srv.replay_entries().await),
            before,
            "{}: a refused assertion stored something",
            b.hex
        );
        assert!(srv.auth_failures("key.unknown_kid").await > failures, "{}", b.hex);
    }
    // Without a kid, only the honest key is tried, and the forgery does not verify with it.
    let (_, forged) = forged_assertion(None, &srv.claims("remote-ed"));
    let replay = srv.replay_entries().await;
    assert_invalid_client(srv.token_assertion(&forged, &[]).await, false).await;
    assert_eq!(srv.replay_entries().await, replay);
    // The document was not refused whole: its honest key signs in.
    let honest = sign_jws(
        &interop_key("ed25519", SigningAlg::EdDSA),
        &json!({"alg": "EdDSA", "kid": interop_jwk("ed25519")["kid"]}),
        &srv.claims("remote-ed"),
    );
    let resp = srv.token_assertion(&honest, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK, "{}", resp.text().await.unwrap());
    srv.assert_still_serving().await;
}

/// Keys stored before the checks existed (written to the database directly, as an older
/// keyward did) never verify: the forged signature that aws-lc accepts under the identity key
/// gets no token, with any of the small-order keys, by `kid` or without one.
#[tokio::test]
async fn small_order_signature_forgery_gets_no_token() {
    let srv = TestServer::start().await;
    // The forgery is real: the verifier under keyward accepts it for the identity key.
    let claims = srv.claims("legacy-forge");
    let (input, _) = forged_assertion(Some("stored-0"), &claims);
    let raw =
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, hex32(SMALL_ORDER[0]));
    assert!(
        raw.verify(input.as_bytes(), &forged_ed25519_signature()).is_ok(),
        "the forged signature verifies under the raw small-order key"
    );

    // A client like any other, but with the small-order keys in its credential list.
    srv.key_client("template", &[interop_jwk("ec256")], json!({}))
        .await;
    let storage = srv.storage().await;
    let template = storage
        .load_client(&ClientId::parse("template").unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut client = template.client.clone();
    client.client_id = ClientId::parse("legacy-forge").unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(srv.clock_now()).unwrap();
    let credentials: Vec<Credential> = SMALL_ORDER
        .iter()
        .chain(&SMALL_ORDER_NON_CANONICAL)
        .enumerate()
        .map(|(i, hex)| {
            let mut jwk = PublicJwk::ed25519(&hex32(hex));
            jwk.kid = Some(format!("stored-{i}"));
            jwk.alg = Some("EdDSA".into());
            jwk.use_ = Some("sig".into());
            Credential {
                id: format!("stored-{i}"),
                name: None,
                kid: format!("stored-{i}"),
                alg: Some(SigningAlg::EdDSA),
                thumbprint: jwk.thumbprint(),
                jwk,
                created_at: now,
                expires_at: None,
                enabled: true,
                certificate: None,
            }
        })
        .collect();
    let audit = AuditEvent {
        at: now,
        actor: "test".into(),
        action: "client.create".into(),
        target: "legacy-forge".into(),
        outcome: "success".into(),
        detail: json!({}),
    };
    storage
        .insert_client(&client, None, &credentials, &audit)
        .await
        .unwrap();

    let mut kids: Vec<Option<String>> = credentials.iter().map(|c| Some(c.kid.clone())).collect();
    kids.push(None);
    for kid in kids {
        let before = (srv.snapshot().await, srv.replay_entries().await);
        let failures = srv.auth_failures("key.refused").await;
        let (_, forged) = forged_assertion(kid.as_deref(), &srv.claims("legacy-forge"));
        assert_invalid_client(srv.token_assertion(&forged, &[]).await, false).await;
        assert_eq!(
            (srv.snapshot().await, srv.replay_entries().await),
            before,
            "{kid:?}: a refused assertion stored something"
        );
        assert!(srv.auth_failures("key.refused").await > failures, "{kid:?}");
    }
    srv.assert_still_serving().await;
}

// ---- RSA ----

#[tokio::test]
async fn rejects_rsa_key_with_e_1() {
    assert_rsa_refused(&interop_n(), &[1], "weak_key", "exponent 1").await;
}

#[tokio::test]
async fn rejects_rsa_key_with_e_2() {
    assert_rsa_refused(&interop_n(), &[2], "invalid_key", "exponent is even").await;
}

#[tokio::test]
async fn rejects_rsa_key_with_huge_e() {
    // A 4096-bit odd exponent: verification would cost thousands of multiplications.
    let mut e = vec![0u8; 512];
    e[0] = 0x80;
    e[511] = 0x01;
    assert_rsa_refused(&interop_n(), &e, "invalid_key", "4096 bits is too large").await;
}

#[tokio::test]
async fn rejects_rsa_key_with_even_n() {
    let mut n = interop_n();
    n[255] &= 0xfe;
    assert_rsa_refused(&n, &E_65537, "invalid_key", "modulus is even").await;
}

#[tokio::test]
async fn rejects_rsa_key_with_2041_bit_n() {
    // 256 octets whose first is 0x01: 2041 bits, although 256 × 8 = 2048.
    let mut n = interop_n();
    n[0] = 0x01;
    assert_rsa_refused(&n, &E_65537, "weak_key", "2041 bits is too weak").await;
}

/// RFC 7518 §6.3.1.1: `n` carries no leading zero octet, so one key has one JWK and one
/// thumbprint. (DER inputs legitimately carry one; the importer strips it.)
#[tokio::test]
async fn rejects_rsa_jwk_with_leading_zero_octet() {
    let srv = TestServer::start().await;
    let mut n = vec![0u8];
    n.extend(interop_n());
    let jwk = rsa_jwk(&n, &E_65537);
    assert_inline_refused(&srv, "rsa-zero", &jwk, "leading zero").await;
    let client = empty_key_client(&srv, "rsa-zero-import").await;
    let body = json!({"format": "jwk", "data": jwk.to_string()});
    assert_import_refused(&srv, &client, body, "invalid_key", "leading zero").await;
    srv.assert_still_serving().await;
}
