use std::path::Path;

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use ipnet::IpNet;
use keyward_types::SigningAlg;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::rate_limit::ProxyHeader;

/// Server configuration: defaults, then `keyward.toml` (if given), then `KEYWARD_*` variables.
/// Every key can be set by its upper-cased env name (`database_url` ← `KEYWARD_DATABASE_URL`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the bound address is logged).
    pub listen: String,
    /// Issuer identifier; default `http://` + the bound address.
    pub issuer: Option<String>,
    pub database_url: String,
    /// PostgreSQL pool size per node.
    pub database_max_connections: u32,
    /// How long a request waits for a PostgreSQL connection before it fails with 503 (ms).
    pub database_acquire_timeout_ms: u64,
    /// Directory for key files created on first start (pepper, key-encryption key).
    pub data_dir: String,
    /// Secret of the bootstrap admin client: used when it is first created, and at every start
    /// made its current secret if it is not (a changed value rotates it; the previous one stops
    /// working at once). Unset: generated on first start and printed once.
    pub admin_secret: Option<String>,
    /// The first console user, created with role `admin` on a start that finds no users.
    pub admin_username: String,
    /// That user's password (8 to 1024 bytes). Unset: generated on that start and printed once.
    /// Used only while there are no users; change it later through the admin API.
    pub admin_password: Option<String>,
    /// HMAC key for client secret hashes (base64url of 32 bytes); else `data_dir/pepper.key`.
    pub pepper: Option<String>,
    /// AES-256-GCM key for keys stored encrypted (base64url of 32 bytes); else `data_dir/kek.key`.
    pub key_encryption_key: Option<String>,
    pub token_signing_alg: SigningAlg,
    /// Upper bound of `grace_period_seconds` when a secret is rotated.
    pub max_secret_grace_period: u64,
    /// Lifetime of generated client secrets (s) for clients without their own
    /// `client_secret_lifetime`; 0 never expires (Keycloak's default too).
    pub client_secret_lifetime_seconds: u64,
    /// A log warning and the `keyward_client_secrets_expiring` gauge cover current secrets
    /// that expire within this many seconds (default 7 days).
    pub secret_expiry_warning_seconds: u64,
    /// How often secret lifetimes are checked for that warning (s).
    pub secret_expiry_check_seconds: u64,
    pub default_access_token_lifetime: u32,
    /// Upper bound of any client's `access_token_lifetime`; also how long a replaced signing
    /// key stays published.
    pub max_access_token_lifetime: u32,
    /// How many clients the token path keeps in memory (about 3 KiB each with one key; the
    /// default, 10,000, as Keycloak's realm cache, keeps the server under 64 MiB). A client
    /// not cached costs one storage read per token request until it is cached again.
    pub client_cache_capacity: usize,
    /// How often signing keys are re-read from storage (seconds), to pick up a rotation made
    /// by `keyward admin rotate-signing-key` or another node.
    pub signing_key_reload_seconds: u64,
    pub log_format: LogFormat,
    /// Largest `exp − (iat or now)` of a client assertion, in seconds.
    pub max_assertion_lifetime: u32,
    /// Largest `max_assertion_lifetime` one client may be given (s; default 3600, what Authlib
    /// signs with).
    pub max_client_assertion_lifetime: u32,
    /// Tolerance for `iat`/`nbf` ahead of this server's clock, in seconds.
    pub clock_skew: u32,
    /// Algorithms client assertions may use when a client pins none.
    pub assertion_signing_algs: Vec<SigningAlg>,
    /// Most public keys a `private_key_jwt` client may register.
    pub max_credentials_per_client: usize,
    /// How often expired replay entries are purged, in seconds.
    pub replay_purge_seconds: u64,
    /// JWKS URLs may use http (default: https only).
    pub jwks_allow_http: bool,
    /// JWKS URLs may resolve to loopback, private or link-local addresses (default: public only).
    pub jwks_allow_private_networks: bool,
    pub jwks_connect_timeout_ms: u64,
    pub jwks_timeout_ms: u64,
    pub jwks_max_bytes: usize,
    pub jwks_max_keys: usize,
    /// Bounds of the cache TTL taken from `Cache-Control: max-age`, and the TTL without one (s).
    pub jwks_min_ttl: u32,
    pub jwks_max_ttl: u32,
    pub jwks_default_ttl: u32,
    /// Least time between refetches of one URL caused by unknown `kid`s (s).
    pub jwks_refetch_cooldown: u32,
    /// How long the last good keys are used while refreshes fail (s); then fail closed.
    pub jwks_max_staleness: u32,
    // Multi-node caches
    /// TCP keepalive idle time of every PostgreSQL connection, in seconds (probes every third
    /// of it after that, three unanswered end the connection).
    pub database_tcp_keepalive_seconds: u64,
    /// Quiet seconds after which the PostgreSQL listening connection is proven alive with a
    /// query (also that query's timeout); a dead one is replaced and every cache cleared.
    pub pg_listen_heartbeat_seconds: u64,
    /// Seconds a cached client (with its keys and secrets) is used before it is read again,
    /// so a missed change notification heals by itself.
    pub cache_max_age_seconds: u64,
    // Connections and TLS
    /// How long a client has to send a request's headers (ms), from accept and then from the
    /// first byte of each next request (not the keep-alive wait between requests, which is the
    /// idle timer's). Also bounds the TLS handshake.
    pub header_read_timeout_ms: u64,
    /// How long a client has to send a request's whole body once its headers arrived (ms);
    /// later is `408`.
    pub body_read_timeout_ms: u64,
    /// A connection with no request in flight for this long is closed (ms).
    pub idle_timeout_ms: u64,
    /// Most connections served at once; more wait in the kernel's backlog, not accepted.
    pub max_connections: usize,
    /// PEM certificate chain (leaf first) for TLS on `listen`; set with `tls_key_file`.
    pub tls_cert_file: Option<String>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert_file`.
    pub tls_key_file: Option<String>,
    /// How often the TLS files are re-read to pick up a renewed certificate (s).
    pub tls_reload_seconds: u64,

    // Rate limits on failures
    /// Failed authentications (`invalid_client` at `/token`, rejected admin bearer tokens) a
    /// source address may make in a row before its requests to `/token` and `/admin` get `429`.
    pub auth_failure_burst: u32,
    /// How many of those failures per minute a source earns back.
    pub auth_failure_per_minute: u32,
    /// Most source addresses (IPv4, or IPv6 /64) tracked at once; the least recently used goes.
    pub auth_failure_max_addresses: usize,
    /// Peers (IP addresses or CIDR ranges) whose `trusted_proxy_header` names the client: a
    /// list, or one string of comma-separated entries (as an environment variable is written).
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    pub trusted_proxy_header: ProxyHeader,

    // Audit and logs
    /// Most refused admin bearer tokens written to the audit log per minute (`admin.auth.reject`);
    /// the rest are only counted and logged, so a flood of bad tokens cannot fill the database.
    pub admin_reject_audit_per_minute: u32,

    // Metrics
    /// Address of the private listener serving `GET /metrics`; port 0 picks a free port (the
    /// bound address is logged). Empty or `none`: no metrics listener.
    pub metrics_listen: String,
    /// Also serve `GET /metrics` on the main listener, to admin bearer tokens only: the
    /// failure reasons it counts would otherwise tell anyone which client ids exist.
    pub metrics_public: bool,

    // Console
    /// A console session ends after this many seconds without a request.
    pub console_session_idle_seconds: u64,
    /// A console session ends this many seconds after sign-in, however busy.
    pub console_session_max_seconds: u64,
    /// Failed console sign-ins one account may have in a row before it must wait.
    pub signin_account_burst: u32,
    /// How many of those failures per minute an account earns back.
    pub signin_account_per_minute: u32,
    /// Failed console sign-ins one source address may make in a row (any accounts).
    pub signin_address_burst: u32,
    /// How many of those failures per minute an address earns back.
    pub signin_address_per_minute: u32,

    // Authorization code flow
    /// A refresh token not used for this many seconds expires (each use rotates it).
    pub refresh_token_lifetime_seconds: u64,
}

/// `["10.0.0.0/8", "192.0.2.1"]` or `"10.0.0.0/8, 192.0.2.1"`.
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCommas {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match ListOrCommas::deserialize(d)? {
        ListOrCommas::List(list) => list,
        ListOrCommas::Commas(s) => s
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            issuer: None,
            database_url: "sqlite://keyward-data/keyward.db".into(),
            data_dir: "keyward-data".into(),
            admin_secret: None,
            admin_username: "admin".into(),
            admin_password: None,
            pepper: None,
            key_encryption_key: None,
            token_signing_alg: SigningAlg::RS256,
            max_secret_grace_period: 7 * 24 * 3600,
            client_secret_lifetime_seconds: 0,
            secret_expiry_warning_seconds: 7 * 24 * 3600,
            secret_expiry_check_seconds: 3600,
            default_access_token_lifetime: 300,
            max_access_token_lifetime: 3600,
            client_cache_capacity: 10_000,
            signing_key_reload_seconds: 5,
            log_format: LogFormat::Text,
            max_assertion_lifetime: 60,
            max_client_assertion_lifetime: 3_600,
            clock_skew: 15,
            assertion_signing_algs: SigningAlg::ALL.to_vec(),
            max_credentials_per_client: 2,
            replay_purge_seconds: 60,
            database_max_connections: 16,
            database_acquire_timeout_ms: 2000,
            jwks_allow_http: false,
            jwks_allow_private_networks: false,
            jwks_connect_timeout_ms: 2000,
            jwks_timeout_ms: 5000,
            jwks_max_bytes: 256 * 1024,
            jwks_max_keys: 100,
            jwks_min_ttl: 60,
            jwks_max_ttl: 3600,
            jwks_default_ttl: 300,
            jwks_refetch_cooldown: 10,
            jwks_max_staleness: 86400,
            // Multi-node caches
            database_tcp_keepalive_seconds: 30,
            pg_listen_heartbeat_seconds: 5,
            cache_max_age_seconds: 60,
            // Connections and TLS
            header_read_timeout_ms: 5_000,
            body_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 1_024,
            tls_cert_file: None,
            tls_key_file: None,
            tls_reload_seconds: 5,

            // Rate limits on failures
            auth_failure_burst: 20,
            auth_failure_per_minute: 60,
            auth_failure_max_addresses: 100_000,
            trusted_proxies: Vec::new(),
            trusted_proxy_header: ProxyHeader::XForwardedFor,

            // Audit and logs
            admin_reject_audit_per_minute: 10,

            // Metrics
            metrics_listen: "127.0.0.1:9464".into(),
            metrics_public: false,

            // Console
            console_session_idle_seconds: 30 * 60,
            console_session_max_seconds: 10 * 3600,
            signin_account_burst: 5,
            signin_account_per_minute: 2,
            signin_address_burst: 20,
            signin_address_per_minute: 10,

            // Authorization code flow
            refresh_token_lifetime_seconds: 30 * DAY,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| "[redacted]");
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer)
            .field("database_url", &redact_url_password(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("admin_secret", &redact(&self.admin_secret))
            .field("admin_username", &self.admin_username)
            .field("admin_password", &redact(&self.admin_password))
            .field("pepper", &redact(&self.pepper))
            .field("key_encryption_key", &redact(&self.key_encryption_key))
            .field("token_signing_alg", &self.token_signing_alg)
            .finish_non_exhaustive()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:[redacted]@host/db`.
pub(crate) fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("[redacted]"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Why the configuration cannot be used. Every message names the key at fault.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("configuration: config file {0} not found")]
    FileNotFound(String),
    /// The file or the environment could not be read into the settings (syntax, type, unknown key).
    #[error("configuration: {0}")]
    Load(#[source] Box<figment::Error>),
    /// A number outside what keyward accepts: beyond the maximum, time arithmetic overflows or
    /// a resource grows without bound; below the minimum, the setting means nothing.
    #[error(
        "configuration: {key} is {value} {unit}; it must be between {min} and {max} {unit} \
         (set in keyward.toml or as KEYWARD_{env})",
        env = .key.to_ascii_uppercase()
    )]
    OutOfRange {
        key: &'static str,
        value: u64,
        min: u64,
        max: u64,
        unit: &'static str,
    },
    #[error("configuration: {0}")]
    Invalid(String),
    #[error(
        "configuration: trusted_proxies entry {entry:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8)"
    )]
    TrustedProxy {
        entry: String,
        #[source]
        source: ipnet::AddrParseError,
    },
}

/// One numeric setting and the range keyward accepts for it. The maxima keep each sum of a
/// setting and a timestamp (grace periods, lifetimes, TTLs, skew) far inside what the time types
/// hold, and every pool, cache and buffer to what a host can give; the minima refuse values that
/// mean nothing (a zero timeout, an empty cache).
struct Bound {
    key: &'static str,
    min: u64,
    max: u64,
    unit: &'static str,
    value: fn(&Config) -> u64,
}

const fn bound(
    key: &'static str,
    min: u64,
    max: u64,
    unit: &'static str,
    value: fn(&Config) -> u64,
) -> Bound {
    Bound {
        key,
        min,
        max,
        unit,
        value,
    }
}

/// A `usize` setting as `u64`; a value that does not fit is out of every range.
fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

const DAY: u64 = 86_400;

#[rustfmt::skip]
const BOUNDS: [Bound; 43] = [
    bound("refresh_token_lifetime_seconds", 60, 365 * DAY, "seconds", |c| c.refresh_token_lifetime_seconds),
    bound("console_session_idle_seconds", 60, 7 * DAY, "seconds", |c| c.console_session_idle_seconds),
    bound("console_session_max_seconds", 60, 30 * DAY, "seconds", |c| c.console_session_max_seconds),
    bound("signin_account_burst", 1, 1_000, "failures", |c| c.signin_account_burst.into()),
    bound("signin_account_per_minute", 1, 1_000, "failures", |c| c.signin_account_per_minute.into()),
    bound("signin_address_burst", 1, 100_000, "failures", |c| c.signin_address_burst.into()),
    bound("signin_address_per_minute", 1, 100_000, "failures", |c| c.signin_address_per_minute.into()),
    bound("database_max_connections", 1, 1_000, "connections", |c| c.database_max_connections.into()),
    bound("database_acquire_timeout_ms", 1, 600_000, "ms", |c| c.database_acquire_timeout_ms),
    bound("max_secret_grace_period", 0, 365 * DAY, "seconds", |c| c.max_secret_grace_period),
    bound("default_access_token_lifetime", 1, DAY, "seconds", |c| c.default_access_token_lifetime.into()),
    bound("max_access_token_lifetime", 1, DAY, "seconds", |c| c.max_access_token_lifetime.into()),
    bound("client_cache_capacity", 1, 10_000_000, "clients", |c| wide(c.client_cache_capacity)),
    bound("signing_key_reload_seconds", 1, DAY, "seconds", |c| c.signing_key_reload_seconds),
    bound("max_assertion_lifetime", 1, 3_600, "seconds", |c| c.max_assertion_lifetime.into()),
    bound("max_client_assertion_lifetime", 1, 86_400, "seconds", |c| c.max_client_assertion_lifetime.into()),
    bound("client_secret_lifetime_seconds", 0, 36_500 * DAY, "seconds", |c| c.client_secret_lifetime_seconds),
    bound("secret_expiry_warning_seconds", 0, 365 * DAY, "seconds", |c| c.secret_expiry_warning_seconds),
    bound("secret_expiry_check_seconds", 1, DAY, "seconds", |c| c.secret_expiry_check_seconds),
    bound("clock_skew", 0, 300, "seconds", |c| c.clock_skew.into()),
    bound("max_credentials_per_client", 1, 100, "credentials", |c| wide(c.max_credentials_per_client)),
    bound("replay_purge_seconds", 1, DAY, "seconds", |c| c.replay_purge_seconds),
    bound("jwks_connect_timeout_ms", 1, 60_000, "ms", |c| c.jwks_connect_timeout_ms),
    bound("jwks_timeout_ms", 1, 300_000, "ms", |c| c.jwks_timeout_ms),
    bound("jwks_max_bytes", 1, 16 * 1024 * 1024, "bytes", |c| wide(c.jwks_max_bytes)),
    bound("jwks_max_keys", 1, 1_000, "keys", |c| wide(c.jwks_max_keys)),
    bound("jwks_min_ttl", 0, 7 * DAY, "seconds", |c| c.jwks_min_ttl.into()),
    bound("jwks_max_ttl", 0, 7 * DAY, "seconds", |c| c.jwks_max_ttl.into()),
    bound("jwks_default_ttl", 0, 7 * DAY, "seconds", |c| c.jwks_default_ttl.into()),
    bound("jwks_refetch_cooldown", 0, 3_600, "seconds", |c| c.jwks_refetch_cooldown.into()),
    bound("jwks_max_staleness", 0, 30 * DAY, "seconds", |c| c.jwks_max_staleness.into()),
    // Multi-node caches
    bound("database_tcp_keepalive_seconds", 1, 7_200, "seconds", |c| c.database_tcp_keepalive_seconds),
    bound("pg_listen_heartbeat_seconds", 1, DAY, "seconds", |c| c.pg_listen_heartbeat_seconds),
    bound("cache_max_age_seconds", 1, DAY, "seconds", |c| c.cache_max_age_seconds),
    // Connections and TLS
    bound("header_read_timeout_ms", 1, 600_000, "ms", |c| c.header_read_timeout_ms),
    bound("body_read_timeout_ms", 1, 600_000, "ms", |c| c.body_read_timeout_ms),
    bound("idle_timeout_ms", 1, DAY * 1_000, "ms", |c| c.idle_timeout_ms),
    bound("max_connections", 1, 1_000_000, "connections", |c| wide(c.max_connections)),
    bound("tls_reload_seconds", 1, DAY, "seconds", |c| c.tls_reload_seconds),
    // Rate limits on failures
    bound("auth_failure_burst", 1, 1_000_000, "failures", |c| c.auth_failure_burst.into()),
    bound("auth_failure_per_minute", 1, 1_000_000, "failures", |c| c.auth_failure_per_minute.into()),
    bound("auth_failure_max_addresses", 1, 10_000_000, "addresses", |c| wide(c.auth_failure_max_addresses)),
    // Audit and logs
    bound("admin_reject_audit_per_minute", 0, 10_000, "rows", |c| c.admin_reject_audit_per_minute.into()),
];

impl Config {
    /// Loads defaults ← file ← environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let known: Vec<String> = serde_json::to_value(Config::default())
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::FileNotFound(path.display().to_string()));
            }
            fig = fig.merge(Toml::file(path));
        }
        // Only our own keys: KEYWARD_TEST_DATABASE_URL and friends are not configuration.
        let env = Env::prefixed("KEYWARD_")
            .filter(move |k| known.iter().any(|n| k.as_str().eq_ignore_ascii_case(n)));
        let config: Config = fig
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))?;
        // Refused here, not at first use: `keyward serve` and the admin commands alike stop
        // with one line naming the key instead of failing later in time arithmetic.
        config.validate()?;
        Ok(config)
    }

    fn check_ranges(&self) -> Result<(), ConfigError> {
        for b in &BOUNDS {
            let value = (b.value)(self);
            if !(b.min..=b.max).contains(&value) {
                return Err(ConfigError::OutOfRange {
                    key: b.key,
                    value,
                    min: b.min,
                    max: b.max,
                    unit: b.unit,
                });
            }
        }
        Ok(())
    }

    /// Where the metrics listener binds, or `None` when it is off (`metrics_listen` empty or
    /// `none`).
    pub(crate) fn metrics_address(&self) -> Option<&str> {
        let value = self.metrics_listen.as_str();
        (!value.is_empty() && !value.eq_ignore_ascii_case("none")).then_some(value)
    }

    pub(crate) fn fetch_config(&self) -> keyward_jwks_fetch::FetchConfig {
        let secs = |s: u32| time::Duration::seconds(i64::from(s));
        keyward_jwks_fetch::FetchConfig {
            allow_http: self.jwks_allow_http,
            allow_private_networks: self.jwks_allow_private_networks,
            connect_timeout: std::time::Duration::from_millis(self.jwks_connect_timeout_ms),
            total_timeout: std::time::Duration::from_millis(self.jwks_timeout_ms),
            max_body_bytes: self.jwks_max_bytes,
            max_keys: self.jwks_max_keys,
            min_ttl: secs(self.jwks_min_ttl),
            max_ttl: secs(self.jwks_max_ttl.max(self.jwks_min_ttl)),
            default_ttl: secs(self.jwks_default_ttl),
            refetch_cooldown: secs(self.jwks_refetch_cooldown),
            max_staleness: secs(self.jwks_max_staleness),
        }
    }

    /// `trusted_proxies` as networks; a bare address is a network of one.
    pub(crate) fn trusted_proxy_nets(&self) -> Result<Vec<IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|e| entry.parse::<std::net::IpAddr>().map(IpNet::from).map_err(|_| e))
                    .map_err(|source| ConfigError::TrustedProxy {
                        entry: entry.to_owned(),
                        source,
                    })
            })
            .collect()
    }

    /// Refuses settings out of range or inconsistent with each other; [`Config::load`] calls
    /// it, and so does every start, for a config built in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_ranges()?;
        self.trusted_proxy_nets()?;
        if self.default_access_token_lifetime == 0
            || self.default_access_token_lifetime > self.max_access_token_lifetime
        {
            return Err(ConfigError::Invalid(
                "default_access_token_lifetime must be between 1 and max_access_token_lifetime".into(),
            ));
        }
        if !keyward_jose::SigningKey::SUPPORTED.contains(&self.token_signing_alg) {
            return Err(ConfigError::Invalid(format!(
                "token_signing_alg {} is not supported; use RS256, PS256, ES256 or EdDSA",
                self.token_signing_alg
            )));
        }
        if self.max_assertion_lifetime == 0 || self.assertion_signing_algs.is_empty() {
            return Err(ConfigError::Invalid(
                "max_assertion_lifetime must be positive and assertion_signing_algs not empty".into(),
            ));
        }
        let shared =
            self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://");
        if shared && (self.pepper.is_none() || self.key_encryption_key.is_none()) {
            // Key files in data_dir are per host: nodes that made their own would reject each
            // other's secrets and signing keys.
            return Err(ConfigError::Invalid(
                "with PostgreSQL, set pepper and key_encryption_key (KEYWARD_PEPPER, KEYWARD_KEY_ENCRYPTION_KEY), the same on every node"
                    .into(),
            ));
        }
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) | (None, Some(_)) => {
                let missing = if self.tls_cert_file.is_none() {
                    "tls_cert_file"
                } else {
                    "tls_key_file"
                };
                return Err(ConfigError::Invalid(format!(
                    "tls_cert_file and tls_key_file go together: set both or neither ({missing} is not set)"
                )));
            }
            _ => {}
        }
        if self.admin_secret.as_ref().is_some_and(|s| s.len() < 16) {
            return Err(ConfigError::Invalid(
                "admin_secret must be at least 16 characters".into(),
            ));
        }
        if self
            .admin_password
            .as_ref()
            .is_some_and(|p| !keyward_admin::PASSWORD_BYTES.contains(&p.len()))
        {
            return Err(ConfigError::Invalid(
                "admin_password must be 8 to 1024 bytes long".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_within_every_range() {
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn every_bounded_setting_is_a_config_key() {
        let keys = serde_json::to_value(Config::default()).unwrap();
        for b in &BOUNDS {
            assert!(keys.get(b.key).is_some(), "{}", b.key);
        }
    }

    #[test]
    fn out_of_range_names_the_key_its_maximum_and_variable() {
        let config = Config {
            max_secret_grace_period: u64::MAX,
            ..Config::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert_eq!(
            message,
            "configuration: max_secret_grace_period is 18446744073709551615 seconds; it must be \
             between 0 and 31536000 seconds (set in keyward.toml or as KEYWARD_MAX_SECRET_GRACE_PERIOD)"
        );
        assert!(!message.contains('\n'));
    }

    #[test]
    fn trusted_proxies_are_a_list_or_comma_separated() {
        let from = |toml: &str| -> Config {
            Figment::from(Serialized::defaults(Config::default()))
                .merge(Toml::string(toml))
                .extract()
                .unwrap()
        };
        let list = from(r#"trusted_proxies = ["10.0.0.0/8", "2001:db8::1"]"#);
        let commas = from(r#"trusted_proxies = "10.0.0.0/8, 2001:db8::1""#);
        assert_eq!(list.trusted_proxies, commas.trusted_proxies);
        assert_eq!(list.trusted_proxy_nets().unwrap().len(), 2);
        assert_eq!(from("").trusted_proxy_header, ProxyHeader::XForwardedFor);
        let forwarded = from(r#"trusted_proxy_header = "forwarded""#);
        assert_eq!(forwarded.trusted_proxy_header, ProxyHeader::Forwarded);
    }

    #[test]
    fn a_trusted_proxy_that_is_no_address_names_the_key_and_entry() {
        let config = Config {
            trusted_proxies: vec!["10.0.0.0/8".into(), "10.0.0.0/33".into()],
            ..Config::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert!(
            message.starts_with("configuration: trusted_proxies entry \"10.0.0.0/33\""),
            "{message}"
        );
    }

    #[test]
    fn each_bound_is_enforced_at_both_ends() {
        let over = Config {
            jwks_max_staleness: u32::MAX,
            ..Config::default()
        };
        assert!(matches!(
            over.validate(),
            Err(ConfigError::OutOfRange {
                key: "jwks_max_staleness",
                ..
            })
        ));
        let zero = Config {
            jwks_timeout_ms: 0,
            ..Config::default()
        };
        assert!(matches!(
            zero.validate(),
            Err(ConfigError::OutOfRange {
                key: "jwks_timeout_ms",
                ..
            })
        ));
    }
}
