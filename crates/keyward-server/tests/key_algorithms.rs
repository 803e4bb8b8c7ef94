//! Per-key algorithms (DESIGN.md assertion rules, "key"): a key registered with an `alg`
//! verifies only that algorithm; one registered without verifies any algorithm of its type that
//! the client allows (RSA: RS* and PS*), as a FAPI client signing PS256 with an RSA key
//! registered without `alg` expects. Real server, real HTTP, the interop RSA key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{
    fixtures::{interop_jwk, interop_key},
    jose::sign_jws,
    server::*,
};
use keyward_types::SigningAlg;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The interop RSA public JWK, without its `alg` member.
fn rsa_jwk_without_alg() -> Value {
    let mut jwk = interop_jwk("rsa2048");
    jwk.as_object_mut().unwrap().remove("alg");
    jwk
}

fn rsa_kid() -> String {
    interop_jwk("rsa2048")["kid"].as_str().unwrap().to_owned()
}

/// A token request with an assertion signed by the interop RSA key with `alg`, with or
/// without the `kid` header.
async fn token_signed(srv: &TestServer, id: &str, alg: SigningAlg, with_kid: bool) -> StatusCode {
    let mut header = json!({"alg": alg.as_str()});
    if with_kid {
        header["kid"] = json!(rsa_kid());
    }
    let assertion = sign_jws(&interop_key("rsa2048", alg), &header, &srv.claims(id));
    srv.token_assertion(&assertion, &[]).await.status()
}

#[tokio::test]
async fn rsa_key_without_alg_verifies_rs256_ps256_and_ps384() {
    let srv = TestServer::start().await;
    srv.key_client("fapi", &[rsa_jwk_without_alg()], json!({})).await;
    for alg in [SigningAlg::RS256, SigningAlg::PS256, SigningAlg::PS384] {
        assert_eq!(
            token_signed(&srv, "fapi", alg, true).await,
            StatusCode::OK,
            "{alg} with kid"
        );
        assert_eq!(
            token_signed(&srv, "fapi", alg, false).await,
            StatusCode::OK,
            "{alg} without kid"
        );
    }
    let list = credential_list(&srv, "fapi").await;
    assert_eq!(list[0]["alg"], Value::Null, "registered without alg: {list}");
}

#[tokio::test]
async fn rejects_ps256_with_a_key_registered_for_rs256() {
    let srv = TestServer::start().await;
    srv.key_client("pinned-key", &[interop_jwk("rsa2048")], json!({}))
        .await;
    assert_eq!(
        token_signed(&srv, "pinned-key", SigningAlg::RS256, true).await,
        StatusCode::OK
    );
    let before = srv.replay_entries().await;
    // The failure counters are the test binary's, shared by its tests: compare differences.
    let (mismatch, none) = (
        srv.auth_failures("key.alg_mismatch").await,
        srv.auth_failures("key.none_for_alg").await,
    );
    let resp = {
        let header = json!({"alg": "PS256", "kid": rsa_kid()});
        let a = sign_jws(
            &interop_key("rsa2048", SigningAlg::PS256),
            &header,
            &srv.claims("pinned-key"),
        );
        srv.token_assertion(&a, &[]).await
    };
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(srv.auth_failures("key.alg_mismatch").await, mismatch + 1);
    assert_eq!(
        srv.replay_entries().await,
        before,
        "nothing stored for a refused assertion"
    );
    // Without a kid, no key fits PS256.
    assert_eq!(
        token_signed(&srv, "pinned-key", SigningAlg::PS256, false).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(srv.auth_failures("key.none_for_alg").await, none + 1);
}

#[tokio::test]
async fn rejects_an_algorithm_of_another_family_for_a_key_without_alg() {
    let srv = TestServer::start().await;
    srv.key_client("rsa-only", &[rsa_jwk_without_alg()], json!({}))
        .await;
    let header = json!({"alg": "ES256", "kid": rsa_kid()});
    let ec = keyward_testkit::fixtures::ec_key();
    let a = sign_jws(&ec, &header, &srv.claims("rsa-only"));
    let before = srv.auth_failures("key.alg_mismatch").await;
    let resp = srv.token_assertion(&a, &[]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(srv.auth_failures("key.alg_mismatch").await, before + 1);
}

#[tokio::test]
async fn a_key_without_alg_verifies_only_what_the_client_allows() {
    let srv = TestServer::start().await;
    srv.key_client(
        "ps-only",
        &[rsa_jwk_without_alg()],
        json!({"token_endpoint_auth_signing_alg": "PS256"}),
    )
    .await;
    assert_eq!(
        token_signed(&srv, "ps-only", SigningAlg::PS256, true).await,
        StatusCode::OK
    );
    let before = srv.auth_failures("assertion.alg_not_allowed").await;
    assert_eq!(
        token_signed(&srv, "ps-only", SigningAlg::RS256, true).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(srv.auth_failures("assertion.alg_not_allowed").await, before + 1);
}

#[tokio::test]
async fn imported_pem_key_without_alg_verifies_its_family_and_with_alg_only_that() {
    let srv = TestServer::start().await;
    srv.key_client("pem-free", &[], json!({})).await;
    srv.key_client("pem-pinned", &[], json!({})).await;
    let pem = keyward_testkit::fixtures::interop_text("sample-rsa2048-public-spki.pem");
    for (id, alg) in [("pem-free", None), ("pem-pinned", Some("PS384"))] {
        let mut body = json!({"format": "pem", "data": pem});
        if let Some(a) = alg {
            body["alg"] = json!(a);
        }
        let (status, answer) = srv
            .admin(
                reqwest::Method::POST,
                &format!("/admin/clients/{id}/credentials"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    // The imported key's kid is its thumbprint, which the interop JWK's kid also is.
    assert_eq!(
        token_signed(&srv, "pem-free", SigningAlg::PS512, true).await,
        StatusCode::OK
    );
    assert_eq!(
        token_signed(&srv, "pem-free", SigningAlg::RS384, true).await,
        StatusCode::OK
    );
    assert_eq!(
        token_signed(&srv, "pem-pinned", SigningAlg::PS384, true).await,
        StatusCode::OK
    );
    assert_eq!(
        token_signed(&srv, "pem-pinned", SigningAlg::PS256, true).await,
        StatusCode::UNAUTHORIZED
    );
}
