//! The server's periodic work, off the request path: signing-key reload, metrics upkeep,
//! replay purge, and the change feed of a shared database.

use std::time::Duration;

use keyward_storage::Change;
use tokio::{sync::mpsc::Receiver, task::JoinHandle};

use crate::{metrics, state::AppState};

/// Starts every background task; the server aborts them when it is dropped.
pub(crate) fn spawn(state: &AppState, changes: Option<Receiver<Change>>) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![
        key_reload(state.clone()),
        metrics_upkeep(),
        replay_purge(state.clone()),
    ];
    tasks.extend(changes.map(|rx| crate::sync::spawn_listener(state.clone(), rx)));
    tasks
}

/// Picks up a rotation made by `keyward admin rotate-signing-key` or another node.
fn key_reload(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_secs(state.config.signing_key_reload_seconds.max(1));
        loop {
            tokio::time::sleep(period).await;
            if let Err(e) = state
                .keys
                .reload(&*state.storage, &state.keyring, state.clock.now())
                .await
            {
                tracing::warn!(error = %e, "signing key reload failed; keeping current keys");
            }
        }
    })
}

fn metrics_upkeep() -> JoinHandle<()> {
    tokio::spawn(async {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if let Some(h) = metrics::handle() {
                h.run_upkeep();
            }
        }
    })
}

/// Expired replay entries are deleted in the background, never on the token path.
fn replay_purge(state: AppState) -> JoinHandle<()> {
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
