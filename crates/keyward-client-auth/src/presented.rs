use keyward_types::{AuthMethod, ClientSecret};

use crate::{basic::decode_basic, AuthError, AuthFailure};

/// The client-authentication parts of a token request, as the server read them from the
/// `Authorization` header and the form (each form parameter at most once).
#[derive(Default, Clone, Copy)]
pub struct TokenRequestCredentials<'a> {
    pub authorization: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub client_assertion_type: Option<&'a str>,
    pub client_assertion: Option<&'a str>,
}

/// What the client presented: exactly one mechanism, or nothing. Extraction is pure and total.
#[derive(Debug)]
#[non_exhaustive]
pub enum Presented {
    /// No credentials at all (perhaps a bare `client_id`).
    None {
        client_id: Option<String>,
    },
    Basic {
        client_id: String,
        secret: ClientSecret,
    },
    Post {
        client_id: String,
        secret: ClientSecret,
    },
}

impl Presented {
    /// Reads the one mechanism a request carries. Two at once (a header and `client_secret`, a
    /// secret and an assertion) is `invalid_request`, as is a `client_id` parameter that names a
    /// different client than the header (RFC 6749 §2.3.1 forbids more than one method).
    pub fn extract(creds: &TokenRequestCredentials<'_>) -> Result<Self, AuthError> {
        let assertion = creds.client_assertion.is_some() || creds.client_assertion_type.is_some();
        let mechanisms = usize::from(creds.authorization.is_some())
            + usize::from(creds.client_secret.is_some())
            + usize::from(assertion);
        if mechanisms > 1 {
            return Err(AuthError::InvalidRequest(
                "more than one client authentication mechanism in the request",
            ));
        }
        if assertion {
            // Assertion methods are not registered on this server yet; treat as unusable
            // credentials rather than ignoring them.
            return Err(AuthFailure::MethodUnavailable.into());
        }
        if let Some(header) = creds.authorization {
            let (client_id, secret) = decode_basic(header)?;
            if creds.client_id.is_some_and(|form_id| form_id != client_id) {
                return Err(AuthError::InvalidRequest(
                    "client_id parameter differs from the client in the Authorization header",
                ));
            }
            let secret = ClientSecret::from_presented(secret.to_string());
            return Ok(Presented::Basic { client_id, secret });
        }
        match (creds.client_id, creds.client_secret) {
            (Some(id), Some(secret)) => Ok(Presented::Post {
                client_id: id.to_owned(),
                secret: ClientSecret::from_presented(secret.to_owned()),
            }),
            (None, Some(_)) => Err(AuthError::InvalidRequest("client_secret without client_id")),
            (id, None) => Ok(Presented::None {
                client_id: id.map(str::to_owned),
            }),
        }
    }

    /// The client this request claims to be, before anything is verified.
    pub fn claimed_client_id(&self) -> Option<&str> {
        match self {
            Presented::None { client_id } => client_id.as_deref(),
            Presented::Basic { client_id, .. } | Presented::Post { client_id, .. } => Some(client_id),
        }
    }

    /// The method this presentation corresponds to, if any.
    pub fn method(&self) -> Option<AuthMethod> {
        match self {
            Presented::None { .. } => None,
            Presented::Basic { .. } => Some(AuthMethod::ClientSecretBasic),
            Presented::Post { .. } => Some(AuthMethod::ClientSecretPost),
        }
    }

    pub fn used_basic(&self) -> bool {
        matches!(self, Presented::Basic { .. })
    }
}
