//! The crate's errors: a config that cannot be used (named key, file, reason), and a token,
//! introspection or revocation request that failed (with the server's own `error` and
//! `error_description` when it sent them).

use std::path::PathBuf;

use thiserror::Error;

/// Why a client config was refused. Messages name the key or file and never contain a secret.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid {format}: {message}")]
    Syntax {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("missing required key `{0}`")]
    MissingKey(String),
    #[error("`{key}` must be {expected}")]
    WrongType { key: String, expected: &'static str },
    #[error("`{key}`: {message}")]
    InvalidValue { key: String, message: String },
    #[error("`{key}` refers to environment variable {name}, which is not set")]
    MissingEnv { key: String, name: String },
    #[error("unknown client authentication method '{0}' (client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt)")]
    UnknownMethod(String),
    #[error("keystore file {file} not found (looked in: {})", .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    KeystoreNotFound { file: String, searched: Vec<PathBuf> },
    #[error("cannot use the key in {path}: {source}")]
    Key {
        path: PathBuf,
        #[source]
        source: keyward_keys::KeyError,
    },
    #[error("the key in {path} cannot sign {alg}: {source}")]
    KeyAlg {
        path: PathBuf,
        alg: &'static str,
        #[source]
        source: keyward_jose::JoseError,
    },
}

/// Why a token could not be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The server refused the request (a 4xx, never retried) or kept failing (5xx after the
    /// retries); `error` and `error_description` are the server's (RFC 6749 §5.2).
    #[error("the server answered {status}: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Server {
        status: u16,
        error: String,
        description: Option<String>,
    },
    #[error("request to {url} failed: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected response from {url}: {message}")]
    BadResponse { url: String, message: String },
    #[error("no token endpoint: give one, or an issuer whose metadata names it")]
    NoTokenEndpoint,
    /// The issuer's metadata names no such endpoint (`introspection_endpoint`,
    /// `revocation_endpoint`): the server does not offer the call.
    #[error("the issuer's metadata names no {0}")]
    NoEndpoint(&'static str),
    #[error("cannot sign the client assertion: {0}")]
    Signing(#[source] keyward_jose::JoseError),
    #[error("the operating system's random generator failed")]
    Random,
    #[error("header {0} cannot hold the value given")]
    InvalidHeader(String),
}

impl ClientError {
    /// The server's OAuth `error` code, when it sent one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            ClientError::Server { error, .. } => Some(error),
            _ => None,
        }
    }
}
