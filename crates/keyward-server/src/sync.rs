//! Cache coherence between nodes that share one database (DESIGN.md "Storage"): every node
//! listens to the storage's change feed and drops what another node changed. A gap in the feed
//! arrives as `Change::All`, which drops every cache, so a missed notification never leaves a
//! stale client, key or JWKS entry behind.

use std::time::Duration;

use keyward_storage::{Change, Storage};
use keyward_types::ClientId;
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

async fn apply(state: &AppState, change: Change) {
    tracing::debug!(?change, "change from the feed");
    match change {
        Change::Client { client_id } => match ClientId::parse(&client_id) {
            Ok(id) => state.clients.invalidate(&id),
            Err(_) => state.clients.clear(),
        },
        Change::JwksCache { client_id: None } => {
            state.remote_keys.0.clear_all();
        }
        Change::JwksCache { client_id: Some(id) } => clear_jwks_of(state, &id).await,
        Change::SigningKeys => reload_keys(state).await,
        Change::All => {
            state.clients.clear();
            state.remote_keys.0.clear_all();
            reload_keys(state).await;
        }
    }
}

async fn clear_jwks_of(state: &AppState, raw_id: &str) {
    let uri = match ClientId::parse(raw_id) {
        Ok(id) => state
            .storage
            .load_client(&id)
            .await
            .ok()
            .flatten()
            .and_then(|e| e.client.jwks_uri),
        Err(_) => None,
    };
    match uri {
        Some(uri) => {
            state.remote_keys.0.clear(&uri);
        }
        // Cannot tell which URL: clearing all is the safe side.
        None => {
            state.remote_keys.0.clear_all();
        }
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
