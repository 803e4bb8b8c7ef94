#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The library against an authorization server not written here: panva's `oidc-provider`
//! (Node.js, pinned in the testkit's install), started by the test on a loopback port, with
//! `client_secret_basic` and `private_key_jwt`. Discovery, the assertion's claims and the Basic
//! encoding all have to suit a server that keyward's own tests cannot bend.

use std::{path::Path, time::Duration};

use keyward_client::{ClientConfig, ClientError, TokenClient, TokenRequest};
use keyward_testkit::{
    fixtures::interop,
    node::node_script,
    process::{Proc, Stream},
};
use serde_json::{json, Value};

/// oidc-provider on a free port, and its issuer.
fn provider() -> (Proc, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/oidc_provider.mjs");
    let mut cmd = node_script(&script);
    cmd.arg(interop("sample-ec256-public.jwk"));
    let mut proc = Proc::spawn(cmd);
    let line = proc.wait_line(
        Stream::Stdout,
        |l| l.starts_with("ISSUER "),
        Duration::from_secs(60),
    );
    let issuer = line.trim().trim_start_matches("ISSUER ").to_owned();
    (proc, issuer)
}

fn load(dir: &Path, config: &Value) -> ClientConfig {
    let path = dir.join("client.json");
    std::fs::write(&path, config.to_string()).unwrap();
    ClientConfig::load(&path).unwrap()
}

async fn token(config: ClientConfig) -> Result<String, ClientError> {
    let client = TokenClient::new(config).unwrap();
    client
        .token(&TokenRequest::default())
        .await
        .map(|t| t.secret().to_owned())
}

#[tokio::test]
async fn client_secret_basic_and_private_key_jwt_get_tokens_from_oidc_provider() {
    let (_provider, issuer) = provider();
    let dir = tempfile::tempdir().unwrap();
    let basic = load(
        dir.path(),
        &json!({"issuer": issuer, "client_id": "basic-client", "method": "client_secret_basic",
            "secret": "basic-secret-0123456789abcdef"}),
    );
    assert!(!token(basic).await.unwrap().is_empty());
    let key = load(
        dir.path(),
        &json!({"issuer": issuer, "client_id": "key-client", "method": "private_key_jwt",
            "key_file": interop("sample-ec256-private.pem").to_str().unwrap()}),
    );
    assert!(!token(key).await.unwrap().is_empty());
    // And its refusal reaches the caller typed.
    let wrong = load(
        dir.path(),
        &json!({"issuer": issuer, "client_id": "basic-client", "method": "client_secret_basic",
            "secret": "not-it"}),
    );
    let err = token(wrong).await.unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_client"), "{err}");
}
