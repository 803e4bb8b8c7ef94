//! Every error the server can answer with, and the one place that turns them into responses
//! (RFC 6749 §5.2 for the token endpoint, RFC 7591 §3.2.2 and plain JSON for the admin API).

use std::{borrow::Cow, fmt};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use keyward_admin::{AdminError, BUSY_MESSAGE};
use keyward_client_auth::DirectoryError;
use keyward_storage::StorageError;
use serde_json::json;
use thiserror::Error;

/// Why a server built from its parts could not start serving.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
    #[error(transparent)]
    Keys(#[from] crate::signing::SigningKeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the JWKS client: {0}")]
    JwksClient(#[source] keyward_jwks_fetch::FetchError),
    #[error("cannot render the discovery document: {0}")]
    Discovery(#[source] serde_json::Error),
    #[error("cannot render the API description: {0}")]
    ApiDocument(#[source] serde_json::Error),
    #[error(transparent)]
    AuthMethod(#[from] keyward_client_auth::DuplicateMethod),
    #[error(transparent)]
    Tls(#[from] crate::listener::tls::TlsError),
    #[error("cannot listen for metrics on {addr} (metrics_listen; empty or none turns it off): {source}")]
    MetricsBind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// Why an access token could not be made: the server's fault, answered with 500.
#[derive(Debug, Error)]
pub(crate) enum IssueError {
    #[error("cannot sign the access token: {0}")]
    Sign(#[source] keyward_jose::JoseError),
    #[error("the signing task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    #[error("the random generator failed")]
    Random(#[source] aws_lc_rs::error::Unspecified),
}

/// Set on a response (by [`ApiError`]'s conversion) when the request failed to authenticate:
/// the failure limiter (`rate_limit`) charges the request's source for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthRejected;

/// The one description every client-authentication failure gets; the reason is only logged.
pub(crate) const INVALID_CLIENT_DESCRIPTION: &str = "client authentication failed";

/// `WWW-Authenticate` of a failed Basic client authentication (RFC 6749 §5.2), with the error
/// and the same fixed description as the body.
const BASIC_CHALLENGE: &str =
    "Basic realm=\"keyward\", error=\"invalid_client\", error_description=\"client authentication failed\"";

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
    /// RFC 6749 §5.2: the code or refresh token is unknown, spent, expired, revoked, or was
    /// issued to another client or for another redirect URI or PKCE verifier.
    #[error("invalid_grant: {0}")]
    InvalidGrant(Cow<'static, str>),
    /// Any other OAuth error the authorization code flow answers, with its status.
    #[error("{error}: {description}")]
    Refused {
        status: StatusCode,
        error: &'static str,
        description: String,
    },
    #[error("invalid_scope: {0}")]
    InvalidScope(&'static str),
    #[error("invalid_scope: {0}")]
    MalformedScope(#[source] keyward_types::TypeError),
    #[error("invalid_target: {0}")]
    InvalidTarget(String),
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// The request body did not arrive within `body_read_timeout_ms` of its headers.
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    /// Admin API: malformed, expired or foreign bearer token.
    #[error("invalid_token: {0}")]
    InvalidToken(&'static str),
    /// Admin API: no bearer token at all. RFC 6750 §3.1: the challenge then carries no error
    /// code (the body still says what is missing).
    #[error("missing bearer token")]
    MissingToken,
    /// Admin API: the bearer request itself is malformed (RFC 6750 §3.1 `invalid_request`,
    /// e.g. two `Authorization` headers).
    #[error("invalid_request: {0}")]
    InvalidBearerRequest(&'static str),
    #[error("insufficient_scope")]
    InsufficientScope,
    /// Admin API: an operation refused or failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The client directory could not be read.
    #[error(transparent)]
    Directory(DirectoryError),
    /// The token endpoint could not authenticate a client for want of a store (the client
    /// directory, the replay store): never a failure, never a token.
    #[error(transparent)]
    AuthUnavailable(keyward_client_auth::AuthError),
    /// `POST /token`: the access token could not be made.
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error("internal error: {0}")]
    Internal(String),
    /// `/token` or the admin API: the source address failed to authenticate too often.
    #[error("slow_down: retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
}

fn oauth(status: StatusCode, error: &str, description: impl fmt::Display) -> Response {
    let body = OAuthErrorBody {
        error,
        error_description: description.to_string(),
    };
    (status, Json(body)).into_response()
}

/// An error response body (RFC 6749 §5.2), the token endpoint's and the admin API's.
#[derive(serde::Serialize)]
struct OAuthErrorBody<'a> {
    error: &'a str,
    error_description: String,
}

fn with_reason(status: StatusCode, error: &str, reason: &str, description: impl fmt::Display) -> Response {
    let body = json!({"error": error, "reason": reason, "error_description": description.to_string()});
    (status, Json(body)).into_response()
}

/// `503`: the store (or what reads through it) is away; the cause goes to the log only.
fn unavailable(cause: &dyn fmt::Display) -> Response {
    tracing::warn!(error = %cause, "storage unavailable");
    oauth(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "storage is unavailable; retry",
    )
}

/// `500`: the server's fault; the cause goes to the log only.
fn internal(cause: &dyn fmt::Display) -> Response {
    tracing::error!(error = %cause, "internal error");
    oauth(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "internal error",
    )
}

fn storage_response(e: &StorageError) -> Response {
    match e {
        StorageError::NotFound => oauth(StatusCode::NOT_FOUND, "not_found", "no such resource"),
        StorageError::Conflict(m) => oauth(StatusCode::CONFLICT, "conflict", m),
        StorageError::Unavailable(m) => unavailable(m),
        other => internal(other),
    }
}

/// The status of a refused or failed admin operation: the admin API's and the console's.
pub(crate) fn admin_status(e: &AdminError) -> StatusCode {
    match e {
        AdminError::InvalidRequest(_)
        | AdminError::StrictJson(_)
        | AdminError::MissingMember(_)
        | AdminError::InvalidField { .. }
        | AdminError::InvalidUserField { .. }
        | AdminError::Key(_)
        | AdminError::KeyRule(_) => StatusCode::BAD_REQUEST,
        AdminError::KeyConflict(_) | AdminError::Conflict(_) => StatusCode::CONFLICT,
        AdminError::NotFound(_) => StatusCode::NOT_FOUND,
        AdminError::WrongPassword => StatusCode::UNAUTHORIZED,
        AdminError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AdminError::Storage(StorageError::NotFound) => StatusCode::NOT_FOUND,
        AdminError::Storage(StorageError::Conflict(_)) => StatusCode::CONFLICT,
        AdminError::Storage(StorageError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The admin API's answers (RFC 7591 §3.2.2 for metadata, a stable `reason` for keys).
fn admin_response(e: &AdminError) -> Response {
    let status = admin_status(e);
    match e {
        AdminError::InvalidRequest(m) => oauth(status, "invalid_request", m),
        AdminError::StrictJson(e) => oauth(status, "invalid_request", e),
        AdminError::MissingMember(e) => oauth(status, "invalid_request", e),
        AdminError::InvalidField { field, problem } => {
            let body = json!({
                "error": "invalid_client_metadata",
                "error_description": format!("{field}: {problem}"),
                "field": field,
            });
            (status, Json(body)).into_response()
        }
        AdminError::InvalidUserField { field, problem } => {
            let body = json!({
                "error": "invalid_request",
                "error_description": format!("{field}: {problem}"),
                "field": field,
            });
            (status, Json(body)).into_response()
        }
        AdminError::WrongPassword => oauth(status, "access_denied", "wrong username or password"),
        AdminError::Key(e) => with_reason(status, "invalid_key", e.code(), e),
        AdminError::KeyRule(r) => with_reason(status, "invalid_key", r.reason(), r),
        AdminError::KeyConflict(c) => with_reason(status, "conflict", c.reason(), c),
        AdminError::NotFound(m) => oauth(status, "not_found", m),
        AdminError::Conflict(m) => oauth(status, "conflict", m),
        AdminError::Busy { retry_after_secs } => {
            let mut r = oauth(status, "temporarily_unavailable", BUSY_MESSAGE);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            r
        }
        AdminError::Storage(e) => storage_response(e),
        other => internal(other),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = match &self {
            ApiError::InvalidRequest(m) => oauth(StatusCode::BAD_REQUEST, "invalid_request", m),
            ApiError::InvalidClient { used_basic } => {
                let mut r = oauth(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    INVALID_CLIENT_DESCRIPTION,
                );
                // With the error in the challenge too: client libraries that read only the
                // challenge of a 401 (openid-client) see `invalid_client` there.
                if *used_basic {
                    r.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(BASIC_CHALLENGE),
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
            ApiError::InvalidGrant(m) => oauth(StatusCode::BAD_REQUEST, "invalid_grant", m),
            ApiError::Refused {
                status,
                error,
                description,
            } => oauth(*status, error, description),
            ApiError::InvalidScope(m) => oauth(StatusCode::BAD_REQUEST, "invalid_scope", m),
            ApiError::MalformedScope(e) => oauth(StatusCode::BAD_REQUEST, "invalid_scope", e),
            ApiError::InvalidTarget(m) => oauth(StatusCode::BAD_REQUEST, "invalid_target", m),
            ApiError::PayloadTooLarge { limit } => oauth(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("request body exceeds {limit} bytes"),
            ),
            ApiError::BodyTimeout => oauth(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request",
                "the request body did not arrive in time",
            ),
            ApiError::UnsupportedMediaType { expected } => oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("content type must be {expected}"),
            ),
            ApiError::InvalidToken(m) => {
                let mut r = oauth(StatusCode::UNAUTHORIZED, "invalid_token", m);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"keyward\", error=\"invalid_token\""),
                );
                r
            }
            ApiError::MissingToken => {
                let mut r = oauth(StatusCode::UNAUTHORIZED, "invalid_token", "missing bearer token");
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"keyward\""),
                );
                r
            }
            ApiError::InvalidBearerRequest(m) => {
                let mut r = oauth(StatusCode::BAD_REQUEST, "invalid_request", m);
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
            ApiError::Admin(e) => admin_response(e),
            ApiError::Storage(e) => storage_response(e),
            ApiError::Directory(e) => unavailable(e),
            ApiError::AuthUnavailable(e) => unavailable(e),
            ApiError::Internal(m) => internal(m),
            ApiError::Issue(e) => internal(e),
            ApiError::RateLimited { retry_after_secs } => {
                let mut r = oauth(
                    StatusCode::TOO_MANY_REQUESTS,
                    "slow_down",
                    "too many failed authentications from this address; retry later",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                r
            }
        };
        // Both are failures to authenticate: the limiter charges the source for them.
        if matches!(
            self,
            ApiError::InvalidClient { .. } | ApiError::InvalidToken(_) | ApiError::MissingToken
        ) {
            resp.extensions_mut().insert(AuthRejected);
        }
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        resp
    }
}
