//! The task behind [`ChangeFeed::subscribe`](keyward_storage::ChangeFeed::subscribe): one
//! `LISTEN` connection of its own, its notifications forwarded as [`Change`]s.
//!
//! `NOTIFY` is not queued for a listener that is not connected, so every gap (a lost
//! connection, a database restart) is reported as [`Change::All`] — sent only once `LISTEN`
//! is in place again, so nothing committed after the reload it triggers can be missed.

use std::time::Duration;

use keyward_storage::Change;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::mpsc;

/// Changes are small and the consumer only drops cache entries; a full buffer makes the task
/// wait (PostgreSQL buffers meanwhile) rather than lose one.
const BUFFER: usize = 1024;
const FIRST_RETRY: Duration = Duration::from_millis(50);
/// Retries back off to this, so a node notices a recovered database within about a second.
const MAX_RETRY: Duration = Duration::from_secs(1);

/// The one channel every node listens on. Channels are per database, not per schema.
pub(crate) const CHANNEL: &str = "keyward_changes";

pub(crate) async fn spawn(options: PgConnectOptions, connect_timeout: Duration) -> mpsc::Receiver<Change> {
    // Its own pool of one: a listener holds its connection for good, which would shrink the
    // request pool; the pool only serves to reconnect with the same settings.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(connect_timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options);
    let (tx, rx) = mpsc::channel(BUFFER);
    let first = match listen(&pool, connect_timeout).await {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "change listener cannot connect yet; retrying");
            None
        }
    };
    tokio::spawn(run(pool, connect_timeout, tx, first));
    rx
}

async fn listen(pool: &PgPool, timeout: Duration) -> Result<PgListener, sqlx::Error> {
    let connect = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    };
    tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

/// Runs until the receiver is dropped.
async fn run(pool: PgPool, timeout: Duration, tx: mpsc::Sender<Change>, mut listener: Option<PgListener>) {
    let mut retry = FIRST_RETRY;
    loop {
        let mut current = match listener.take() {
            Some(l) => l,
            None => match listen(&pool, timeout).await {
                Ok(l) => {
                    tracing::info!("change listener connected");
                    retry = FIRST_RETRY;
                    if tx.send(Change::All).await.is_err() {
                        return;
                    }
                    l
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?retry, "change listener cannot connect");
                    tokio::select! {
                        () = tokio::time::sleep(retry) => {}
                        () = tx.closed() => return,
                    }
                    retry = (retry * 2).min(MAX_RETRY);
                    continue;
                }
            },
        };
        loop {
            let next = tokio::select! {
                next = current.try_recv() => next,
                () = tx.closed() => return,
            };
            let change = match next {
                Ok(Some(n)) => parse(n.payload()),
                // The connection was lost and, before this returned, re-established and
                // listening again: whatever was announced in between is unknown.
                Ok(None) => {
                    tracing::warn!("change listener reconnected; every cache is dropped");
                    Change::All
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change listener lost its connection");
                    break;
                }
            };
            if tx.send(change).await.is_err() {
                return;
            }
        }
    }
}

/// A payload this version cannot read (a newer node's, say) still means something changed.
fn parse(payload: &str) -> Change {
    serde_json::from_str(payload).unwrap_or_else(|e| {
        tracing::warn!(error = %e, payload, "unreadable change notification; every cache is dropped");
        Change::All
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_change_and_treats_anything_else_as_all() {
        let change = Change::Client {
            client_id: "c".into(),
        };
        assert_eq!(parse(&serde_json::to_string(&change).unwrap_or_default()), change);
        assert_eq!(parse(r#"{"kind":"signing_keys"}"#), Change::SigningKeys);
        assert_eq!(parse("garbage"), Change::All);
        assert_eq!(parse(r#"{"kind":"from_a_newer_node"}"#), Change::All);
    }
}
