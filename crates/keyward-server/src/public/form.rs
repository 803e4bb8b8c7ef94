//! Reading the token request body: `application/x-www-form-urlencoded`, at most 64 KiB, each
//! parameter at most once (RFC 6749 §3.2: "parameters MUST NOT be included more than once").

use std::collections::HashMap;

use axum::{
    body::Body,
    http::{header, HeaderMap},
};
use keyward_client_auth::TokenRequestCredentials;
use keyward_types::Untrusted;

use crate::error::ApiError;

pub(super) const MAX_BODY: usize = 64 * 1024;

pub(crate) struct Form(HashMap<String, String>);

impl Form {
    pub(super) async fn read(headers: &HeaderMap, body: Body) -> Result<Self, ApiError> {
        let expected = "application/x-www-form-urlencoded";
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case(expected) {
            return Err(ApiError::UnsupportedMediaType { expected });
        }
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit: MAX_BODY })?;
        Self::parse(&bytes)
    }

    /// The body's parameters, each at most once.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(bytes) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(ApiError::InvalidRequest(
                    format!("parameter '{}' is repeated", Untrusted(&k)).into(),
                ));
            }
        }
        Ok(Self(map))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// What the client presented, with the `Authorization` header's value (step 2's input).
    pub(crate) fn credentials<'a>(&'a self, authorization: Option<&'a str>) -> TokenRequestCredentials<'a> {
        TokenRequestCredentials {
            authorization,
            client_id: self.get("client_id"),
            client_secret: self.get("client_secret"),
            client_assertion_type: self.get("client_assertion_type"),
            client_assertion: self.get("client_assertion"),
        }
    }
}

impl Drop for Form {
    /// The form may hold a client secret: wipe it with the rest.
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.0.values_mut() {
            v.zeroize();
        }
    }
}
