use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use aws_lc_rs::hmac;
use keyward_types::{AuthMethod, ClientEntry, ClientId};
use thiserror::Error;
use time::OffsetDateTime;

use crate::{AuthError, AuthFailure, AuthenticatedClient, Presented};

/// Where authenticators find clients; the server implements it with its cache over storage.
#[async_trait]
pub trait ClientDirectory: Send + Sync {
    async fn find(&self, client_id: &ClientId) -> Result<Option<Arc<ClientEntry>>, DirectoryError>;
}

#[derive(Debug, Error)]
#[error("{0}")]
pub struct DirectoryError(pub String);

/// What an authenticator may need besides the request.
pub struct AuthContext<'a> {
    pub now: OffsetDateTime,
    /// HMAC key for stored secret hashes.
    pub pepper: &'a hmac::Key,
}

/// One client authentication method. Implement it to add a method: register it with
/// [`Authenticator::register`], and requests from clients registered with that method reach it.
#[async_trait]
pub trait ClientAuthenticator: Send + Sync {
    fn methods(&self) -> &[AuthMethod];

    /// Verifies `presented` for `entry`, whose registered method is one of [`Self::methods`]
    /// and already matched the presented one.
    async fn verify(
        &self,
        presented: &Presented,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthFailure>;
}

/// Dispatches a presented credential to the authenticator of the client's registered method.
#[derive(Default)]
pub struct Authenticator {
    by_method: HashMap<AuthMethod, Arc<dyn ClientAuthenticator>>,
}

impl Authenticator {
    pub fn register(&mut self, auth: Arc<dyn ClientAuthenticator>) {
        for m in auth.methods() {
            self.by_method.insert(*m, auth.clone());
        }
    }

    /// The methods that have an authenticator, for discovery.
    pub fn methods(&self) -> Vec<AuthMethod> {
        let mut v: Vec<_> = self.by_method.keys().copied().collect();
        v.sort_by_key(|m| m.as_str());
        v
    }

    /// Steps 3 and 4 of the token request: find the client, match the presented mechanism to
    /// its registered method (basic and post are not interchangeable), and verify.
    pub async fn authenticate(
        &self,
        presented: &Presented,
        directory: &dyn ClientDirectory,
        ctx: &AuthContext<'_>,
    ) -> Result<AuthenticatedClient, AuthError> {
        let method = presented.method().ok_or(AuthFailure::NoCredentials)?;
        let claimed = presented.claimed_client_id().ok_or(AuthFailure::NoCredentials)?;
        let client_id = ClientId::parse(claimed).map_err(|_| AuthFailure::UnknownClient)?;
        let entry = directory
            .find(&client_id)
            .await
            .map_err(|e| AuthError::Unavailable(e.0))?
            .ok_or(AuthFailure::UnknownClient)?;
        if !entry.client.enabled {
            return Err(AuthFailure::ClientDisabled.into());
        }
        if entry.client.token_endpoint_auth_method != method {
            return Err(AuthFailure::MethodMismatch.into());
        }
        let auth = self
            .by_method
            .get(&method)
            .ok_or(AuthFailure::MethodUnavailable)?;
        auth.verify(presented, &entry, ctx).await?;
        Ok(AuthenticatedClient::new(entry, method))
    }
}
