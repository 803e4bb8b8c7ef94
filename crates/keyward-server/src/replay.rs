//! The replay guard the assertion methods call, over the storage's replay store.

use std::sync::Arc;

use async_trait::async_trait;
use keyward_client_auth::{ReplayError, ReplayGuard};
use keyward_storage::Storage;
use keyward_types::ClientId;
use time::OffsetDateTime;

pub(crate) struct StorageReplay(pub(crate) Arc<dyn Storage>);

#[async_trait]
impl ReplayGuard for StorageReplay {
    async fn first_use(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, ReplayError> {
        self.0
            .insert_once(client_id, jti, expires_at, now)
            .await
            .map_err(|e| ReplayError(e.into()))
    }
}
