//! The task behind [`ChangeFeed::subscribe`](keyward_storage::ChangeFeed::subscribe): one
//! `LISTEN` connection of its own, its notifications forwarded as [`Change`]s.
//!
//! `NOTIFY` is not queued for a listener that is not connected, so every gap (a lost
//! connection, a database restart) is reported as [`Change::All`] — sent only once `LISTEN`
//! is in place again, so nothing committed after the reload it triggers can be missed.
//!
//! A connection that the network dropped without a word (a NAT or load balancer forgetting an
//! idle flow) looks exactly like a quiet one. So when nothing arrived for a heartbeat interval,
//! the task runs a trivial query on the connection; no answer within the interval counts as a
//! lost connection: it is dropped and replaced, and the gap reported as above. Every
//! reconnection is counted in `keyward_change_feed_reconnects_total`.

use std::time::Duration;

use keyward_storage::Change;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::mpsc;

/// Changes are small and the consumer only drops cache entries; a full buffer makes the task
/// wait (PostgreSQL buffers meanwhile) rather than lose one.
const BUFFER: usize = 1024;
const FIRST_RETRY: Duration = Duration::from_millis(50);
/// Retries back off to this, so a node notices a recovered database within about a second.
const MAX_RETRY: Duration = Duration::from_secs(1);

/// The one channel every node listens on. Channels are per database, not per schema.
pub(crate) const CHANNEL: &str = "keyward_changes";

pub(crate) async fn spawn(
    options: PgConnectOptions,
    connect_timeout: Duration,
    heartbeat: Duration,
) -> mpsc::Receiver<Change> {
    let (tx, rx) = mpsc::channel(BUFFER);
    let feed = Feed {
        options,
        connect_timeout,
        heartbeat: heartbeat.max(MIN_HEARTBEAT),
        tx,
    };
    let first = match feed.listen().await {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "change listener cannot connect yet; retrying");
            None
        }
    };
    tokio::spawn(feed.run(first));
    rx
}

/// The heartbeat never runs more often than this, whatever the configuration says.
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);

/// What the listener task works with.
struct Feed {
    options: PgConnectOptions,
    connect_timeout: Duration,
    /// Quiet time after which the connection is proven alive with a query, and how long that
    /// query may take. A connection that a NAT or load balancer dropped silently delivers
    /// nothing and reports nothing; only a round trip finds it out.
    heartbeat: Duration,
    tx: mpsc::Sender<Change>,
}

/// Why a connection stopped being listened on.
enum Lost {
    /// The receiver is gone: the task ends.
    Closed,
    /// The connection failed, or did not answer a heartbeat in time: connect again.
    Connection,
}

impl Feed {
    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        // A pool of one per connection, only to connect with these settings: a listener holds
        // its connection for good (it would shrink the request pool), and when a dead
        // connection is dropped sqlx sends it `UNLISTEN` in the background, which on a silently
        // dropped connection never returns and would hold a shared pool's only slot.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.connect_timeout)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(self.options.clone());
        let connect = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok(listener)
        };
        tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    /// Runs until the receiver is dropped.
    async fn run(self, mut listener: Option<PgListener>) {
        let mut retry = FIRST_RETRY;
        loop {
            let current = match listener.take() {
                Some(l) => l,
                None => match self.listen().await {
                    Ok(l) => {
                        tracing::info!("change listener connected");
                        metrics::counter!("keyward_change_feed_reconnects_total").increment(1);
                        retry = FIRST_RETRY;
                        if self.tx.send(Change::All).await.is_err() {
                            return;
                        }
                        l
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?retry, "change listener cannot connect");
                        tokio::select! {
                            () = tokio::time::sleep(retry) => {}
                            () = self.tx.closed() => return,
                        }
                        retry = (retry * 2).min(MAX_RETRY);
                        continue;
                    }
                },
            };
            match self.forward(current).await {
                Lost::Closed => return,
                Lost::Connection => {}
            }
        }
    }

    /// Forwards the notifications of one connection until it is lost. Dropping the listener
    /// (on return) drops its connection.
    async fn forward(&self, mut listener: PgListener) -> Lost {
        loop {
            let next = tokio::select! {
                // `try_recv` is cancel-safe: a timeout loses no notification.
                next = tokio::time::timeout(self.heartbeat, listener.try_recv()) => next,
                () = self.tx.closed() => return Lost::Closed,
            };
            let change = match next {
                Err(_quiet) => match self.prove_alive(&mut listener).await {
                    Ok(()) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "change listener failed its heartbeat; reconnecting");
                        return Lost::Connection;
                    }
                },
                Ok(Ok(Some(n))) => parse(n.payload()),
                // The connection was lost and, before this returned, re-established and
                // listening again: whatever was announced in between is unknown.
                Ok(Ok(None)) => {
                    tracing::warn!("change listener reconnected; every cache is dropped");
                    metrics::counter!("keyward_change_feed_reconnects_total").increment(1);
                    Change::All
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "change listener lost its connection");
                    return Lost::Connection;
                }
            };
            if self.tx.send(change).await.is_err() {
                return Lost::Closed;
            }
        }
    }

    /// One round trip on the listening connection, within the heartbeat interval. Notifications
    /// that arrive meanwhile are kept by the listener for the next `try_recv`.
    async fn prove_alive(&self, listener: &mut PgListener) -> Result<(), sqlx::Error> {
        let ping = sqlx::query("SELECT 1").execute(&mut *listener);
        tokio::time::timeout(self.heartbeat, ping)
            .await
            .map_err(|_| sqlx::Error::Io(std::io::ErrorKind::TimedOut.into()))?
            .map(drop)
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
