#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The library against an authorization server not written here: panva's `oidc-provider`
//! (Node.js, pinned in the testkit's install), started by the test on a loopback port, with
//! `client_secret_basic` and `private_key_jwt`. Discovery, the assertion's claims and the Basic
//! encoding all have to suit a server that keyward's own tests cannot bend; and the authorization
//! code exchange and refresh, which keyward does not serve yet.

use std::{collections::HashMap, path::Path, time::Duration};

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

/// Follows the authorization request's redirects (keeping the provider's cookies, as a browser
/// would) to the redirect URI, and returns the code in it.
async fn authorization_code(issuer: &str, client_id: &str, challenge: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies: HashMap<String, String> = HashMap::new();
    let mut url = format!(
        "{issuer}/auth?client_id={client_id}&response_type=code&redirect_uri={}&scope=openid%20offline_access\
         &prompt=consent&state=st-1&code_challenge={challenge}&code_challenge_method=S256",
        encode(REDIRECT_URI)
    );
    for _ in 0..10 {
        let cookie: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let resp = http
            .get(&url)
            .header("cookie", cookie.join("; "))
            .send()
            .await
            .unwrap();
        for set in resp.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = resp.status();
        let Some(location) = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
        else {
            panic!(
                "{status} without a redirect: {}",
                resp.text().await.unwrap_or_default()
            );
        };
        if let Some(query) = location.strip_prefix(&format!("{REDIRECT_URI}?")) {
            let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(
                params.get("state").map(String::as_str),
                Some("st-1"),
                "{location}"
            );
            return params
                .get("code")
                .unwrap_or_else(|| panic!("no code: {location}"))
                .clone();
        }
        url = if location.starts_with('/') {
            format!("{issuer}{location}")
        } else {
            location
        };
    }
    panic!("no redirect to {REDIRECT_URI} after 10 steps");
}

const REDIRECT_URI: &str = "http://127.0.0.1/callback";

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn code_exchange_and_refresh_authenticate_as_registered_with_oidc_provider() {
    let (_provider, issuer) = provider();
    let dir = tempfile::tempdir().unwrap();
    let verifier = keyward_jose::b64_encode(b"a PKCE verifier of thirty-two b!");
    let challenge = keyward_jose::b64_encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let configs = [
        json!({"issuer": issuer, "client_id": "web-basic", "method": "client_secret_basic",
            "secret": "web-secret-0123456789abcdef"}),
        json!({"issuer": issuer, "client_id": "web-key", "method": "private_key_jwt",
            "key_file": interop("sample-ec256-private.pem").to_str().unwrap()}),
    ];
    for config in configs {
        let client_id = config["client_id"].as_str().unwrap().to_owned();
        let client = TokenClient::new(load(dir.path(), &config)).unwrap();
        let code = authorization_code(&issuer, &client_id, &challenge).await;
        let tokens = client
            .exchange_code(&code, REDIRECT_URI, Some(&verifier))
            .await
            .unwrap_or_else(|e| panic!("{client_id}: {e}"));
        assert!(tokens.id_token.is_some(), "{client_id}: an ID token");
        let refresh = tokens
            .refresh_token()
            .unwrap_or_else(|| panic!("{client_id}: a refresh token"));
        let refreshed = client
            .refresh(refresh, None)
            .await
            .unwrap_or_else(|e| panic!("{client_id}: {e}"));
        assert_ne!(
            refreshed.secret(),
            tokens.secret(),
            "{client_id}: a new access token"
        );
        // A code is single-use: the second exchange is refused, typed.
        let again = client
            .exchange_code(&code, REDIRECT_URI, Some(&verifier))
            .await
            .unwrap_err();
        assert_eq!(again.oauth_error(), Some("invalid_grant"), "{client_id}: {again}");
    }
}
