//! The replay guard the assertion methods call, over the storage's replay store, and the
//! background purge of expired entries.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use keyward_client_auth::{DirectoryError, ReplayGuard};
use keyward_storage::Storage;
use keyward_types::ClientId;
use time::OffsetDateTime;
use tokio::task::JoinHandle;

use crate::state::AppState;

pub(crate) struct StorageReplay(pub(crate) Arc<dyn Storage>);

#[async_trait]
impl ReplayGuard for StorageReplay {
    async fn first_use(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, DirectoryError> {
        self.0
            .insert_once(client_id, jti, expires_at, now)
            .await
            .map_err(|e| DirectoryError(e.to_string()))
    }
}

pub(crate) fn spawn_purge(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_secs(state.config.replay_purge_seconds.max(1));
        loop {
            tokio::time::sleep(period).await;
            match state.storage.purge_expired(state.clock.now()).await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired replay entries removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "replay purge failed; will retry"),
            }
        }
    })
}
