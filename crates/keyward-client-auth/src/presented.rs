use keyward_jose::{CompactJws, JwsHeader};
use keyward_types::{AuthMethod, ClientSecret};
use serde_json::{Map, Value};

use crate::{basic::decode_basic, AuthError, AuthFailure};

/// RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

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

/// A client assertion split and decoded, nothing verified yet.
#[derive(Debug)]
pub struct Assertion {
    pub header: JwsHeader,
    pub claims: Map<String, Value>,
    pub signing_input: String,
    pub signature: Vec<u8>,
    /// The unverified `sub`: only used to find the client whose keys then verify it.
    pub sub: String,
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
    Assertion(Box<Assertion>),
}

impl Presented {
    /// Reads the one mechanism a request carries. Two at once (a header and `client_secret`, a
    /// secret and an assertion) is `invalid_request`, as is a `client_id` parameter that names a
    /// different client than the header or the assertion's `sub` (RFC 6749 §2.3, RFC 7523 §3).
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
            return Self::assertion(creds);
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

    /// First rule of DESIGN.md "Client assertion rules": the assertion type; then the JWT is
    /// decoded (not verified) to learn which client it claims to be.
    fn assertion(creds: &TokenRequestCredentials<'_>) -> Result<Self, AuthError> {
        let (Some(kind), Some(jwt)) = (creds.client_assertion_type, creds.client_assertion) else {
            return Err(AuthError::InvalidRequest(
                "client_assertion and client_assertion_type must be sent together",
            ));
        };
        if kind != JWT_BEARER {
            return Err(AuthFailure::AssertionType.into());
        }
        let jws = CompactJws::parse(jwt).map_err(|_| AuthFailure::AssertionMalformed)?;
        let claims: Map<String, Value> = jws.claims().map_err(|_| AuthFailure::AssertionMalformed)?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(AuthFailure::SubMissing)?
            .to_owned();
        if creds.client_id.is_some_and(|id| id != sub) {
            return Err(AuthError::InvalidRequest(
                "client_id parameter differs from the assertion's sub",
            ));
        }
        Ok(Presented::Assertion(Box::new(Assertion {
            header: jws.header,
            signing_input: jws.signing_input.to_owned(),
            signature: jws.signature,
            claims,
            sub,
        })))
    }

    /// The client this request claims to be, before anything is verified.
    pub fn claimed_client_id(&self) -> Option<&str> {
        match self {
            Presented::None { client_id } => client_id.as_deref(),
            Presented::Basic { client_id, .. } | Presented::Post { client_id, .. } => Some(client_id),
            Presented::Assertion(a) => Some(&a.sub),
        }
    }

    /// Whether this presentation is the mechanism of `method`. Basic and post are not
    /// interchangeable; an assertion is the mechanism of both JWT methods, which the header
    /// check then tells apart by algorithm.
    pub fn fits(&self, method: AuthMethod) -> bool {
        match self {
            Presented::None { .. } => false,
            Presented::Basic { .. } => method == AuthMethod::ClientSecretBasic,
            Presented::Post { .. } => method == AuthMethod::ClientSecretPost,
            Presented::Assertion(_) => method.uses_assertion(),
        }
    }

    pub fn used_basic(&self) -> bool {
        matches!(self, Presented::Basic { .. })
    }
}
