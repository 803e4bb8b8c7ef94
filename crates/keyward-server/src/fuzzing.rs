//! Entry point for the coverage-guided fuzz targets (`fuzz/`, through the `keyward-fuzz`
//! crate): the token endpoint's reading of a request, without a socket. Not an API; hidden from
//! the documentation.

use axum::http::{header, HeaderMap, HeaderValue};
use keyward_client_auth::{built_in_methods, AuthError, Authenticator, Presented, RequestParts};
use keyward_types::AuthMethod;

use crate::public::form::parse_form;

/// A token request as steps 1 and 2 of DESIGN.md "The token request" read it.
#[derive(Debug)]
pub struct ReadRequest {
    /// The `client_id` form parameter, if sent.
    pub client_id: Option<String>,
    pub presented: Result<Presented, AuthError>,
    /// The methods whose mechanism read `presented`.
    pub read_by: Vec<AuthMethod>,
}

/// The form (`None` when it is refused: a repeated parameter), then what the client presented
/// in it and in the `Authorization` header, read by keyward's own methods.
pub fn token_request(authorization: Option<&str>, body: &[u8]) -> Option<ReadRequest> {
    let form = parse_form(body).ok()?;
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).ok()?);
    }
    let mut authenticator = Authenticator::default();
    for method in built_in_methods() {
        authenticator.register(method).ok()?;
    }
    let parts = RequestParts {
        headers: &headers,
        form: &form,
        peer: None,
        tls: None,
    };
    let presented = authenticator.extract(&parts);
    let read_by = presented
        .as_ref()
        .map(|p| authenticator.methods_of(p))
        .unwrap_or_default();
    Some(ReadRequest {
        client_id: form.get("client_id").map(str::to_owned),
        presented,
        read_by,
    })
}
