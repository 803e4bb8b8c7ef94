//! The extension point: a client authentication method is one [`ClientAuthMethod`], written
//! against its own typed credentials, whether it is one of keyward's four or comes from outside
//! keyward's crates. Registered with [`crate::Authenticator::register`] as a
//! `Arc<dyn ClientAuthenticator>`, every method takes the same path: it reads its own mechanism
//! from the request, and verifies what it read for clients registered with one of its methods.

use std::sync::Arc;

use async_trait::async_trait;
use keyward_types::{AuthMethod, ClientEntry};

use crate::{AuthContext, AuthError, AuthFailure, Presentation, Presented, RequestParts};

/// One mechanism of client authentication and the `token_endpoint_auth_method`s it verifies.
/// Two methods that read the same request parts (`client_secret_jwt` and `private_key_jwt`
/// both read `client_assertion`) are one implementation listing both, so that a request
/// carrying that mechanism counts once.
#[async_trait]
pub trait ClientAuthMethod: Send + Sync + 'static {
    /// What [`Self::extract`] reads and [`Self::verify`] checks.
    type Credentials: Send + Sync + 'static;

    /// The `token_endpoint_auth_method`s this implementation verifies; registered clients name
    /// one of them, and discovery lists them.
    fn methods(&self) -> Vec<AuthMethod>;

    /// Whether the request carries this mechanism at all, well-formed or not. Cheap: it runs
    /// for every registered method on every request, so that a request carrying two
    /// mechanisms is refused before either is read.
    fn presents(&self, request: &RequestParts<'_>) -> bool;

    /// Reads the mechanism from a request that [`Self::presents`] it. A malformed request is
    /// `AuthError::InvalidRequest`; malformed credentials an [`AuthFailure`].
    fn extract(&self, request: &RequestParts<'_>) -> Result<Presentation<Self::Credentials>, AuthError>;

    /// Verifies `credentials` for `entry`, whose registered `method` is one of
    /// [`Self::methods`]. A failure is `invalid_client`; a store that cannot answer is an
    /// `AuthError` other than `Failed`, and never a success.
    async fn verify(
        &self,
        credentials: &Self::Credentials,
        method: &AuthMethod,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthError>;
}

mod sealed {
    pub trait Sealed {}
    impl<M: super::ClientAuthMethod> Sealed for M {}
}

/// A registered method, with its credentials' type hidden so that methods of every kind sit in
/// one registry. Implemented for every [`ClientAuthMethod`], and only for them.
#[async_trait]
pub trait ClientAuthenticator: sealed::Sealed + Send + Sync {
    fn methods(&self) -> Vec<AuthMethod>;
    fn presents(&self, request: &RequestParts<'_>) -> bool;
    /// `by` is this authenticator's place in the registry, recorded in what it presents.
    #[doc(hidden)]
    fn extract_presented(&self, request: &RequestParts<'_>, by: usize) -> Result<Presented, AuthError>;
    #[doc(hidden)]
    async fn verify_presented(
        &self,
        presented: &Presented,
        method: &AuthMethod,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthError>;
}

#[async_trait]
impl<M: ClientAuthMethod> ClientAuthenticator for M {
    fn methods(&self) -> Vec<AuthMethod> {
        ClientAuthMethod::methods(self)
    }

    fn presents(&self, request: &RequestParts<'_>) -> bool {
        ClientAuthMethod::presents(self, request)
    }

    fn extract_presented(&self, request: &RequestParts<'_>, by: usize) -> Result<Presented, AuthError> {
        let p = ClientAuthMethod::extract(self, request)?;
        Ok(Presented {
            client_id: p.client_id,
            by,
            credentials: Box::new(p.credentials),
        })
    }

    async fn verify_presented(
        &self,
        presented: &Presented,
        method: &AuthMethod,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthError> {
        // The registry hands an authenticator only what it extracted itself, so the type
        // always matches; were it ever not to, the request fails closed.
        let credentials = presented
            .credentials
            .downcast_ref::<M::Credentials>()
            .ok_or(AuthFailure::MethodMismatch)?;
        ClientAuthMethod::verify(self, credentials, method, entry, ctx).await
    }
}

/// keyward's own methods, to register first: `client_secret_basic`, `client_secret_post`, and
/// the RFC 7523 assertions (`client_secret_jwt`, `private_key_jwt`).
pub fn built_in_methods() -> Vec<Arc<dyn ClientAuthenticator>> {
    vec![
        Arc::new(crate::ClientSecretBasicMethod),
        Arc::new(crate::ClientSecretPostMethod),
        Arc::new(crate::ClientAssertionMethod::default()),
    ]
}
