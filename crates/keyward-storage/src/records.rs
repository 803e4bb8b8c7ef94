use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A server signing key as stored: the private key only ever encrypted (the server holds the
/// key-encryption key; the store never sees clear key material).
#[derive(Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: String,
    pub encrypted_key: Vec<u8>,
    pub created_at: OffsetDateTime,
    /// When set, the key no longer signs, and is unpublished after this instant.
    pub retire_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retire_at", &self.retire_at)
            .finish_non_exhaustive()
    }
}

/// One admin action to record. `detail` must never hold a secret or private key; callers build it
/// from ids, names and thumbprints only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: serde_json::Value,
}

/// A stored audit event with its position in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// What another node must drop from its caches (see [`crate::ChangeFeed`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A client's metadata, secrets or credentials changed, or it was deleted.
    Client { client_id: String },
    /// A JWKS URL cache was cleared: one client's, or every client's.
    JwksCache { client_id: Option<String> },
    /// A server signing key was added or retired.
    SigningKeys,
    /// Changes may have been missed: drop every cache.
    All,
}
