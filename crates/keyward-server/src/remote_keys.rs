//! Keys of `jwks_uri` clients, for the `private_key_jwt` authenticator, from the shared cache.

use std::sync::Arc;

use async_trait::async_trait;
use keyward_client_auth::{RemoteKeys, RemoteKeysError};
use keyward_jwks_fetch::JwksCache;
use keyward_types::{Credential, Untrusted};

pub(crate) struct CachedRemoteKeys(pub(crate) Arc<JwksCache>);

#[async_trait]
impl RemoteKeys for CachedRemoteKeys {
    async fn keys(&self, jwks_uri: &str, kid: Option<&str>) -> Result<Arc<Vec<Credential>>, RemoteKeysError> {
        match self.0.keys(jwks_uri, kid).await {
            Ok(cached) => Ok(cached.keys.clone()),
            Err(e) => {
                tracing::info!(jwks_uri = %Untrusted(jwks_uri), reason = e.reason(), "no usable keys at jwks_uri");
                Err(RemoteKeysError(e.into()))
            }
        }
    }
}
