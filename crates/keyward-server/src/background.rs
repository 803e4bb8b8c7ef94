//! The server's periodic work, off the request path: signing-key reload, metrics upkeep,
//! replay purge, and cache coherence between nodes that share one database (DESIGN.md
//! "Storage"): every node listens to the storage's change feed and drops what another node
//! changed ([`keyward_admin::AdminOps::apply_change`]). A gap in the feed arrives as
//! `Change::All`, which drops every cache, so a missed notification never leaves a stale client,
//! key or JWKS entry behind. A gap nobody noticed (a connection dropped silently) is bounded by
//! the feed's heartbeat and, for cached clients, by their maximum age (`cache_max_age_seconds`).

use std::{sync::Arc, time::Duration};

use keyward_admin::AdminOps;
use keyward_storage::{Change, Storage};
use keyward_types::Clock;
use tokio::{sync::mpsc::Receiver, task::JoinHandle};

use crate::{keyring::Keyring, metrics, signing::SigningKeys};

/// What the background tasks work on.
pub(crate) struct Upkeep {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keyring: Keyring,
    pub(crate) keys: Arc<SigningKeys>,
    pub(crate) admin: Arc<AdminOps>,
    /// The console's sessions, whose expired rows the replay purge also deletes.
    pub(crate) sessions: Arc<crate::console::Sessions>,
    /// How often signing keys are reloaded (`signing_key_reload_seconds`).
    pub(crate) key_reload: Duration,
    /// How often expired replay entries are deleted (`replay_purge_seconds`).
    pub(crate) replay_purge: Duration,
    /// How often secret lifetimes are checked, and how far ahead they are warned of.
    pub(crate) secret_check: Duration,
    pub(crate) secret_warning: time::Duration,
}

impl Upkeep {
    async fn reload_keys(&self) -> Result<(), crate::signing::SigningKeyError> {
        self.keys
            .reload(&*self.storage, &self.keyring, self.clock.now())
            .await
    }
}

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

/// Starts every background task; the server aborts them when it is dropped.
pub(crate) fn spawn(upkeep: Upkeep, changes: Option<Receiver<Change>>) -> Vec<JoinHandle<()>> {
    let upkeep = Arc::new(upkeep);
    let mut tasks = vec![
        key_reload(upkeep.clone()),
        metrics_upkeep(),
        replay_purge(upkeep.clone()),
        secret_expiry_watch(upkeep.clone()),
    ];
    tasks.extend(changes.map(|rx| listen(upkeep, rx)));
    tasks
}

/// Picks up a rotation made by `keyward admin rotate-signing-key` or another node.
fn key_reload(upkeep: Arc<Upkeep>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(upkeep.key_reload).await;
            if let Err(e) = upkeep.reload_keys().await {
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

/// Expired replay entries (and console sessions) are deleted in the background, never on the
/// token path.
fn replay_purge(upkeep: Arc<Upkeep>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(upkeep.replay_purge).await;
            match upkeep.storage.purge_expired(upkeep.clock.now()).await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired replay entries removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "replay purge failed; will retry"),
            }
            match upkeep.storage.purge_grants(upkeep.clock.now()).await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "ended codes, grants and requests removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "grant purge failed; will retry"),
            }
            match upkeep.sessions.purge().await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired console sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed; will retry"),
            }
        }
    })
}

/// Most expiring secrets named in the log per check; the gauges count them all (up to
/// [`SECRET_SCAN_LIMIT`]).
const SECRETS_LOGGED: usize = 20;
const SECRET_SCAN_LIMIT: u32 = 100_000;

/// Warns of client secrets that expire soon (or have expired): a log line per client and the
/// `keyward_client_secrets_expiring` / `_expired` gauges, at start and then periodically, so an
/// operator rotates them before clients are refused.
fn secret_expiry_watch(upkeep: Arc<Upkeep>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = upkeep.clock.now();
            let horizon = now + upkeep.secret_warning;
            match upkeep
                .storage
                .secrets_expiring_before(horizon, SECRET_SCAN_LIMIT)
                .await
            {
                Ok(found) => {
                    let expired = found.iter().filter(|s| s.not_after <= now).count();
                    metrics::secrets_expiring(found.len() - expired, expired);
                    for s in found.iter().take(SECRETS_LOGGED) {
                        let at = keyward_admin::rfc3339(s.not_after);
                        if s.not_after <= now {
                            tracing::warn!(client_id = %s.client_id, expired_at = %at, "client secret has expired; rotate it");
                        } else {
                            tracing::warn!(client_id = %s.client_id, expires_at = %at, "client secret expires soon; rotate it");
                        }
                    }
                    if found.len() > SECRETS_LOGGED {
                        tracing::warn!(
                            more = found.len() - SECRETS_LOGGED,
                            "more client secrets expire soon"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "secret expiry check failed; will retry"),
            }
            tokio::time::sleep(upkeep.secret_check).await;
        }
    })
}

/// Applies every change from the feed until it closes. Cached clients and JWKS URL keys are
/// the admin layer's to drop; signing keys are reloaded here.
fn listen(upkeep: Arc<Upkeep>, mut changes: Receiver<Change>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(change) = changes.recv().await {
            tracing::debug!(?change, "change from the feed");
            upkeep.admin.apply_change(&change).await;
            if matches!(change, Change::SigningKeys | Change::All) {
                reload_keys_after_change(&upkeep).await;
            }
        }
        tracing::warn!("change feed closed");
    })
}

/// Reloads signing keys, retrying briefly: the change that triggered this is committed, so a
/// failure here is the database being away, and the periodic reload is the backstop.
async fn reload_keys_after_change(upkeep: &Upkeep) {
    for attempt in 0..3u32 {
        match upkeep.reload_keys().await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "signing key reload after a change failed");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await;
            }
        }
    }
}
