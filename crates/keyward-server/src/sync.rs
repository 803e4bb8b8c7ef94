//! Cache coherence between nodes that share one database (DESIGN.md "Storage"): every node
//! listens to the storage's change feed and drops what another node changed
//! ([`keyward_admin::AdminOps::apply_change`]). A gap in the feed arrives as `Change::All`,
//! which drops every cache, so a missed notification never leaves a stale client, key or JWKS
//! entry behind.

use std::time::Duration;

use keyward_storage::{Change, Storage};
use tokio::{sync::mpsc::Receiver, task::JoinHandle};

use crate::state::AppState;

/// The storage's change feed, or `None` when the backend serves this node alone. Called before
/// the node loads its keys, so nothing committed after that load can go unheard.
pub(crate) async fn subscribe(storage: &dyn Storage) -> Option<Receiver<Change>> {
    match storage.subscribe().await {
        Ok(rx) => rx,
        Err(e) => {
            // The feed retries by itself; a node that starts without it still serves.
            tracing::warn!(error = %e, "change feed unavailable at start");
            None
        }
    }
}

/// Applies every change from the feed until it closes.
pub(crate) fn spawn_listener(state: AppState, mut changes: Receiver<Change>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(change) = changes.recv().await {
            apply(&state, change).await;
        }
        tracing::warn!("change feed closed");
    })
}

/// Cached clients and JWKS URL keys are the admin layer's to drop; signing keys are reloaded here.
async fn apply(state: &AppState, change: Change) {
    tracing::debug!(?change, "change from the feed");
    state.admin.apply_change(&change).await;
    if matches!(change, Change::SigningKeys | Change::All) {
        reload_keys(state).await;
    }
}

/// Reloads signing keys, retrying briefly: the change that triggered this is committed, so a
/// failure here is the database being away, and the periodic reload is the backstop.
async fn reload_keys(state: &AppState) {
    for attempt in 0..3u32 {
        match state
            .keys
            .reload(&*state.storage, &state.keyring, state.clock.now())
            .await
        {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "signing key reload after a change failed");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await;
            }
        }
    }
}
