use std::time::Duration;

/// Limits of JWKS fetching (DESIGN.md "JWKS URL").
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Allow `http://` URLs (tests, private deployments). Default false: https only.
    pub allow_http: bool,
    /// Allow loopback, private, link-local and other non-public addresses. Default false.
    pub allow_private_networks: bool,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    /// Largest document accepted, in bytes.
    pub max_body_bytes: usize,
    pub max_keys: usize,
    pub min_ttl: time::Duration,
    pub max_ttl: time::Duration,
    /// TTL when the response has no usable `Cache-Control: max-age`.
    pub default_ttl: time::Duration,
    /// Least time between two refetches of one URL triggered by unknown `kid`s.
    pub refetch_cooldown: time::Duration,
    /// How long the last good set is used while refreshes fail; then the client fails closed.
    pub max_staleness: time::Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private_networks: false,
            connect_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(5),
            max_body_bytes: 256 * 1024,
            max_keys: 100,
            min_ttl: time::Duration::seconds(60),
            max_ttl: time::Duration::hours(1),
            default_ttl: time::Duration::minutes(5),
            refetch_cooldown: time::Duration::seconds(10),
            max_staleness: time::Duration::hours(24),
        }
    }
}
