//! The token requests of the soak: one client per authentication method, taken in turn, each
//! request as that client's real software sends it (assertions signed when sent, fresh `jti`).

use std::{path::Path, sync::Arc, time::Instant};

use anyhow::Context;
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_types::{Clock, SigningAlg, SystemClock};
use serde_json::{json, Value};

use super::{
    admin::Admin,
    stats::{Outcome, Recorder},
};
use crate::assertion::Signer;

/// The four methods, in the order requests take them.
const METHODS: [&str; 4] = ["basic", "post", "client_secret_jwt", "private_key_jwt"];

pub(crate) struct Mix {
    http: reqwest::Client,
    token_url: String,
    basic_header: String,
    post_body: String,
    secret_jwt: Signer,
    private_key_jwt: Signer,
}

impl Mix {
    /// Registers `soak-basic`, `soak-post`, `soak-jwt` (HS256) and `soak-pkjwt` (the ES256 key
    /// `key`, its public JWK `jwk`), scope `read`.
    pub(crate) async fn register(
        http: reqwest::Client,
        base: &str,
        issuer: &str,
        admin: &Admin,
        key: &Path,
        jwk: &Value,
        lifetime: i64,
    ) -> anyhow::Result<Self> {
        let secret_of = |v: Value| -> anyhow::Result<String> {
            v.get("client_secret")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .context("no client_secret in the registration response")
        };
        let basic = secret_of(
            admin
                .register(&json!({"client_id": "soak-basic", "scope": "read"}))
                .await?,
        )?;
        let post = secret_of(
            admin
                .register(&json!({"client_id": "soak-post", "scope": "read",
                    "token_endpoint_auth_method": "client_secret_post"}))
                .await?,
        )?;
        let jwt = secret_of(
            admin
                .register(&json!({"client_id": "soak-jwt", "scope": "read",
                    "token_endpoint_auth_method": "client_secret_jwt"}))
                .await?,
        )?;
        admin
            .register(&json!({"client_id": "soak-pkjwt", "scope": "read",
                "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [jwk]}}))
            .await?;
        let kid = jwk.get("kid").and_then(Value::as_str);
        Ok(Self {
            http,
            token_url: format!("{base}/token"),
            basic_header: format!("Basic {}", STANDARD.encode(format!("soak-basic:{basic}"))),
            // Generated secrets are base64url: nothing to escape in a form.
            post_body: format!("grant_type=client_credentials&client_id=soak-post&client_secret={post}"),
            secret_jwt: Signer::new(
                SigningAlg::HS256,
                None,
                Some(jwt.as_str()),
                None,
                issuer,
                lifetime,
            )?,
            private_key_jwt: Signer::new(SigningAlg::ES256, Some(key), None, kid, issuer, lifetime)?,
        })
    }

    /// Sends request number `i` of the run and records it, its latency counted from `due`.
    pub(crate) async fn send(self: Arc<Self>, i: u64, due: Instant, recorder: &Recorder) {
        let at = usize::try_from(i % 4).unwrap_or(0);
        let method = METHODS.get(at).copied().unwrap_or("basic");
        let now = SystemClock.now().unix_timestamp();
        let request = self
            .http
            .post(&self.token_url)
            .header("Content-Type", "application/x-www-form-urlencoded");
        let body = match at {
            0 => Ok(request
                .header("Authorization", &self.basic_header)
                .body("grant_type=client_credentials")),
            1 => Ok(request.body(self.post_body.clone())),
            2 => self.secret_jwt.body("soak-jwt", now).map(|b| request.body(b)),
            _ => self
                .private_key_jwt
                .body("soak-pkjwt", now)
                .map(|b| request.body(b)),
        };
        let outcome = match body {
            Ok(request) => match request.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    // Read the body: the connection is reused only after it.
                    Outcome::of(r.bytes().await.map(|_| status))
                }
                Err(e) => Outcome::of(Err(e)),
            },
            Err(_) => Outcome::Transport("signing"),
        };
        recorder.token(method, &outcome, due.elapsed());
    }
}
