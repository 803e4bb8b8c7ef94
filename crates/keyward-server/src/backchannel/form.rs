//! Reading the token request: an `application/x-www-form-urlencoded` body of at most 64 KiB,
//! each parameter at most once (RFC 6749 §3.2), then the typed request the grant handlers read.

use axum::{
    body::Body,
    http::{header, HeaderMap},
};
use keyward_client_auth::FormParams;
use keyward_types::{GrantType, Untrusted};

use crate::error::ApiError;

const MAX_BODY: usize = 64 * 1024;

/// A token request (RFC 6749 §4.4.2): the grant and its parameters, typed. The form itself
/// stays with it, because each client authentication method reads its own parameters from it.
pub(crate) struct TokenRequest {
    pub(crate) grant_type: GrantType,
    pub(crate) scope: Option<String>,
    /// RFC 8707 `resource`: the audience asked for.
    pub(crate) resource: Option<String>,
    pub(crate) form: FormParams,
}

impl TokenRequest {
    pub(crate) async fn read(headers: &HeaderMap, body: Body) -> Result<Self, ApiError> {
        Self::from_form(read_form(headers, body).await?)
    }

    /// A missing `grant_type` is `invalid_request`; one the server does not implement is
    /// `unsupported_grant_type`, answered before the client is authenticated.
    fn from_form(form: FormParams) -> Result<Self, ApiError> {
        let grant_type = form
            .get("grant_type")
            .ok_or(ApiError::InvalidRequest("grant_type is missing".into()))?
            .parse()
            .map_err(|_| ApiError::UnsupportedGrantType)?;
        Ok(Self {
            grant_type,
            scope: form.get("scope").map(str::to_owned),
            resource: form.get("resource").map(str::to_owned),
            form,
        })
    }
}

/// The body, refused unless it is a form within [`MAX_BODY`].
pub(crate) async fn read_form(headers: &HeaderMap, body: Body) -> Result<FormParams, ApiError> {
    parse_form(&read_form_bytes(headers, body).await?)
}

/// The raw body of a form, refused unless it is one within [`MAX_BODY`].
pub(crate) async fn read_form_bytes(headers: &HeaderMap, body: Body) -> Result<bytes::Bytes, ApiError> {
    let expected = "application/x-www-form-urlencoded";
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case(expected) {
        return Err(ApiError::UnsupportedMediaType { expected });
    }
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit: MAX_BODY })
}

/// The body's parameters, each at most once.
pub(crate) fn parse_form(bytes: &[u8]) -> Result<FormParams, ApiError> {
    FormParams::from_pairs(url::form_urlencoded::parse(bytes)).map_err(|repeated| {
        ApiError::InvalidRequest(format!("parameter '{}' is repeated", Untrusted(&repeated.name)).into())
    })
}
