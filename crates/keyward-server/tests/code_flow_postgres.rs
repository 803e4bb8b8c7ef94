//! The authorization code flow on PostgreSQL (`KEYWARD_TEST_DATABASE_URL`): codes, grants,
//! refresh rotation, family revocation and consent stored there, as on SQLite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{
    code_flow::*, console::ConsoleClient, oauth::assert_error, pg::TestDb, server::TestServer,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn code_flow_runs_on_postgresql() {
    let db = TestDb::create();
    let url = db.url.clone();
    let key = || {
        let mut bytes = [0u8; 32];
        keyward_types::random::fill(&mut bytes).unwrap();
        keyward_jose::b64_encode(bytes)
    };
    let (pepper, kek) = (key(), key());
    let srv = TestServer::start_with(move |c| {
        c.database_url = url;
        c.pepper = Some(pepper);
        c.key_encryption_key = Some(kek);
    })
    .await;
    create_user(&srv, USER, USER_PASSWORD).await;
    let (id, secret) = code_client(&srv, json!({})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);

    let code = code_for(&srv, &mut browser, &id, &pkce).await;
    let first: Value = exchange(&srv, &id, &secret, &code, &pkce.verifier)
        .await
        .json()
        .await
        .unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert!(first["id_token"].is_string(), "{first}");

    // consent remembered: the second round trip needs no page
    let again = browser
        .get(&format!("/authorize?{}", authorize_query(&id, &pkce, &[])))
        .await;
    let second_code = query_of(again.location().unwrap())["code"].clone();

    // rotation, then reuse revokes the family
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let rotated: Value = token_request(&srv, &id, &secret, &pairs)
        .await
        .json()
        .await
        .unwrap();
    assert!(is_active(&srv, &id, &secret, rotated["refresh_token"].as_str().unwrap()).await);
    assert_error(
        token_request(&srv, &id, &secret, &pairs).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert!(!is_active(&srv, &id, &secret, rotated["refresh_token"].as_str().unwrap()).await);

    // a code used twice revokes what its first use issued
    let second: Value = exchange(&srv, &id, &secret, &second_code, &pkce.verifier)
        .await
        .json()
        .await
        .unwrap();
    let access = second["access_token"].as_str().unwrap();
    assert!(is_active(&srv, &id, &secret, access).await);
    let resp = exchange(&srv, &id, &secret, &second_code, &pkce.verifier).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(!is_active(&srv, &id, &secret, access).await);
    drop(srv);
    drop(db);
}
