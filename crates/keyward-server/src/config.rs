use std::path::Path;

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use keyward_types::SigningAlg;
use serde::{Deserialize, Serialize};
use thiserror::Error;

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
    /// HMAC key for client secret hashes (base64url of 32 bytes); else `data_dir/pepper.key`.
    pub pepper: Option<String>,
    /// AES-256-GCM key for keys stored encrypted (base64url of 32 bytes); else `data_dir/kek.key`.
    pub key_encryption_key: Option<String>,
    pub token_signing_alg: SigningAlg,
    /// Upper bound of `grace_period_seconds` when a secret is rotated.
    pub max_secret_grace_period: u64,
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
    // Metrics
    /// Address of the private listener serving `GET /metrics`; port 0 picks a free port (the
    /// bound address is logged). Empty or `none`: no metrics listener.
    pub metrics_listen: String,
    /// Also serve `GET /metrics` on the main listener, to admin bearer tokens only: the
    /// failure reasons it counts would otherwise tell anyone which client ids exist.
    pub metrics_public: bool,
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
            pepper: None,
            key_encryption_key: None,
            token_signing_alg: SigningAlg::RS256,
            max_secret_grace_period: 7 * 24 * 3600,
            default_access_token_lifetime: 300,
            max_access_token_lifetime: 3600,
            client_cache_capacity: 10_000,
            signing_key_reload_seconds: 5,
            log_format: LogFormat::Text,
            max_assertion_lifetime: 60,
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
            // Metrics
            metrics_listen: "127.0.0.1:9464".into(),
            metrics_public: false,
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
const BOUNDS: [Bound; 20] = [
    bound("database_max_connections", 1, 1_000, "connections", |c| c.database_max_connections.into()),
    bound("database_acquire_timeout_ms", 1, 600_000, "ms", |c| c.database_acquire_timeout_ms),
    bound("max_secret_grace_period", 0, 365 * DAY, "seconds", |c| c.max_secret_grace_period),
    bound("default_access_token_lifetime", 1, DAY, "seconds", |c| c.default_access_token_lifetime.into()),
    bound("max_access_token_lifetime", 1, DAY, "seconds", |c| c.max_access_token_lifetime.into()),
    bound("client_cache_capacity", 1, 10_000_000, "clients", |c| wide(c.client_cache_capacity)),
    bound("signing_key_reload_seconds", 1, DAY, "seconds", |c| c.signing_key_reload_seconds),
    bound("max_assertion_lifetime", 1, 3_600, "seconds", |c| c.max_assertion_lifetime.into()),
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

    /// Refuses settings out of range or inconsistent with each other; [`Config::load`] calls
    /// it, and so does every start, for a config built in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_ranges()?;

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
        if self.admin_secret.as_ref().is_some_and(|s| s.len() < 16) {
            return Err(ConfigError::Invalid(
                "admin_secret must be at least 16 characters".into(),
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
