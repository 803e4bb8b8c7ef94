//! Two `keyward serve` processes on two loopback ports sharing one PostgreSQL database
//!: the replay store is shared and atomic, admin changes on one node reach the other
//! within 1 s, and tokens from either node verify with the other's `/jwks`.
//! Needs the PostgreSQL at `KEYWARD_TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use keyward_jose::SigningKey;
use keyward_testkit::{
    cluster::*,
    fixtures::{ec_jwk, ec_key, ec_kid},
    jose::{verifies_at, verify_at},
    jwks_server::JwksServer,
    oauth::kid_of,
    remote::*,
};
use keyward_types::SigningAlg;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const WITHIN: Duration = Duration::from_secs(1);

/// Polls (every 50 ms, giving up after 3 s) until `check` holds, and asserts it took < 1 s.
macro_rules! within_one_second {
    ($what:expr, $check:expr) => {{
        let took = time_until(Duration::from_secs(3), || async { $check }).await;
        eprintln!("[timing] {}: {took:?}", $what);
        let took = took.unwrap_or_else(|| panic!("{} did not happen within 3 s", $what));
        assert!(took < WITHIN, "{} took {took:?}, more than 1 s", $what);
        took
    }};
}

/// A second ES256 key and its public JWK (with `kid`).
fn other_key() -> (SigningKey, Value) {
    let key = SigningKey::generate(SigningAlg::ES256).unwrap();
    let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
    jwk["kid"] = json!(key.kid());
    (key, jwk)
}

#[tokio::test]
async fn assertion_sent_to_both_nodes_at_once_gets_exactly_one_token() {
    let _serial = serial().await;
    // Each race ends in one refused replay, on purpose: the failure limiter must not answer them.
    let c = Cluster::start_with(NodeEnv::allow_many_auth_failures).await;
    let meta = json!({"client_id": "svc-race", "token_endpoint_auth_method": "private_key_jwt",
        "scope": "read", "jwks": {"keys": [ec_jwk()]}});
    let (id, _) = create_client(&c.http, &c.a.base, meta).await;
    let (key, kid) = (ec_key(), ec_kid());
    let mut won_by_a = 0;
    for round in 0..20 {
        let (assertion, jti) = key_assertion(&key, &kid, &id);
        let (on_a, on_b) = tokio::join!(
            token_assertion(&c.http, &c.a.base, &assertion),
            token_assertion(&c.http, &c.b.base, &assertion)
        );
        let (ok, rejected) = match (on_a.0.as_u16(), on_b.0.as_u16()) {
            (200, 401) => {
                won_by_a += 1;
                (on_a, on_b)
            }
            (401, 200) => (on_b, on_a),
            (a, b) => panic!(
                "round {round} (jti {jti}): A answered {a} {}, B answered {b} {}",
                on_a.1, on_b.1
            ),
        };
        access_token(&ok);
        assert_invalid_client(&rejected);
    }
    eprintln!(
        "[stats] 20 races: A issued {won_by_a}, B issued {}",
        20 - won_by_a
    );
}

#[tokio::test]
async fn disabling_a_client_on_a_is_seen_by_b_within_one_second() {
    let _serial = serial().await;
    let c = Cluster::start().await;
    let (id, secret) = create_client(
        &c.http,
        &c.a.base,
        json!({"client_id": "svc-disable", "scope": "read"}),
    )
    .await;
    // B authenticates the client once, so B has it in its cache.
    access_token(&token_basic(&c.http, &c.b.base, &id, &secret).await);

    let (status, body) = admin(
        &c.http,
        &c.a.base,
        Method::PATCH,
        &format!("/admin/clients/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    within_one_second!(
        "B rejects the client disabled on A",
        token_basic(&c.http, &c.b.base, &id, &secret).await.0 == StatusCode::UNAUTHORIZED
    );
    assert_invalid_client(&token_basic(&c.http, &c.b.base, &id, &secret).await);
    assert_invalid_client(&token_basic(&c.http, &c.a.base, &id, &secret).await);
}

/// An authenticator switch on A (secret → key) reaches B's client cache: B refuses the
/// secret and accepts the key within a second.
#[tokio::test]
async fn switching_the_authenticator_on_a_is_seen_by_b_within_one_second() {
    let _serial = serial().await;
    let c = Cluster::start().await;
    let (id, secret) = create_client(
        &c.http,
        &c.a.base,
        json!({"client_id": "svc-switch", "scope": "read", "token_endpoint_auth_method": "client_secret_post"}),
    )
    .await;
    access_token(&token_post(&c.http, &c.b.base, &id, &secret).await);

    let (status, body) = admin(
        &c.http,
        &c.a.base,
        Method::PATCH,
        &format!("/admin/clients/{id}"),
        Some(json!({"token_endpoint_auth_method": "private_key_jwt"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin(
        &c.http,
        &c.a.base,
        Method::POST,
        &format!("/admin/clients/{id}/credentials"),
        Some(json!({"format": "jwk", "data": ec_jwk().to_string()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    within_one_second!(
        "B refuses the secret of a client switched to private_key_jwt on A",
        token_post(&c.http, &c.b.base, &id, &secret).await.0 == StatusCode::UNAUTHORIZED
    );
    let (assertion, _) = key_assertion(&ec_key(), &ec_kid(), &id);
    access_token(&token_assertion(&c.http, &c.b.base, &assertion).await);
}

#[tokio::test]
async fn rotated_secret_with_no_grace_is_rejected_on_b_within_one_second() {
    let _serial = serial().await;
    let c = Cluster::start().await;
    let (id, old) = create_client(
        &c.http,
        &c.a.base,
        json!({"client_id": "svc-rotate", "scope": "read"}),
    )
    .await;
    access_token(&token_basic(&c.http, &c.b.base, &id, &old).await);

    let (status, body) = admin(
        &c.http,
        &c.a.base,
        Method::POST,
        &format!("/admin/clients/{id}/secret"),
        Some(json!({"grace_period_seconds": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = body["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    within_one_second!(
        "B rejects the secret rotated away on A",
        token_basic(&c.http, &c.b.base, &id, &old).await.0 == StatusCode::UNAUTHORIZED
    );
    assert_invalid_client(&token_basic(&c.http, &c.b.base, &id, &old).await);
    access_token(&token_basic(&c.http, &c.b.base, &id, &new).await);
    access_token(&token_basic(&c.http, &c.a.base, &id, &new).await);
}

#[tokio::test]
async fn deleting_a_credential_on_a_is_seen_by_b_within_one_second() {
    let _serial = serial().await;
    let c = Cluster::start().await;
    let (other, other_jwk) = other_key();
    let meta = json!({"client_id": "svc-creds", "token_endpoint_auth_method": "private_key_jwt",
        "scope": "read", "jwks": {"keys": [ec_jwk(), other_jwk]}});
    let (id, _) = create_client(&c.http, &c.a.base, meta).await;
    let (key, kid) = (ec_key(), ec_kid());
    access_token(&token_assertion(&c.http, &c.b.base, &key_assertion(&key, &kid, &id).0).await);

    let (status, list) = admin(
        &c.http,
        &c.a.base,
        Method::GET,
        &format!("/admin/clients/{id}/credentials"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let credential = list["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("no credential with kid {kid}: {list}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/admin/clients/{id}/credentials/{credential}");
    let (status, body) = admin(&c.http, &c.a.base, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    within_one_second!(
        "B rejects the key deleted on A",
        token_assertion(&c.http, &c.b.base, &key_assertion(&key, &kid, &id).0)
            .await
            .0
            == StatusCode::UNAUTHORIZED
    );
    assert_invalid_client(&token_assertion(&c.http, &c.b.base, &key_assertion(&key, &kid, &id).0).await);
    // The client's other key still works on B.
    access_token(&token_assertion(&c.http, &c.b.base, &key_assertion(&other, other.kid(), &id).0).await);
}

#[tokio::test]
async fn clearing_the_jwks_cache_on_a_reaches_b() {
    let _serial = serial().await;
    let c = Cluster::start().await;
    let served = JwksServer::start(&[ec_jwk()]).await;
    let meta = json!({"client_id": "svc-jwks-uri", "token_endpoint_auth_method": "private_key_jwt",
        "scope": "read", "jwks_uri": served.url()});
    let (id, _) = create_client(&c.http, &c.a.base, meta).await;
    let (key, kid) = (ec_key(), ec_kid());
    let (other, other_jwk) = other_key();
    // B fetches and caches the key set, and spends its one refetch for an unknown kid (the
    // cooldown is an hour), so from now on only a cache clear makes B fetch again.
    access_token(&token_assertion(&c.http, &c.b.base, &key_assertion(&key, &kid, &id).0).await);
    assert_invalid_client(
        &token_assertion(&c.http, &c.b.base, &key_assertion(&other, "not-served", &id).0).await,
    );

    served.set_keys(&[other_jwk]);
    let with_new_key =
        || async { token_assertion(&c.http, &c.b.base, &key_assertion(&other, other.kid(), &id).0).await };
    // B still has the old set: the new key is unknown to it, and the old one still works there.
    assert_invalid_client(&with_new_key().await);
    access_token(&token_assertion(&c.http, &c.b.base, &key_assertion(&key, &kid, &id).0).await);

    let (status, body) = admin(
        &c.http,
        &c.a.base,
        Method::POST,
        "/admin/keys-cache/clear",
        Some(json!({"client_id": id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    within_one_second!(
        "B uses the new key set after a clear on A",
        with_new_key().await.0 == StatusCode::OK
    );
    assert_invalid_client(&token_assertion(&c.http, &c.b.base, &key_assertion(&key, &kid, &id).0).await);
}

#[tokio::test]
async fn token_from_a_verifies_with_b_jwks() {
    let _serial = serial().await;
    let c = Cluster::start().await;
    let from_a = admin_token(&c.http, &c.a.base).await;
    let claims = verify_at(&c.http, &c.b.base, &from_a).await;
    assert_eq!(claims["iss"], ISSUER);
    let from_b = admin_token(&c.http, &c.b.base).await;
    verify_at(&c.http, &c.a.base, &from_b).await;
    let old_kid = kid_of(&from_a);
    assert_eq!(
        kid_of(&from_b),
        old_kid,
        "the two nodes sign with different active keys"
    );

    let dir = tempfile::tempdir().unwrap();
    let (status, rotate) = c.env.run(dir.path(), &["admin", "rotate-signing-key"]);
    let rotated_at = Instant::now();
    assert!(
        status.success() && rotate.stdout_text().contains("new active signing key: "),
        "rotate-signing-key failed\n--- stdout:\n{}\n--- stderr:\n{}",
        rotate.stdout_text(),
        rotate.stderr_text()
    );
    let out = rotate.stdout_text();
    let new_kid = out
        .rsplit("new active signing key: ")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(new_kid, old_kid);

    let took = time_until(Duration::from_secs(10), || async {
        let token = admin_token(&c.http, &c.a.base).await;
        kid_of(&token) == new_kid && verifies_at(&c.http, &c.b.base, &token).await
    })
    .await;
    let took = took.map(|_| rotated_at.elapsed());
    eprintln!("[timing] A signs with the rotated key, verified by B's /jwks: {took:?}");
    let took = took.expect("A never signed with the new key verifiable by B within 10 s");
    assert!(
        took < WITHIN,
        "A's token with the new key verified by B's /jwks after {took:?}"
    );
    // Tokens signed before the rotation still verify, on both nodes.
    verify_at(&c.http, &c.b.base, &from_a).await;
    verify_at(&c.http, &c.a.base, &from_b).await;
    let from_b = admin_token(&c.http, &c.b.base).await;
    assert_eq!(kid_of(&from_b), new_kid);
    verify_at(&c.http, &c.a.base, &from_b).await;
}

#[tokio::test]
async fn rotating_through_a_admin_api_signs_on_a_at_once_and_reaches_b_within_one_second() {
    let _serial = serial().await;
    let c = Cluster::start().await;
    let before = admin_token(&c.http, &c.a.base).await;
    let old_kid = kid_of(&before);

    let (status, body) = admin(
        &c.http,
        &c.a.base,
        Method::POST,
        "/admin/signing-keys/rotate",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_kid = body["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);

    // A reloaded before it answered: its very next token carries the new kid.
    let from_a = admin_token(&c.http, &c.a.base).await;
    assert_eq!(kid_of(&from_a), new_kid);
    verify_at(&c.http, &c.a.base, &from_a).await;
    within_one_second!(
        "B publishes and signs with the key rotated on A",
        verifies_at(&c.http, &c.b.base, &from_a).await
            && kid_of(&admin_token(&c.http, &c.b.base).await) == new_kid
    );
    verify_at(&c.http, &c.b.base, &before).await;
}
