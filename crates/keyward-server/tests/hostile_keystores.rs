//! Keystore uploads built to crash or stall the server (and a hostile keystore file name),
//! sent over HTTP: each is refused with a clear reason before the expensive part runs,
//! nothing is stored, and the process still answers and issues tokens. The files are built
//! here (keyward-keys' `fixtures`), never read from disk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_keys::{fixtures, MAX_CERTIFICATES, MAX_KDF_WORK, MAX_KEY_ENTRIES};
use keyward_storage::AuditEvent;
use keyward_testkit::server::*;
use keyward_types::ClientId;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "hostile-pass";

/// Uploads `data` as `format` to a fresh key client and asserts a `400 invalid_key` with
/// `reason` whose description names each of `mentions`, that neither the stored state nor the
/// credential list changed, and that the server still serves. Returns the response body.
async fn refused_upload(format: &str, data: &[u8], reason: &str, mentions: &[&str]) -> Value {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "victim").await;
    let list = credential_list(&srv, "victim").await;
    let before = srv.snapshot().await;
    let body = json!({"format": format, "data": STANDARD.encode(data), "password": PASSWORD});
    let (status, resp) = import(&srv, "victim", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
    assert_eq!(resp["error"], "invalid_key", "{resp}");
    assert_eq!(resp["reason"], reason, "{resp}");
    let description = resp["error_description"].as_str().unwrap().to_lowercase();
    for m in mentions {
        assert!(
            description.contains(&m.to_lowercase()),
            "does not name '{m}': {resp}"
        );
    }
    assert!(!description.contains(PASSWORD), "the password came back: {resp}");
    assert_eq!(srv.snapshot().await, before, "something was stored");
    assert_eq!(
        credential_list(&srv, "victim").await,
        list,
        "the credential list changed"
    );
    srv.assert_still_serving().await;
    resp
}

/// The 207-byte file whose scrypt `N = 0` made a dependency panic and, with `panic = "abort"`,
/// ended the server. scrypt is refused before its parameters are even decoded.
#[tokio::test]
async fn rejects_pkcs12_with_scrypt_n_zero() {
    let data = fixtures::pkcs12_scrypt_key_bag(0);
    refused_upload("pkcs12", &data, "unsupported_protection", &["scrypt"]).await;
}

/// 30 shrouded key bags × PBKDF2-HMAC-SHA-512 at 1,000,000 iterations: about 12 s of CPU to
/// an importer without a total budget. The answer comes from the declared parameters, before
/// any derivation (the keys tests show it even precedes the MAC check); this test only needs
/// the answer to arrive.
#[tokio::test]
async fn rejects_pkcs12_whose_kdf_work_exceeds_the_budget() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 30, 1_000_000, false);
    refused_upload(
        "pkcs12",
        &data,
        "too_expensive",
        &["key-derivation work", &MAX_KDF_WORK.to_string()],
    )
    .await;
}

/// The same bags inside an encrypted SafeContents: invisible until it is decrypted, then
/// charged before any of them is.
#[tokio::test]
async fn rejects_pkcs12_whose_over_budget_bags_hide_in_an_encrypted_safe() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 30, 1_000_000, true);
    refused_upload(
        "pkcs12",
        &data,
        "too_expensive",
        &["key-derivation work", &MAX_KDF_WORK.to_string()],
    )
    .await;
}

#[tokio::test]
async fn rejects_pkcs12_with_too_many_key_entries() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, MAX_KEY_ENTRIES + 1, 1, false);
    refused_upload(
        "pkcs12",
        &data,
        "too_expensive",
        &["key entries", &MAX_KEY_ENTRIES.to_string()],
    )
    .await;
}

#[tokio::test]
async fn rejects_pkcs12_with_too_many_certificates() {
    let data = fixtures::pkcs12_certificate_bags(PASSWORD, MAX_CERTIFICATES + 1);
    refused_upload(
        "pkcs12",
        &data,
        "too_expensive",
        &["certificates", &MAX_CERTIFICATES.to_string()],
    )
    .await;
}

#[tokio::test]
async fn rejects_jks_with_too_many_entries() {
    let data = fixtures::jks_trusted_certificates(PASSWORD, MAX_KEY_ENTRIES + MAX_CERTIFICATES + 1);
    refused_upload("jks", &data, "too_expensive", &["entries"]).await;
}

#[tokio::test]
async fn rejects_jks_with_too_many_certificates() {
    let data = fixtures::jks_trusted_certificates(PASSWORD, MAX_CERTIFICATES + 1);
    refused_upload(
        "jks",
        &data,
        "too_expensive",
        &["certificates", &MAX_CERTIFICATES.to_string()],
    )
    .await;
}

/// Stores a copy of key client `template` under `odd_id`, an id the admin API refuses to
/// register but that storage may hold from before that rule.
async fn store_odd_client(srv: &TestServer, template: &str, odd_id: &str) {
    let storage = srv.storage().await;
    let entry = storage
        .load_client(&ClientId::parse(template).unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut client = entry.client.clone();
    client.client_id = ClientId::parse(odd_id).unwrap();
    let audit = AuditEvent {
        at: keyward_types::Clock::now(&keyward_types::SystemClock),
        actor: "test".into(),
        action: "client.create".into(),
        target: odd_id.into(),
        outcome: "success".into(),
        detail: json!({}),
    };
    storage.insert_client(&client, None, &[], &audit).await.unwrap();
}

/// The generated keystore's `filename` is built from the client id; a stored id such as
/// `../etc/passwd` must not turn into a path when a script saves the download under it.
#[tokio::test]
async fn generated_keystore_filename_is_safe_for_odd_stored_client_ids() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "ledger").await;
    for (id, expected) in [
        ("ledger", "ledger.p12"),
        ("../etc/passwd", "___etc_passwd.p12"),
        (".hidden", "_hidden.p12"),
        ("a\\b:c", "a_b_c.p12"),
    ] {
        if id != "ledger" {
            store_odd_client(&srv, "ledger", id).await;
        }
        let resp = generate_raw(
            &srv,
            &form_escape(id),
            json!({"key_type": "EC-P256", "format": "pkcs12", "alias": "k", "store_password": PASSWORD}),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{id}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["filename"], expected, "{id}");
    }
    let (status, _) = srv.admin(Method::GET, "/admin/clients/ledger", None).await;
    assert_eq!(status, StatusCode::OK);
    srv.assert_still_serving().await;
}
