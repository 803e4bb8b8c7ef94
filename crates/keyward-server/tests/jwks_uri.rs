//! `private_key_jwt` clients with a `jwks_uri`: keys fetched, cached and refreshed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{jwks_server::JwksServer, *};
use keyward_types::SigningAlg;
use reqwest::StatusCode;
use serde_json::json;

/// A server that may fetch JWKS over http from loopback, as these tests serve them.
async fn open_server() -> TestServer {
    TestServer::start_with(|c| {
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
    })
    .await
}

#[tokio::test]
async fn first_use_fetches_once_and_cached_key_makes_no_fetch() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    srv.create_client(json!({"client_id": "remote", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks.url()}))
        .await;
    assert_eq!(jwks.hits(), 0, "registration does not fetch");
    let key = interop_key("ec256", SigningAlg::ES256);
    let header = json!({"alg": "ES256", "kid": interop_jwk("ec256")["kid"]});
    for _ in 0..3 {
        let a = sign_jws(&key, &header, &srv.claims("remote"));
        assert_eq!(srv.token_assertion(&a, &[]).await.status(), StatusCode::OK);
    }
    assert_eq!(jwks.hits(), 1);
}
