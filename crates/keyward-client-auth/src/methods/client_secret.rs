//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1): the same secret, carried in
//! the `Authorization` header or in the form. They are two mechanisms, not interchangeable: a
//! client registered for one is refused when it presents the other.

use async_trait::async_trait;
use http::header::AUTHORIZATION;
use keyward_types::{AuthMethod, ClientEntry, ClientSecret, SecretHash};

use crate::{
    basic::decode_basic, AuthContext, AuthError, AuthFailure, ClientAuthMethod, Presentation, RequestParts,
};

/// `Authorization: Basic base64(urlencode(client_id) ":" urlencode(secret))`.
#[derive(Debug, Default)]
pub struct ClientSecretBasicMethod;

#[async_trait]
impl ClientAuthMethod for ClientSecretBasicMethod {
    type Credentials = ClientSecret;

    fn methods(&self) -> Vec<AuthMethod> {
        vec![AuthMethod::ClientSecretBasic]
    }

    /// Any `Authorization` header counts, whatever its scheme: a token request has no other
    /// use for it, and one with another scheme is refused (`header.unsupported_scheme`).
    fn presents(&self, request: &RequestParts<'_>) -> bool {
        request.headers.contains_key(AUTHORIZATION)
    }

    /// A `client_id` parameter, if sent, must name the client of the header (RFC 6749 §2.3).
    fn extract(&self, request: &RequestParts<'_>) -> Result<Presentation<ClientSecret>, AuthError> {
        let header = request
            .headers
            .get(AUTHORIZATION)
            .ok_or(AuthFailure::NoCredentials)?
            .to_str()
            .map_err(|_| AuthFailure::BasicNotUtf8)?;
        let (client_id, secret) = decode_basic(header)?;
        if request
            .form
            .get("client_id")
            .is_some_and(|form_id| form_id != client_id)
        {
            return Err(AuthError::InvalidRequest(
                "client_id parameter differs from the client in the Authorization header",
            ));
        }
        Ok(Presentation {
            client_id,
            credentials: ClientSecret::from_presented(secret.to_string()),
        })
    }

    async fn verify(
        &self,
        secret: &ClientSecret,
        _: &AuthMethod,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthError> {
        verify_secret(secret, entry, ctx)
    }
}

/// `client_id` and `client_secret` form parameters.
#[derive(Debug, Default)]
pub struct ClientSecretPostMethod;

#[async_trait]
impl ClientAuthMethod for ClientSecretPostMethod {
    type Credentials = ClientSecret;

    fn methods(&self) -> Vec<AuthMethod> {
        vec![AuthMethod::ClientSecretPost]
    }

    fn presents(&self, request: &RequestParts<'_>) -> bool {
        request.form.get("client_secret").is_some()
    }

    fn extract(&self, request: &RequestParts<'_>) -> Result<Presentation<ClientSecret>, AuthError> {
        match (request.form.get("client_id"), request.form.get("client_secret")) {
            (Some(id), Some(secret)) => Ok(Presentation {
                client_id: id.to_owned(),
                credentials: ClientSecret::from_presented(secret.to_owned()),
            }),
            (None, Some(_)) => Err(AuthError::InvalidRequest("client_secret without client_id")),
            (_, None) => Err(AuthFailure::NoCredentials.into()),
        }
    }

    async fn verify(
        &self,
        secret: &ClientSecret,
        _: &AuthMethod,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthError> {
        verify_secret(secret, entry, ctx)
    }
}

/// One HMAC of the presented secret, compared in constant time with each stored hash (at most
/// two valid at once, during a rotation). A match with a secret whose lifetime or grace period
/// is over is `secret.expired`, so an operator can tell an expired secret from a wrong one; the
/// client sees the same `invalid_client` either way.
fn verify_secret(secret: &ClientSecret, entry: &ClientEntry, ctx: &AuthContext<'_>) -> Result<(), AuthError> {
    let presented_hash = SecretHash::compute(ctx.pepper, secret);
    // Compare against every stored secret without stopping early, so timing does not tell
    // which one matched.
    let (valid, expired) = entry.secrets.iter().fold((false, false), |(valid, expired), s| {
        let matches = s.hash.matches(&presented_hash);
        let usable = s.is_valid_at(ctx.now);
        (valid | (matches & usable), expired | (matches & !usable))
    });
    if valid {
        Ok(())
    } else if expired {
        Err(AuthFailure::SecretExpired.into())
    } else {
        Err(AuthFailure::SecretMismatch.into())
    }
}
