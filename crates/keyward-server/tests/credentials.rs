//! The credential list of a `private_key_jwt` client: disabled, expired or deleted credentials
//! never verify an assertion; every change is audited with the key's thumbprint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::server::*;
use keyward_types::SigningAlg;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A client with the interop EC P-256 key; returns the credential id.
async fn ec_client(srv: &TestServer, id: &str) -> String {
    srv.key_client(id, &[interop_jwk("ec256")], json!({})).await;
    let (status, body) = srv
        .admin(Method::GET, &format!("/admin/clients/{id}/credentials"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    body["credentials"][0]["id"].as_str().unwrap().to_owned()
}

fn ec_assertion(srv: &TestServer, id: &str) -> String {
    let key = interop_key("ec256", SigningAlg::ES256);
    sign_jws(
        &key,
        &json!({"alg": "ES256", "kid": interop_jwk("ec256")["kid"]}),
        &srv.claims(id),
    )
}

#[tokio::test]
async fn lists_credentials_with_public_fields_only() {
    let srv = TestServer::start().await;
    ec_client(&srv, "list").await;
    let (_, body) = srv
        .admin(Method::GET, "/admin/clients/list/credentials", None)
        .await;
    let c = &body["credentials"][0];
    let jwk = interop_jwk("ec256");
    assert_eq!(c["kid"], jwk["kid"]);
    assert_eq!(
        c["thumbprint"], jwk["kid"],
        "the interop kid is the RFC 7638 thumbprint"
    );
    assert_eq!(c["alg"], "ES256");
    assert_eq!(c["enabled"], true);
    assert_eq!(c["jwk"]["x"], jwk["x"]);
    assert!(c["jwk"].get("d").is_none());
    let (_, client) = srv.admin(Method::GET, "/admin/clients/list", None).await;
    assert_eq!(client["jwks"]["keys"][0]["kid"], jwk["kid"]);
}

#[tokio::test]
async fn rejects_assertion_signed_with_disabled_credential() {
    let srv = TestServer::start().await;
    let cred = ec_client(&srv, "dis").await;
    let (status, body) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/dis/credentials/{cred}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    let (before, replay) = (srv.snapshot().await, srv.replay_entries().await);
    assert_invalid_client(srv.token_assertion(&ec_assertion(&srv, "dis"), &[]).await, false).await;
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(srv.replay_entries().await, replay);
    assert!(srv
        .metrics()
        .await
        .contains(r#"reason="key.credential_disabled""#));
    // Enabled again, the same key works.
    srv.admin(
        Method::PATCH,
        &format!("/admin/clients/dis/credentials/{cred}"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(
        srv.token_assertion(&ec_assertion(&srv, "dis"), &[])
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn rejects_assertion_signed_with_expired_credential() {
    let srv = TestServer::start().await;
    let cred = ec_client(&srv, "exp").await;
    let now = time::OffsetDateTime::from_unix_timestamp(srv.clock_now()).unwrap();
    let at = (now + time::Duration::seconds(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, _) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/exp/credentials/{cred}"),
            Some(json!({"expires_at": at})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        srv.token_assertion(&ec_assertion(&srv, "exp"), &[])
            .await
            .status(),
        StatusCode::OK
    );
    srv.clock.advance(time::Duration::seconds(11));
    let (before, replay) = (srv.snapshot().await, srv.replay_entries().await);
    assert_invalid_client(srv.token_assertion(&ec_assertion(&srv, "exp"), &[]).await, false).await;
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(srv.replay_entries().await, replay);
    assert!(srv.metrics().await.contains(r#"reason="key.credential_expired""#));
}

#[tokio::test]
async fn rejects_assertion_after_credential_deleted() {
    let srv = TestServer::start().await;
    let cred = ec_client(&srv, "del").await;
    let (status, _) = srv
        .admin(
            Method::DELETE,
            &format!("/admin/clients/del/credentials/{cred}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_invalid_client(srv.token_assertion(&ec_assertion(&srv, "del"), &[]).await, false).await;
    let (status, _) = srv
        .admin(
            Method::DELETE,
            &format!("/admin/clients/del/credentials/{cred}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rejects_credential_expiry_in_the_past() {
    let srv = TestServer::start().await;
    let cred = ec_client(&srv, "past").await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/past/credentials/{cred}"),
            Some(json!({"expires_at": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_key");
    assert_eq!(body["reason"], "expires_at_in_past");
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn credential_changes_are_audited_with_thumbprint() {
    let srv = TestServer::start().await;
    let cred = ec_client(&srv, "aud").await;
    srv.admin(
        Method::PATCH,
        &format!("/admin/clients/aud/credentials/{cred}"),
        Some(json!({"name": "build server"})),
    )
    .await;
    srv.admin(
        Method::DELETE,
        &format!("/admin/clients/aud/credentials/{cred}"),
        None,
    )
    .await;
    let (_, log) = srv.admin(Method::GET, "/admin/audit", None).await;
    let events: Vec<&Value> = log["events"].as_array().unwrap().iter().collect();
    let thumb = interop_jwk("ec256")["kid"].clone();
    for action in ["credential.delete", "credential.update"] {
        let e = events.iter().find(|e| e["action"] == action).unwrap();
        assert_eq!(e["detail"]["thumbprint"], thumb);
        assert_eq!(e["target"], "aud");
        assert_eq!(e["outcome"], "success");
    }
    let create = events
        .iter()
        .find(|e| e["action"] == "client.create" && e["target"] == "aud")
        .unwrap();
    assert_eq!(create["detail"]["credentials"][0]["thumbprint"], thumb);
}
