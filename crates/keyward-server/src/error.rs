//! Every error the server can answer with, and the one place that turns them into responses
//! (RFC 6749 §5.2 for the token endpoint, RFC 7591 §3.2.2 and plain JSON for the admin API).

use std::borrow::Cow;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use keyward_storage::StorageError;
use serde_json::json;
use thiserror::Error;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
    #[error("storage: {0}")]
    Storage(String),
    #[error("keys: {0}")]
    Key(String),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
}

impl From<StorageError> for StartError {
    fn from(e: StorageError) -> Self {
        StartError::Storage(e.to_string())
    }
}

/// The one description every client-authentication failure gets; the reason is only logged.
pub(crate) const INVALID_CLIENT_DESCRIPTION: &str = "client authentication failed";

#[derive(Debug, Error)]
pub(crate) enum ApiError {
    #[error("invalid_request: {0}")]
    InvalidRequest(Cow<'static, str>),
    #[error("invalid_client")]
    InvalidClient { used_basic: bool },
    #[error("unauthorized_client")]
    UnauthorizedClient,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    #[error("invalid_target: {0}")]
    InvalidTarget(String),
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// Admin API: missing, malformed, expired or foreign bearer token.
    #[error("invalid_token: {0}")]
    InvalidToken(&'static str),
    /// Admin API: the bearer request itself is malformed (RFC 6750 §3.1 `invalid_request`,
    /// e.g. two `Authorization` headers).
    #[error("invalid_request: {0}")]
    InvalidBearerRequest(&'static str),
    #[error("insufficient_scope")]
    InsufficientScope,
    #[error("invalid_client_metadata: {field}: {message}")]
    InvalidClientMetadata {
        field: Cow<'static, str>,
        message: String,
    },
    /// Admin API: key material refused (`reason` is a stable code from `keyward_keys`).
    #[error("invalid_key: {reason}: {message}")]
    InvalidKey { reason: &'static str, message: String },
    /// Admin API: the key conflicts with the credential list (duplicate, limit).
    #[error("conflict: {reason}: {message}")]
    KeyConflict { reason: &'static str, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// Admin API: every slot for keystore imports and key generation stayed taken.
    #[error("busy: {message}")]
    Busy {
        retry_after_secs: u64,
        message: &'static str,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// `400 invalid_client_metadata` naming the field at fault (RFC 7591 §3.2.2).
    pub(crate) fn field(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::InvalidClientMetadata {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ApiError::NotFound("no such resource".into()),
            StorageError::Conflict(m) => ApiError::Conflict(m),
            StorageError::Unavailable(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn oauth(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({"error": error, "error_description": description.into()});
    (status, Json(body)).into_response()
}

fn with_reason(status: StatusCode, error: &str, reason: &str, description: &str) -> Response {
    let body = json!({"error": error, "reason": reason, "error_description": description});
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = match &self {
            ApiError::InvalidRequest(m) => oauth(StatusCode::BAD_REQUEST, "invalid_request", m.clone()),
            ApiError::InvalidClient { used_basic } => {
                let mut r = oauth(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    INVALID_CLIENT_DESCRIPTION,
                );
                if *used_basic {
                    r.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"keyward\""),
                    );
                }
                r
            }
            ApiError::UnauthorizedClient => oauth(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "the client is not registered for this grant type",
            ),
            ApiError::UnsupportedGrantType => oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type is not supported",
            ),
            ApiError::InvalidScope(m) => oauth(StatusCode::BAD_REQUEST, "invalid_scope", m.clone()),
            ApiError::InvalidTarget(m) => oauth(StatusCode::BAD_REQUEST, "invalid_target", m.clone()),
            ApiError::PayloadTooLarge { limit } => oauth(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("request body exceeds {limit} bytes"),
            ),
            ApiError::UnsupportedMediaType { expected } => oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("content type must be {expected}"),
            ),
            ApiError::InvalidToken(m) => {
                let mut r = oauth(StatusCode::UNAUTHORIZED, "invalid_token", *m);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"keyward\", error=\"invalid_token\""),
                );
                r
            }
            ApiError::InvalidBearerRequest(m) => {
                let mut r = oauth(StatusCode::BAD_REQUEST, "invalid_request", *m);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"keyward\", error=\"invalid_request\""),
                );
                r
            }
            ApiError::InsufficientScope => {
                let mut r = oauth(
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    "the token lacks scope keyward:admin",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"keyward\", error=\"insufficient_scope\", scope=\"keyward:admin\"",
                    ),
                );
                r
            }
            ApiError::InvalidClientMetadata { field, message } => {
                let body = json!({
                    "error": "invalid_client_metadata",
                    "error_description": format!("{field}: {message}"),
                    "field": field,
                });
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
            ApiError::InvalidKey { reason, message } => {
                with_reason(StatusCode::BAD_REQUEST, "invalid_key", reason, message)
            }
            ApiError::KeyConflict { reason, message } => {
                with_reason(StatusCode::CONFLICT, "conflict", reason, message)
            }
            ApiError::NotFound(m) => oauth(StatusCode::NOT_FOUND, "not_found", m.clone()),
            ApiError::Conflict(m) => oauth(StatusCode::CONFLICT, "conflict", m.clone()),
            ApiError::Unavailable(m) => {
                tracing::warn!(error = %m, "storage unavailable");
                oauth(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "storage is unavailable; retry",
                )
            }
            ApiError::Busy {
                retry_after_secs,
                message,
            } => {
                let mut r = oauth(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    *message,
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                r
            }
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                oauth(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal error",
                )
            }
        };
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        resp
    }
}
