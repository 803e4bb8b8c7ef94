//! Client assertions (RFC 7523) as a client sends them: one form body per token request, each
//! with a fresh `jti`. Shared by `assertions` (pre-signed files for wrk) and `soak` (signed on the
//! fly, because a half-hour run outlives any assertion).

use std::path::Path;

use anyhow::{bail, Context};
use aws_lc_rs::hmac;
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_jose::{b64_encode, SigningKey};
use keyward_types::SigningAlg;
use serde_json::json;

/// What signs: the client's private key (`private_key_jwt`) or its secret (`client_secret_jwt`).
enum Key {
    Private(Box<SigningKey>),
    Secret(Box<hmac::Key>),
}

/// Signs assertions for one client (or a family of numbered copies of it) and one audience.
pub(crate) struct Signer {
    header: String,
    key: Key,
    aud: String,
    lifetime: i64,
}

impl Signer {
    /// `key` is a PKCS#8 PEM file (asymmetric algs), `secret` the client secret (HS algs).
    pub(crate) fn new(
        alg: SigningAlg,
        key: Option<&Path>,
        secret: Option<&str>,
        kid: Option<&str>,
        aud: &str,
        lifetime: i64,
    ) -> anyhow::Result<Self> {
        let key = match (key, secret) {
            (Some(p), _) => Key::Private(Box::new(SigningKey::from_pkcs8(
                alg,
                zeroize::Zeroizing::new(pem_der(p)?),
            )?)),
            (None, Some(s)) => {
                let a = match alg {
                    SigningAlg::HS256 => hmac::HMAC_SHA256,
                    SigningAlg::HS384 => hmac::HMAC_SHA384,
                    SigningAlg::HS512 => hmac::HMAC_SHA512,
                    _ => bail!("a secret signs only HS256/384/512"),
                };
                Key::Secret(Box::new(hmac::Key::new(a, s.as_bytes())))
            }
            (None, None) => bail!("give --key or --secret"),
        };
        let header = match kid {
            Some(kid) => json!({"alg": alg.as_str(), "typ": "JWT", "kid": kid}),
            None => json!({"alg": alg.as_str(), "typ": "JWT"}),
        };
        Ok(Self {
            header: b64_encode(header.to_string()),
            key,
            aud: aud.to_owned(),
            lifetime,
        })
    }

    /// A `client_credentials` form body carrying a new assertion of `client_id`, issued at `now`
    /// (unix seconds) with a random `jti`.
    pub(crate) fn body(&self, client_id: &str, now: i64) -> anyhow::Result<String> {
        let jti = keyward_types::random::uuid()?;
        let claims = json!({
            "iss": client_id, "sub": client_id, "aud": self.aud,
            "iat": now, "exp": now + self.lifetime, "jti": jti.simple().to_string(),
        });
        let input = format!("{}.{}", self.header, b64_encode(claims.to_string()));
        let sig = match &self.key {
            Key::Private(k) => k.sign(input.as_bytes())?,
            Key::Secret(k) => hmac::sign(k, input.as_bytes()).as_ref().to_vec(),
        };
        let jwt = format!("{input}.{}", b64_encode(sig));
        Ok(url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", &jwt)
            .finish())
    }
}

fn pem_der(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    Ok(STANDARD.decode(body)?)
}
