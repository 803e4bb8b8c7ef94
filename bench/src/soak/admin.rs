//! The admin side of the soak: a bearer token for `keyward-admin`, client registration, and
//! the writes an operator's tooling makes all day (one round per second).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::stats::{Outcome, Recorder};

/// Admin tokens are fetched again after this long, well inside their lifetime.
const TOKEN_REFRESH: Duration = Duration::from_secs(60);

pub(crate) struct Admin {
    http: reqwest::Client,
    base: String,
    secret: String,
    token: Mutex<Option<(String, Instant)>>,
}

impl Admin {
    pub(crate) fn new(http: reqwest::Client, base: &str, secret: String) -> Self {
        Self {
            http,
            base: base.to_owned(),
            secret,
            token: Mutex::new(None),
        }
    }

    async fn bearer(&self) -> anyhow::Result<String> {
        let mut held = self.token.lock().await;
        if let Some((token, at)) = held.as_ref() {
            if at.elapsed() < TOKEN_REFRESH {
                return Ok(token.clone());
            }
        }
        let response = self
            .http
            .post(format!("{}/token", self.base))
            .basic_auth("keyward-admin", Some(&self.secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("admin token: {}", response.status());
        }
        let body: Value = response.json().await?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .context("admin token: no access_token")?
            .to_owned();
        *held = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// One admin call: its status and JSON body (`Null` when empty).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let bearer = self.bearer().await?;
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, json))
    }

    /// Registers a client and returns its response (with `client_secret` for secret methods).
    pub(crate) async fn register(&self, metadata: &Value) -> anyhow::Result<Value> {
        let (status, body) = self
            .call(reqwest::Method::POST, "/admin/clients", Some(metadata))
            .await?;
        if status != 201 {
            bail!("registering {metadata}: {status} {body}");
        }
        Ok(body)
    }

    /// One round of writes, each recorded on its own: create a `private_key_jwt` client, rename
    /// it, import a key, delete the key, delete the client; rotate `rotating`'s secret and get
    /// a token with the new one (the rotation is only done if the new secret works at once).
    pub(crate) async fn round(&self, n: u64, jwk: &str, rotating: &str, recorder: &Recorder) {
        let id = format!("soak-w-{n}");
        let path = format!("/admin/clients/{id}");
        let post = reqwest::Method::POST;
        let create =
            json!({"client_id": id, "scope": "read", "token_endpoint_auth_method": "private_key_jwt"});
        if self
            .step(
                recorder,
                "create",
                post.clone(),
                "/admin/clients",
                Some(&create),
                201,
            )
            .await
            .is_none()
        {
            return;
        }
        let rename = json!({"client_name": format!("soak writer {n}")});
        self.step(
            recorder,
            "update",
            reqwest::Method::PATCH,
            &path,
            Some(&rename),
            200,
        )
        .await;
        let import = json!({"format": "jwk", "name": "soak", "data": jwk});
        let added = self
            .step(
                recorder,
                "credential add",
                post.clone(),
                &format!("{path}/credentials"),
                Some(&import),
                201,
            )
            .await;
        let credential = added
            .as_ref()
            .and_then(|b| b.pointer("/credentials/0/id"))
            .and_then(Value::as_str);
        if let Some(cid) = credential {
            let at = format!("{path}/credentials/{cid}");
            self.step(
                recorder,
                "credential delete",
                reqwest::Method::DELETE,
                &at,
                None,
                204,
            )
            .await;
        }
        self.step(recorder, "delete", reqwest::Method::DELETE, &path, None, 204)
            .await;
        let rotate = json!({});
        let rotated = self
            .step(
                recorder,
                "rotate",
                post,
                &format!("/admin/clients/{rotating}/secret"),
                Some(&rotate),
                200,
            )
            .await;
        if let Some(secret) = rotated
            .as_ref()
            .and_then(|b| b.get("client_secret"))
            .and_then(Value::as_str)
        {
            let started = Instant::now();
            let result = self
                .http
                .post(format!("{}/token", self.base))
                .basic_auth(rotating, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await;
            let outcome = match result {
                Ok(r) => {
                    let status = r.status().as_u16();
                    Outcome::of(r.bytes().await.map(|_| status))
                }
                Err(e) => Outcome::of(Err(e)),
            };
            recorder.admin("new secret works", &outcome, started.elapsed());
        }
    }

    /// Makes one call and records it; the body if the status was the expected one.
    async fn step(
        &self,
        recorder: &Recorder,
        op: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        expect: u16,
    ) -> Option<Value> {
        let started = Instant::now();
        let result = self.call(method, path, body).await;
        let latency = started.elapsed();
        match result {
            Ok((status, body)) if status == expect => {
                recorder.admin(op, &Outcome::Ok, latency);
                Some(body)
            }
            Ok((status, _)) => {
                recorder.admin(op, &Outcome::Status(status), latency);
                None
            }
            Err(e) => {
                let outcome = match e.downcast::<reqwest::Error>() {
                    Ok(e) => Outcome::of(Err(e)),
                    // The admin token could not be had.
                    Err(_) => Outcome::Transport("token"),
                };
                recorder.admin(op, &outcome, latency);
                None
            }
        }
    }
}
