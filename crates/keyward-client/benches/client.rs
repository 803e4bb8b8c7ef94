//! The library's own cost: `cargo bench -p keyward-client --bench client`.
//!
//! - `cached_token`: `TokenClient::token` when the token is cached (the common call: a lookup
//!   in the cache map, the entry's async lock, a clock read). Measured through a current-thread
//!   runtime's `block_on`, which adds its own small cost to every iteration.
//! - `assertion/*`: one signed client assertion (claims, a 128-bit random `jti`, JSON, base64,
//!   signature), as sent with every token request of the JWT methods.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::{hint::black_box, path::PathBuf, sync::Arc};

use axum::{routing::post, Router};
use criterion::Criterion;
use keyward_client::{ClientConfig, Credential, TokenClient, TokenRequest, DEFAULT_TOKEN_EXPIRATION};
use keyward_jose::SigningKey;
use keyward_types::{ClientSecret, SigningAlg};

fn interop(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/interop")
        .join(name)
}

fn config(credential: Credential, token_endpoint: Option<String>) -> ClientConfig {
    ClientConfig {
        client_id: "bench".into(),
        issuer: "http://keyward.bench".into(),
        token_endpoint,
        credential,
        token_expiration: DEFAULT_TOKEN_EXPIRATION,
    }
}

fn key_config(path: &str, alg: Option<&str>) -> ClientConfig {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.json");
    let mut native = serde_json::json!({"issuer": "http://keyward.bench", "client_id": "bench",
        "method": "private_key_jwt", "key_file": interop(path).to_str().unwrap()});
    if let Some(alg) = alg {
        native["alg"] = alg.into();
    }
    std::fs::write(&file, native.to_string()).unwrap();
    ClientConfig::load(&file).unwrap()
}

fn assertions(c: &mut Criterion) {
    let mut group = c.benchmark_group("assertion");
    let cases = [
        ("es256", key_config("sample-ec256-private.pem", None)),
        ("rs256", key_config("sample-rsa2048-private.pem", Some("RS256"))),
        (
            "hs256",
            config(
                Credential::ClientSecretJwt {
                    secret: ClientSecret::from_presented("s".repeat(64)),
                    alg: SigningAlg::HS256,
                },
                None,
            ),
        ),
    ];
    for (name, config) in cases {
        let client = TokenClient::new(config).unwrap();
        group.bench_function(name, |b| b.iter(|| black_box(client.assertion().unwrap())));
    }
    group.finish();
    // Keep the type in use so a change of the key API shows here first.
    let _ = SigningKey::generate;
}

fn cached_token(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let endpoint = rt.block_on(async {
        let app = Router::new().route(
            "/token",
            post(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"access_token":"at","token_type":"Bearer","expires_in":3600}"#,
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/token")
    });
    let client = TokenClient::new(config(
        Credential::ClientSecretBasic(ClientSecret::from_presented("s".into())),
        Some(endpoint),
    ))
    .unwrap();
    let request = TokenRequest {
        scope: Some("read".into()),
        audience: None,
    };
    rt.block_on(client.token(&request)).unwrap();
    let client = Arc::new(client);
    c.bench_function("cached_token", |b| {
        b.iter(|| black_box(rt.block_on(client.token(&request)).unwrap()))
    });
}

criterion::criterion_group!(benches, assertions, cached_token);
criterion::criterion_main!(benches);
