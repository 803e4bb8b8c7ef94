//! The client side's extension point: a [`ClientAuth`] adds a client's credentials to a token
//! request. The four methods keyward's server verifies are implemented here against it, and a
//! method of one's own (a header a proxy expects, a certificate-bound client) is one more
//! implementation given to [`crate::TokenClientBuilder::auth`].

mod jwt;
mod secret;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use jwt::{KeyRing, NamedKey, PrivateKeyJwt, SecretJwt};
pub use secret::{SecretBasic, SecretPost};

use crate::ClientError;

/// Adds one client's credentials to a token request.
///
/// Called once per attempt, so a method that signs (an assertion with its own `jti`) signs
/// again when a request is retried: the server would refuse a replayed assertion.
pub trait ClientAuth: Send + Sync + 'static {
    /// The `token_endpoint_auth_method` this implements, as the client is registered with.
    fn method(&self) -> &str;

    /// Adds the credentials to `request`.
    fn authenticate(&self, request: &mut AuthRequest<'_>) -> Result<(), ClientError>;

    /// The public keys a server needs to verify this client (its JWKS), current key first.
    /// Empty for methods without keys.
    fn public_keys(&self) -> Vec<keyward_types::PublicJwk> {
        Vec::new()
    }

    /// Starts signing with the next key, when the method holds one; `false` when it has none.
    fn rotate(&self) -> bool {
        false
    }
}

/// A token request being built: who asks, where, when, and what is sent.
pub struct AuthRequest<'a> {
    pub client_id: &'a str,
    /// The issuer identifier: the audience of a client assertion (DESIGN.md, assertion rules).
    pub audience: &'a str,
    /// Where the request goes: the token endpoint, or for introspection and revocation their
    /// endpoint (empty when the request is only built, not sent, before discovery).
    pub token_endpoint: &'a str,
    pub now: OffsetDateTime,
    form: Vec<(String, Zeroizing<String>)>,
    headers: HeaderMap,
}

impl<'a> AuthRequest<'a> {
    pub(crate) fn new(
        client_id: &'a str,
        audience: &'a str,
        token_endpoint: &'a str,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            client_id,
            audience,
            token_endpoint,
            now,
            form: Vec::new(),
            headers: HeaderMap::new(),
        }
    }

    /// Adds a form parameter (wiped when the request is gone: it may be a secret).
    pub fn param(&mut self, name: &str, value: impl Into<String>) {
        self.form.push((name.to_owned(), Zeroizing::new(value.into())));
    }

    /// Sets a header, marked sensitive so that HTTP-level logging leaves it out.
    pub fn header(&mut self, name: HeaderName, value: &str) -> Result<(), ClientError> {
        let mut value =
            HeaderValue::from_str(value).map_err(|_| ClientError::InvalidHeader(name.to_string()))?;
        value.set_sensitive(true);
        self.headers.insert(name, value);
        Ok(())
    }

    /// The names of the parameters and headers set, for `--verbose` (never their values).
    pub fn describe(&self) -> String {
        let params: Vec<&str> = self.form.iter().map(|(n, _)| n.as_str()).collect();
        let headers: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        format!(
            "parameters [{}], headers [{}]",
            params.join(", "),
            headers.join(", ")
        )
    }

    pub(crate) fn into_parts(self) -> (Vec<(String, Zeroizing<String>)>, HeaderMap) {
        (self.form, self.headers)
    }
}
