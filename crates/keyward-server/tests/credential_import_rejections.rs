//! Every way a key import is refused over HTTP (issue #5 "Bad input"): each a 400 (or 404) with
//! `error` and the exact `reason`, a description that names the problem, nothing stored, the
//! client's credential list unchanged, and no password or private key bytes in any response.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_testkit::server::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const WRONG_STORE: &str = "wrong-store-pass-4711";
const WRONG_KEY: &str = "wrong-key-pass-0815";

/// The base64 lines of sample-rsa2048-private.pem: none may ever appear in a response.
fn private_key_lines() -> Vec<String> {
    interop_text("sample-rsa2048-private.pem")
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_owned)
        .collect()
}

struct Refusal<'a> {
    status: StatusCode,
    error: &'a str,
    reason: Option<&'a str>,
    /// Words the description must contain (case-insensitive).
    mentions: &'a [&'a str],
    /// Values that must appear in no response and not in the audit log.
    secrets: &'a [&'a str],
}

fn bad_key<'a>(reason: &'a str, mentions: &'a [&'a str]) -> Refusal<'a> {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_key",
        reason: Some(reason),
        mentions,
        secrets: &[],
    }
}

/// Sends `body` to client `id`'s import route and asserts the refusal, that nothing changed and
/// that nothing secret came back. Returns the response body.
async fn refused(srv: &TestServer, id: &str, body: Value, r: Refusal<'_>) -> Value {
    let exists = srv.client_exists(id).await;
    let list = if exists {
        Some(credential_list(srv, id).await)
    } else {
        None
    };
    let before = srv.snapshot().await;
    let (status, resp) = import(srv, id, body).await;
    assert_eq!(status, r.status, "{resp}");
    assert_eq!(resp["error"], r.error, "{resp}");
    if let Some(reason) = r.reason {
        assert_eq!(resp["reason"], reason, "{resp}");
    }
    let description = resp["error_description"].as_str().unwrap().to_lowercase();
    for m in r.mentions {
        assert!(
            description.contains(&m.to_lowercase()),
            "description does not name '{m}': {resp}"
        );
    }
    assert_eq!(srv.snapshot().await, before, "something was stored");
    if let Some(list) = list {
        assert_eq!(
            credential_list(srv, id).await,
            list,
            "the credential list changed"
        );
    }
    let text = resp.to_string();
    for s in r.secrets {
        assert!(!text.contains(s), "the response repeats a secret: {text}");
    }
    for line in private_key_lines() {
        assert!(
            !text.contains(&line),
            "the response holds private key bytes: {text}"
        );
    }
    if !r.secrets.is_empty() {
        let (_, log) = audit_log(srv).await;
        for s in r.secrets {
            assert!(!log.contains(s), "the audit log holds a secret");
        }
    }
    resp
}

async fn client(srv: &TestServer, id: &str) -> String {
    empty_key_client(srv, id).await
}

// ---- passwords and aliases ----

#[tokio::test]
async fn rejects_pkcs12_wrong_store_password() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12"), "password": WRONG_STORE});
    let r = Refusal {
        secrets: &[WRONG_STORE, STOREPASS],
        ..bad_key("wrong_password", &["password"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_jks_wrong_store_password() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "jks", "data": interop_b64("sample-rsa2048.jks"), "password": WRONG_STORE, "key_password": KEYPASS});
    let r = Refusal {
        secrets: &[WRONG_STORE, STOREPASS, KEYPASS],
        ..bad_key("wrong_password", &["store password"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_jks_wrong_key_password() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "jks", "data": interop_b64("sample-rsa2048.jks"), "password": STOREPASS, "key_password": WRONG_KEY});
    let r = Refusal {
        secrets: &[WRONG_KEY, STOREPASS, KEYPASS],
        ..bad_key("wrong_key_password", &["key password"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_pkcs12_key_password_other_than_store_password() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12"), "password": STOREPASS, "key_password": WRONG_KEY});
    let r = Refusal {
        secrets: &[WRONG_KEY, STOREPASS],
        ..bad_key("wrong_key_password", &["key password"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_pkcs12_without_password() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12")});
    refused(&srv, "c", body, bad_key("password_required", &["password"])).await;
}

#[tokio::test]
async fn rejects_unknown_alias_and_lists_the_aliases() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({
        "format": "jks", "data": interop_b64("sample-multi.jks"),
        "password": STOREPASS, "key_password": KEYPASS, "alias": "no-such-entry",
    });
    let r = Refusal {
        secrets: &[STOREPASS, KEYPASS],
        ..bad_key(
            "unknown_alias",
            &["no-such-entry", "clientkey", "second-key", "partner-cert"],
        )
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_keystore_with_several_entries_without_alias_and_lists_them() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "jks", "data": interop_b64("sample-multi.jks"), "password": STOREPASS, "key_password": KEYPASS});
    let r = Refusal {
        secrets: &[STOREPASS, KEYPASS],
        ..bad_key(
            "alias_required",
            &["alias", "clientkey", "second-key", "partner-cert"],
        )
    };
    refused(&srv, "c", body, r).await;
}

// ---- broken files ----

#[tokio::test]
async fn rejects_truncated_pkcs12() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body =
        json!({"format": "pkcs12", "data": interop_b64("sample-truncated.p12"), "password": STOREPASS});
    let r = Refusal {
        secrets: &[STOREPASS],
        ..bad_key("broken_file", &["truncated"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_jks_failing_the_integrity_check() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "jks", "data": interop_b64("sample-tampered.jks"), "password": STOREPASS, "key_password": KEYPASS});
    let r = Refusal {
        secrets: &[STOREPASS, KEYPASS],
        ..bad_key("wrong_password", &["integrity"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_random_bytes_as_der() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "der", "data": STANDARD.encode(pseudo_random(1, 2048))});
    refused(&srv, "c", body, bad_key("unrecognized_format", &["certificate"])).await;
}

#[tokio::test]
async fn rejects_random_bytes_as_pkcs12() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body =
        json!({"format": "pkcs12", "data": STANDARD.encode(pseudo_random(2, 2048)), "password": STOREPASS});
    refused(&srv, "c", body, bad_key("broken_file", &["pkcs#12"])).await;
}

#[tokio::test]
async fn rejects_random_bytes_as_jks() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body =
        json!({"format": "jks", "data": STANDARD.encode(pseudo_random(3, 2048)), "password": STOREPASS});
    refused(&srv, "c", body, bad_key("unrecognized_format", &["jks"])).await;
}

#[tokio::test]
async fn rejects_pem_with_garbage() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let data = "-----BEGIN CERTIFICATE-----\nthis is !!! not base64 @@@ at all\n-----END CERTIFICATE-----\n";
    refused(
        &srv,
        "c",
        json!({"format": "pem", "data": data}),
        bad_key("broken_file", &["pem"]),
    )
    .await;
}

#[tokio::test]
async fn rejects_pem_text_without_a_block() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let data = "Please find our certificate attached.\nKind regards\n";
    refused(
        &srv,
        "c",
        json!({"format": "pem", "data": data}),
        bad_key("unrecognized_format", &["pem"]),
    )
    .await;
}

// ---- key types, sizes, curves ----

#[tokio::test]
async fn rejects_rsa_1024_certificate_as_weak() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa1024-cert.pem")});
    refused(&srv, "c", body, bad_key("weak_key", &["1024", "2048"])).await;
}

#[tokio::test]
async fn rejects_dsa_pkcs12_as_unsupported_key_type() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pkcs12", "data": interop_b64("sample-dsa.p12"), "password": STOREPASS});
    let r = Refusal {
        secrets: &[STOREPASS],
        ..bad_key("unsupported_key_type", &["DSA"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_ec_p521_certificate_as_unsupported_curve() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pem", "data": interop_text("sample-ec521-cert.pem")});
    refused(&srv, "c", body, bad_key("unsupported_curve", &["P-521"])).await;
}

// ---- private and symmetric material ----

const EC_D: &str = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE";

fn ec_jwk_with_d() -> Value {
    let mut jwk = interop_jwk("ec256");
    jwk["d"] = json!(EC_D);
    jwk
}

#[tokio::test]
async fn rejects_jwk_with_private_member() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "jwk", "data": ec_jwk_with_d().to_string()});
    let r = Refusal {
        secrets: &[EC_D],
        ..bad_key("private_key_material", &["private"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_jwks_with_one_private_key_importing_none() {
    let srv = TestServer::start_with(|c| c.max_credentials_per_client = 5).await;
    client(&srv, "c").await;
    let mut set: Value = serde_json::from_str(&interop_text("sample-jwks.json")).unwrap();
    set["keys"][1] = ec_jwk_with_d();
    let body = json!({"format": "jwks", "data": set.to_string()});
    let r = Refusal {
        secrets: &[EC_D],
        ..bad_key("private_key_material", &["private"])
    };
    refused(&srv, "c", body, r).await;
    assert_eq!(credential_list(&srv, "c").await, json!([]));
}

#[tokio::test]
async fn rejects_symmetric_jwk() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let k = "GawgguFyGrWKav7AX4VKUg-secret-bytes-here0";
    let body = json!({"format": "jwk", "data": json!({"kty": "oct", "k": k}).to_string()});
    let r = Refusal {
        secrets: &[k],
        ..bad_key("symmetric_key", &["symmetric"])
    };
    refused(&srv, "c", body, r).await;
}

#[tokio::test]
async fn rejects_private_key_pem() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-private.pem")});
    refused(&srv, "c", body, bad_key("private_key_given", &["private key"])).await;
}

// ---- field rules ----

#[tokio::test]
async fn rejects_alg_that_does_not_fit_the_key() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "alg": "ES256"});
    refused(&srv, "c", body, bad_key("alg_mismatch", &["ES256", "RSA"])).await;
}

#[tokio::test]
async fn rejects_expired_certificate() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pem", "data": interop_text("sample-expired-cert.pem")});
    refused(
        &srv,
        "c",
        body,
        bad_key("certificate_expired", &["expired", "2021"]),
    )
    .await;
}

#[tokio::test]
async fn rejects_expires_at_in_the_past() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let at = rfc3339_from_now(&srv, -60);
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "expires_at": at});
    refused(&srv, "c", body, bad_key("expires_at_in_past", &["expires_at"])).await;
}

#[tokio::test]
async fn rejects_expires_at_after_the_certificate() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    // The certificate ends 2036-11-19T22:44:08Z.
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "expires_at": "2040-01-01T00:00:00Z"});
    refused(
        &srv,
        "c",
        body,
        bad_key("expires_after_certificate", &["notAfter"]),
    )
    .await;
}

// ---- request shape ----

#[tokio::test]
async fn rejects_upload_over_one_mib() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let data = "A".repeat(1024 * 1024 + 1);
    refused(
        &srv,
        "c",
        json!({"format": "pem", "data": data}),
        bad_key("too_large", &["1048576"]),
    )
    .await;
}

#[tokio::test]
async fn rejects_binary_upload_over_one_mib() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let data = STANDARD.encode(vec![0x30u8; 1024 * 1024 + 1]);
    let body = json!({"format": "pkcs12", "data": data, "password": STOREPASS});
    refused(&srv, "c", body, bad_key("too_large", &["1048576"])).await;
}

#[tokio::test]
async fn rejects_invalid_base64_for_binary_format() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "der", "data": "this is not base64 !!!"});
    refused(&srv, "c", body, bad_key("invalid_base64", &["base64"])).await;
}

#[tokio::test]
async fn rejects_unknown_format() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "p7b", "data": interop_text("sample-rsa2048-cert.pem")});
    refused(&srv, "c", body, bad_key("unknown_format", &["format", "p7b"])).await;
}

#[tokio::test]
async fn rejects_import_into_client_secret_basic_client() {
    let srv = TestServer::start().await;
    srv.basic_client().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")});
    refused(
        &srv,
        "svc-basic",
        body,
        bad_key("not_a_key_client", &["private_key_jwt"]),
    )
    .await;
}

#[tokio::test]
async fn rejects_import_into_unknown_client() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")});
    let r = Refusal {
        status: StatusCode::NOT_FOUND,
        error: "not_found",
        reason: None,
        mentions: &["no-such-client"],
        secrets: &[],
    };
    refused(&srv, "no-such-client", body, r).await;
    assert!(!srv.client_exists("no-such-client").await);
}

#[tokio::test]
async fn rejects_password_sent_as_wrong_json_type_without_echoing_it() {
    let srv = TestServer::start().await;
    client(&srv, "c").await;
    let body = json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12"), "password": ["storepass"]});
    let r = Refusal {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        reason: None,
        mentions: &["password"],
        secrets: &[STOREPASS],
    };
    refused(&srv, "c", body, r).await;
}
