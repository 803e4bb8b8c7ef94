//! Entry point for the coverage-guided fuzz targets (`fuzz/`, through the `keyward-fuzz`
//! crate): the token endpoint's reading of a request, without a socket. Not an API; hidden from
//! the documentation.

use keyward_client_auth::{AuthError, Presented};

use crate::public::form::Form;

/// A token request as steps 1 and 2 of DESIGN.md "The token request" read it.
#[derive(Debug)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    /// The `client_id` form parameter, if sent.
    pub client_id: Option<String>,
    pub presented: Result<Presented, AuthError>,
}

/// The form (`None` when it is refused: a repeated parameter), then what the client presented
/// in it and in the `Authorization` header.
pub fn token_request(authorization: Option<&str>, body: &[u8]) -> Option<TokenRequest> {
    let form = Form::parse(body).ok()?;
    let presented = Presented::extract(&form.credentials(authorization));
    Some(TokenRequest {
        grant_type: form.get("grant_type").map(str::to_owned),
        client_id: form.get("client_id").map(str::to_owned),
        presented,
    })
}
