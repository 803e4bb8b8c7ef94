//! Admin operations, once (DESIGN.md "Layout"): register, change and delete clients, rotate
//! secrets, import, generate, change and delete credentials, clear the JWKS URL key cache, list
//! and rotate the server's signing keys, read the audit log, create, change and delete users and
//! check their passwords. Each operation validates its input, writes the change together with its audit
//! event, records a refusal in the audit log, and drops what it changed from this node's
//! [`Directory`] (other nodes hear of it through the storage's change feed, [`AdminOps::apply_change`]).
//!
//! The JSON admin API, the console and the admin CLI are faces over these functions: nothing
//! here knows HTTP.
#![forbid(unsafe_code)]

mod audit;
mod audit_query;
mod clients;
mod credentials;
mod directory;
mod error;
mod feed;
mod generate;
mod import;
mod inline_jwks;
pub mod json;
mod key_work;
mod keys_cache;
mod metadata;
mod password;
mod redirect_uris;
mod secrets;
mod signing_keys;
mod switch;
#[cfg(test)]
mod tests;
mod user_rules;
#[cfg(test)]
mod user_tests;
mod users;

use std::sync::Arc;

use keyward_jwks_fetch::{FetchConfig, JwksCache};
use keyward_storage::Storage;
use keyward_types::{AuthMethod, Clock, SigningAlg};

pub use audit::{Action, AuditPage, RejectedToken};
pub use audit_query::AuditFilter;
pub use clients::{ClientPage, ClientPatch, CreatedClient, RotateRequest, RotatedSecret, UpdatedClient};
pub use credentials::CredentialPatch;
pub use directory::Directory;
pub use error::{AdminError, BoxError, FieldProblem, KeyConflict, KeyRule, BUSY_MESSAGE};
pub use generate::{GenerateRequest, GeneratedCredential};
pub use import::CredentialImport;
pub use key_work::KeyWork;
pub use keys_cache::{CachedJwks, ClearRequest};
pub use metadata::{rfc3339, ClientMetadata};
pub use password::{hash_password, verify_hash, Password, PASSWORD_BYTES};
pub use secrets::{client_secret_expires_at, SecretKeys};
pub use signing_keys::{
    check_token_signing_alg, SigningKeyInfo, SigningKeyState, SigningKeyWriter, SigningKeysReload,
};
pub use users::{first_admin, NewUser, User, UserPage, UserPatch, ADMIN_ROLE, ROLES};

/// The scope an admin token carries.
pub const ADMIN_SCOPE: &str = "keyward:admin";
/// The admin client created at first start; it cannot be deleted, disabled or lose its scope.
pub const BOOTSTRAP_CLIENT: &str = "keyward-admin";

/// Who asks for an operation: the client id of an admin token, or the console's or CLI's user.
/// Recorded in every audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The server's rules that admin input is checked against.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The client authentication methods this server runs; a client may register only these.
    pub auth_methods: Vec<AuthMethod>,
    pub assertion_signing_algs: Vec<SigningAlg>,
    pub default_access_token_lifetime: u32,
    pub max_access_token_lifetime: u32,
    pub max_secret_grace_period: u64,
    /// Lifetime of a generated secret (s) for clients that set none; 0 never expires.
    pub default_client_secret_lifetime: u64,
    /// Largest per-client `max_assertion_lifetime` (s).
    pub max_client_assertion_lifetime: u32,
    pub max_credentials_per_client: usize,
    /// What a `jwks_uri` must satisfy (scheme, addresses).
    pub fetch: FetchConfig,
    /// The algorithm of a new signing key when a rotation names none.
    pub token_signing_alg: SigningAlg,
}

/// What the operations work on; one per node.
pub struct AdminOps {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretKeys>,
    directory: Arc<Directory>,
    remote_keys: Arc<JwksCache>,
    key_work: KeyWork,
    limits: Limits,
    /// Set by the server ([`AdminOps::with_signing_keys_reload`]).
    signing_keys_reload: Option<Arc<dyn SigningKeysReload>>,
}

/// The parts [`AdminOps`] is built from.
pub struct Parts {
    pub storage: Arc<dyn Storage>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<dyn SecretKeys>,
    /// The token path reads clients through the same directory.
    pub directory: Arc<Directory>,
    /// The JWKS URL key cache the `private_key_jwt` method reads.
    pub remote_keys: Arc<JwksCache>,
    pub key_work: KeyWork,
    pub limits: Limits,
}

impl AdminOps {
    pub fn new(parts: Parts) -> Self {
        let Parts {
            storage,
            clock,
            secrets,
            directory,
            remote_keys,
            key_work,
            limits,
        } = parts;
        Self {
            storage,
            clock,
            secrets,
            directory,
            remote_keys,
            key_work,
            limits,
            signing_keys_reload: None,
        }
    }

    /// The rules input is checked against: the console offers what they allow.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

/// Page sizes a list accepts.
const PAGE_SIZES: std::ops::RangeInclusive<u32> = 1..=500;
/// Page size when none is asked for.
const DEFAULT_PAGE_SIZE: u32 = 100;

fn page_size(limit: Option<u32>) -> Result<u32, AdminError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if PAGE_SIZES.contains(&limit) {
        Ok(limit)
    } else {
        Err(AdminError::InvalidRequest(
            "limit must be between 1 and 500".into(),
        ))
    }
}

/// A random id for a new record: a credential, a stored secret, a client registered without one.
fn random_id() -> Result<String, AdminError> {
    Ok(keyward_types::random::uuid()
        .map_err(|_| AdminError::Rng)?
        .to_string())
}
