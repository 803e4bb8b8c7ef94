use std::time::Duration;

/// Pool size and timeouts. The timeouts are short on purpose: when the database is down a
/// request fails within `acquire_timeout` (and the server answers 503) instead of queueing.
/// They bound getting a connection, not a query on one: a database host that vanishes without
/// closing its connections (no reset, no FIN) stalls the queries in flight until TCP gives up.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections per node. Every node has its own pool, so the database must allow
    /// `nodes × max_connections` plus one listener connection per node.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection (or for a new one to connect).
    pub acquire_timeout: Duration,
    /// How long [`PostgresStorage::open`](crate::PostgresStorage::open) and the change
    /// listener wait for one connection to be established.
    pub connect_timeout: Duration,
    /// Idle pooled connections are closed after this long.
    pub idle_timeout: Duration,
    /// Schema to keep the tables in (created if missing); set as `search_path` on every
    /// connection. `None` uses the URL's or the server's `search_path`. Tests give each run
    /// its own schema; installs may use one to share a database with other applications.
    pub schema: Option<String>,
    /// Shown in `pg_stat_activity`, so an operator can tell nodes apart. The change listener's
    /// connection gets this name with `:listen` appended. Default `keyward`.
    pub application_name: Option<String>,
    /// TCP keepalive idle time of every connection (pool and listener), asked of the server
    /// with the `tcp_keepalives_idle/interval/count` startup options: probes every
    /// `idle / 3` after `idle` of silence, 3 unanswered probes end the connection, so the
    /// server lets go of a peer that vanished and middleboxes see traffic on idle connections.
    /// `None` leaves the server's settings.
    pub tcp_keepalive: Option<Duration>,
    /// How long the change listener's connection may stay quiet before a query proves it alive;
    /// also how long that query may take. A dead one is replaced and every cache cleared.
    pub listen_heartbeat: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(600),
            schema: None,
            application_name: None,
            tcp_keepalive: Some(Duration::from_secs(30)),
            listen_heartbeat: Duration::from_secs(5),
        }
    }
}
