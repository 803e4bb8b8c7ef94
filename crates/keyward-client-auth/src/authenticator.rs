use std::{collections::HashMap, sync::Arc};

use aws_lc_rs::hmac;
use keyward_types::{AuthMethod, ClientId, SigningAlg};
use thiserror::Error;
use time::OffsetDateTime;

use crate::{
    AuthError, AuthFailure, AuthenticatedClient, ClientAuthenticator, ClientDirectory, Presented, RemoteKeys,
    ReplayGuard, RequestParts, SecretVault,
};

/// Server-wide rules for client assertions.
#[derive(Debug, Clone)]
pub struct AssertionPolicy {
    /// The only `aud` accepted (besides the token endpoint for legacy clients).
    pub issuer: String,
    pub token_endpoint: String,
    /// Largest `exp − (iat or now)`, in seconds.
    pub max_lifetime_secs: i64,
    pub skew_secs: i64,
    /// Algorithms accepted when a client pins none.
    pub allowed_algs: Vec<SigningAlg>,
}

/// What a method may need besides the request.
pub struct AuthContext<'a> {
    pub now: OffsetDateTime,
    /// HMAC key for stored secret hashes.
    pub pepper: &'a hmac::Key,
    pub policy: &'a AssertionPolicy,
    pub replay: &'a dyn ReplayGuard,
    pub vault: &'a dyn SecretVault,
    pub remote_keys: &'a dyn RemoteKeys,
}

/// A method name that two registered authenticators both claim.
#[derive(Debug, Error)]
#[error("token_endpoint_auth_method '{0}' is registered twice")]
pub struct DuplicateMethod(pub AuthMethod);

/// The registry of methods, and the one place a request is routed to one of them.
#[derive(Default)]
pub struct Authenticator {
    authenticators: Vec<Arc<dyn ClientAuthenticator>>,
    /// Each method's authenticator, as an index into `authenticators`.
    by_method: HashMap<AuthMethod, usize>,
    /// Every registered method, sorted by name (discovery's order).
    methods: Vec<AuthMethod>,
}

impl Authenticator {
    /// Adds a method; refuses one whose name is already taken, so that no registration silently
    /// replaces another.
    pub fn register(&mut self, auth: Arc<dyn ClientAuthenticator>) -> Result<(), DuplicateMethod> {
        let methods = auth.methods();
        if let Some(taken) = methods.iter().find(|m| self.by_method.contains_key(*m)) {
            return Err(DuplicateMethod(taken.clone()));
        }
        let index = self.authenticators.len();
        self.authenticators.push(auth);
        for m in methods {
            self.by_method.insert(m.clone(), index);
            self.methods.push(m);
        }
        self.methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(())
    }

    /// The registered methods, for discovery.
    pub fn methods(&self) -> &[AuthMethod] {
        &self.methods
    }

    /// Whether a client may be registered with `method`.
    pub fn supports(&self, method: &AuthMethod) -> bool {
        self.by_method.contains_key(method)
    }

    /// The methods whose authenticator read `presented`.
    pub fn methods_of(&self, presented: &Presented) -> Vec<AuthMethod> {
        self.authenticators
            .get(presented.by)
            .map(|a| a.methods())
            .unwrap_or_default()
    }

    /// Step 2 of the token request: the one mechanism the request carries, read by the method
    /// that owns it. Two at once (a header and `client_secret`, a secret and an assertion) is
    /// `invalid_request`; none is `request.no_credentials`.
    pub fn extract(&self, request: &RequestParts<'_>) -> Result<Presented, AuthError> {
        let mut presenting = self
            .authenticators
            .iter()
            .enumerate()
            .filter(|(_, a)| a.presents(request));
        let Some((by, auth)) = presenting.next() else {
            return Err(AuthFailure::NoCredentials.into());
        };
        if presenting.next().is_some() {
            return Err(AuthError::InvalidRequest(
                "more than one client authentication mechanism in the request",
            ));
        }
        auth.extract_presented(request, by)
    }

    /// Steps 3 and 4: find the client, route to its registered method's authenticator (which
    /// must be the one that read the request: basic and post are not interchangeable), and
    /// verify.
    pub async fn authenticate(
        &self,
        presented: &Presented,
        directory: &dyn ClientDirectory,
        ctx: &AuthContext<'_>,
    ) -> Result<AuthenticatedClient, AuthError> {
        // A lookup, not a registration: any id `ClientId::parse` accepts is looked up, so a
        // stored client whose id lies outside the narrower registration set still
        // authenticates, and an id never registered is simply not found (`client.unknown`).
        let client_id =
            ClientId::parse(presented.client_id.as_str()).map_err(|_| AuthFailure::UnknownClient)?;
        let entry = directory
            .find(&client_id)
            .await?
            .ok_or(AuthFailure::UnknownClient)?;
        if !entry.client.enabled {
            return Err(AuthFailure::ClientDisabled.into());
        }
        let method = &entry.client.token_endpoint_auth_method;
        let auth = match self.by_method.get(method) {
            Some(&by) if by == presented.by => self.authenticators.get(by),
            Some(_) => return Err(AuthFailure::MethodMismatch.into()),
            None => None,
        }
        .ok_or(AuthFailure::MethodUnavailable)?;
        auth.verify_presented(presented, method, &entry, ctx).await?;
        let method = method.clone();
        Ok(AuthenticatedClient::new(entry, method))
    }
}

#[cfg(test)]
mod tests {
    use http::{header::AUTHORIZATION, HeaderMap, HeaderValue};

    use super::*;
    use crate::{built_in_methods, ClientSecretPostMethod, FormParams};

    fn built_ins() -> Authenticator {
        let mut auth = Authenticator::default();
        for m in built_in_methods() {
            auth.register(m).unwrap();
        }
        auth
    }

    #[test]
    fn lists_every_registered_method_by_name() {
        let auth = built_ins();
        let names: Vec<_> = auth.methods().iter().map(AuthMethod::as_str).collect();
        assert_eq!(
            names,
            [
                "client_secret_basic",
                "client_secret_jwt",
                "client_secret_post",
                "private_key_jwt"
            ]
        );
        assert!(auth.supports(&AuthMethod::PrivateKeyJwt));
        assert!(!auth.supports(&AuthMethod::custom("x-unregistered").unwrap()));
    }

    #[test]
    fn refuses_a_method_registered_twice() {
        let mut auth = built_ins();
        let err = auth.register(Arc::new(ClientSecretPostMethod)).err();
        assert_eq!(err.map(|e| e.0), Some(AuthMethod::ClientSecretPost));
    }

    #[test]
    fn two_mechanisms_in_one_request_are_invalid_request() {
        let auth = built_ins();
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic YTpi"));
        let form = FormParams::from_pairs([("client_id", "a"), ("client_secret", "b")]).unwrap();
        let request = RequestParts {
            headers: &headers,
            form: &form,
            peer: None,
            tls: None,
        };
        assert!(matches!(
            auth.extract(&request),
            Err(AuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn the_method_that_read_the_request_is_recorded() {
        let auth = built_ins();
        let headers = HeaderMap::new();
        let form = FormParams::from_pairs([("client_id", "a"), ("client_secret", "b")]).unwrap();
        let request = RequestParts {
            headers: &headers,
            form: &form,
            peer: None,
            tls: None,
        };
        let presented = auth.extract(&request).unwrap();
        assert_eq!(presented.claimed_client_id(), "a");
        assert_eq!(auth.methods_of(&presented), [AuthMethod::ClientSecretPost]);
    }
}
