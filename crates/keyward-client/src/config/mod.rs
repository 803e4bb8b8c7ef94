//! A confidential client's configuration, from keyward's own format (TOML or JSON) or from a
//! Keycloak adapter `keycloak.json` used unchanged. Loading opens the key too, so a wrong
//! password or alias is reported when the config is read, not at the first token request.

mod fields;
mod key_file;
mod keycloak;
mod native;

use std::{path::Path, sync::Arc};

use keyward_jose::SigningKey;
use keyward_types::{ClientSecret, SigningAlg};
use serde_json::Value;
use time::Duration;

pub use fields::Env;
pub use key_file::CLASSPATH_ENV;

use crate::{
    auth::{ClientAuth, KeyRing, NamedKey, PrivateKeyJwt, SecretBasic, SecretJwt, SecretPost},
    ConfigError,
};

/// How the client authenticates at the token endpoint (RFC 6749 §2.3, RFC 7523, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::ClientSecretBasic => "client_secret_basic",
            Method::ClientSecretPost => "client_secret_post",
            Method::ClientSecretJwt => "client_secret_jwt",
            Method::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        [
            Method::ClientSecretBasic,
            Method::ClientSecretPost,
            Method::ClientSecretJwt,
            Method::PrivateKeyJwt,
        ]
        .into_iter()
        .find(|m| m.as_str() == value)
        .ok_or_else(|| ConfigError::UnknownMethod(value.chars().take(64).collect()))
    }
}

/// What the client proves itself with. Secrets and keys redact themselves in `Debug`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Credential {
    ClientSecretBasic(ClientSecret),
    ClientSecretPost(ClientSecret),
    ClientSecretJwt {
        secret: ClientSecret,
        alg: SigningAlg,
    },
    /// `kid` is the key's RFC 7638 thumbprint unless the config names one. `next` is the key
    /// a rotation moves to: published with the current one, signing only after the rotation.
    PrivateKeyJwt {
        key: Box<SigningKey>,
        kid: String,
        next: Option<(Box<SigningKey>, String)>,
    },
}

impl Credential {
    pub fn method(&self) -> Method {
        match self {
            Credential::ClientSecretBasic(_) => Method::ClientSecretBasic,
            Credential::ClientSecretPost(_) => Method::ClientSecretPost,
            Credential::ClientSecretJwt { .. } => Method::ClientSecretJwt,
            Credential::PrivateKeyJwt { .. } => Method::PrivateKeyJwt,
        }
    }

    /// The built-in [`ClientAuth`] for this credential, signing assertions valid for
    /// `lifetime`.
    pub fn into_auth(self, lifetime: Duration) -> Arc<dyn ClientAuth> {
        match self {
            Credential::ClientSecretBasic(secret) => Arc::new(SecretBasic(secret)),
            Credential::ClientSecretPost(secret) => Arc::new(SecretPost(secret)),
            Credential::ClientSecretJwt { secret, alg } => Arc::new(SecretJwt {
                secret,
                alg,
                lifetime,
            }),
            Credential::PrivateKeyJwt { key, kid, next } => {
                let named = |key: Box<SigningKey>, kid| Arc::new(NamedKey { key: *key, kid });
                let ring = KeyRing {
                    current: named(key, kid),
                    next: next.map(|(key, kid)| named(key, kid)),
                };
                Arc::new(PrivateKeyJwt::new(ring, lifetime))
            }
        }
    }
}

/// A loaded client config.
#[derive(Debug)]
pub struct ClientConfig {
    pub client_id: String,
    /// The issuer identifier: the assertion audience, and where the metadata is discovered.
    pub issuer: String,
    /// Used as given instead of the one in the issuer's metadata.
    pub token_endpoint: Option<String>,
    pub credential: Credential,
    /// Lifetime of each signed assertion (`token-expiration`).
    pub token_expiration: Duration,
}

impl ClientConfig {
    /// Reads `path` with the process environment (placeholders, `KEYWARD_CLIENT_CLASSPATH`).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, &|name: &str| std::env::var(name).ok())
    }

    /// Reads `path`: TOML by its `.toml` extension, else JSON; a JSON object with `realm` or
    /// `resource` is a Keycloak adapter config, anything else keyward's own format.
    pub fn load_with(path: &Path, env: Env<'_>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let syntax = |format, message: String| ConfigError::Syntax {
            path: path.to_owned(),
            format,
            message,
        };
        if path.extension().is_some_and(|e| e == "toml") {
            let value: Value = toml::from_str(&text).map_err(|e| syntax("TOML", e.to_string()))?;
            return native::parse(value, dir, env);
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| syntax("JSON", e.to_string()))?;
        if value.get("realm").is_some() || value.get("resource").is_some() {
            keycloak::parse(value, dir, env)
        } else {
            native::parse(value, dir, env)
        }
    }

    /// Uses `issuer` instead of the configured one (a Keycloak config's is always
    /// `{auth-server-url}/realms/{realm}`; another server lays out its issuer differently).
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Uses `url` as the token endpoint, without discovery.
    pub fn with_token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }
}

/// `token-expiration` in seconds; zero or negative would make every assertion born expired.
pub(crate) fn expiration(key: &str, seconds: Option<i64>) -> Result<Duration, ConfigError> {
    match seconds {
        None => Ok(crate::DEFAULT_TOKEN_EXPIRATION),
        Some(s) if s > 0 => Ok(Duration::seconds(s)),
        Some(s) => Err(ConfigError::InvalidValue {
            key: key.to_owned(),
            message: format!("must be a number of seconds greater than 0, not {s}"),
        }),
    }
}

pub(crate) fn alg(key: &str, value: Option<String>) -> Result<Option<SigningAlg>, ConfigError> {
    value
        .map(|v| {
            v.parse().map_err(|_| ConfigError::InvalidValue {
                key: key.to_owned(),
                message: format!("unknown algorithm '{v}'"),
            })
        })
        .transpose()
}

/// A `client_secret_jwt` algorithm: HS256/384/512 only (an HMAC over the shared secret).
pub(crate) fn hmac_alg(key: &str, value: Option<String>) -> Result<SigningAlg, ConfigError> {
    match alg(key, value)? {
        None => Ok(SigningAlg::HS256),
        Some(a) if a.is_symmetric() => Ok(a),
        Some(a) => Err(ConfigError::InvalidValue {
            key: key.to_owned(),
            message: format!("{} is not an HMAC algorithm (HS256, HS384, HS512)", a.as_str()),
        }),
    }
}

/// A `private_key_jwt` signer: never an HMAC algorithm.
pub(crate) fn key_credential(
    source: key_file::KeySource,
    path: &Path,
    kid: Option<String>,
    alg_key: &str,
) -> Result<Credential, ConfigError> {
    if source.alg.is_some_and(SigningAlg::is_symmetric) {
        return Err(ConfigError::InvalidValue {
            key: alg_key.to_owned(),
            message: "private_key_jwt signs with an asymmetric algorithm (RS*, PS*, ES*, EdDSA)".into(),
        });
    }
    let (key, kid) = named_key(source, path, kid)?;
    Ok(Credential::PrivateKeyJwt { key, kid, next: None })
}

/// Opens a key and names it: the configured `kid`, else its RFC 7638 thumbprint.
pub(crate) fn named_key(
    source: key_file::KeySource,
    path: &Path,
    kid: Option<String>,
) -> Result<(Box<SigningKey>, String), ConfigError> {
    let key = key_file::open(source, path)?;
    let kid = kid.unwrap_or_else(|| key.kid().to_owned());
    Ok((Box::new(key), kid))
}

#[cfg(test)]
mod tests;
