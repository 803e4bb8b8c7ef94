//! The JWKS URL key cache: what is cached for a client, and clearing it (Keycloak's "clear
//! keys cache"). After a clear, the next assertion of an affected client fetches again.

use std::sync::Arc;

use keyward_jwks_fetch::CachedKeys;
use keyward_storage::Change;
use serde::Deserialize;
use serde_json::json;

use crate::{clients::parse_id, Action, Actor, AdminError, AdminOps};

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClearRequest {
    /// Clear only this client's JWKS URL; without it, every cached URL.
    pub client_id: Option<String>,
}

/// A client's `jwks_uri` and what this node holds for it.
#[derive(Debug)]
pub struct CachedJwks {
    pub jwks_uri: String,
    pub cached: Option<Arc<CachedKeys>>,
}

impl AdminOps {
    /// Clears cached JWKS URL keys, for one client or for all, on this node and (through the
    /// change feed) on every other. Returns how many URLs this node dropped.
    pub async fn clear_keys_cache(&self, actor: &Actor, request: ClearRequest) -> Result<usize, AdminError> {
        self.audited(
            actor,
            Action::KeysCacheClear,
            "-",
            self.clear_cached(actor, request),
        )
        .await
    }

    async fn clear_cached(&self, actor: &Actor, request: ClearRequest) -> Result<usize, AdminError> {
        let (target, cleared) = match &request.client_id {
            Some(id) => {
                let uri = self.jwks_uri_of(id).await?;
                (id.as_str(), usize::from(self.remote_keys.clear(&uri)))
            }
            None => ("*", self.remote_keys.clear_all()),
        };
        let audit = self.event(
            actor,
            Action::KeysCacheClear,
            target,
            json!({"cleared_urls": cleared}),
        );
        self.storage.append_audit(&audit).await?;
        // Other nodes clear theirs too (the count is this node's); if they cannot be told, the
        // caller gets an error and retries rather than believing every node was cleared.
        let change = Change::JwksCache {
            client_id: request.client_id,
        };
        self.storage.announce(&change).await?;
        Ok(cleared)
    }

    /// The keys this node holds for a client's `jwks_uri`, with fetch time and expiry.
    pub async fn cached_jwks(&self, raw_id: &str) -> Result<CachedJwks, AdminError> {
        let jwks_uri = self.jwks_uri_of(raw_id).await?;
        let cached = self.cached_keys(&jwks_uri);
        Ok(CachedJwks { jwks_uri, cached })
    }

    /// What this node holds for a JWKS URL, for a caller that has already read the client.
    pub fn cached_keys(&self, jwks_uri: &str) -> Option<Arc<CachedKeys>> {
        self.remote_keys.peek(jwks_uri)
    }

    async fn jwks_uri_of(&self, raw_id: &str) -> Result<String, AdminError> {
        let id = parse_id(raw_id)?;
        self.load(&id)
            .await?
            .client
            .jwks_uri
            .ok_or_else(|| AdminError::InvalidRequest(format!("client '{id}' has no jwks_uri").into()))
    }
}
