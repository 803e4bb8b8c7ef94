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
    /// A user changed or was deleted (its sessions may have ended with it).
    User { username: String },
    /// Changes may have been missed: drop every cache.
    All,
}

/// Which audit events to read: every filter that is set must match. Newest first, below
/// `before` (an id from a previous page), at most `limit`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// The event's `target` (the client an admin change is about).
    pub target: Option<String>,
    pub actor: Option<String>,
    pub action: Option<ActionFilter>,
    /// Events at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Events before this instant.
    pub until: Option<OffsetDateTime>,
    pub before: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    /// The newest `limit` events, unfiltered.
    pub fn newest(limit: u32) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }
}

/// An action by its whole name, or every action under a prefix such as `client.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    Exact(String),
    Prefix(String),
}

/// Who writes a signing key, and when: the backend writes the key's audit events with it, in
/// the same transaction, naming exactly the keys that transaction retired and removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyAudit {
    pub at: OffsetDateTime,
    pub actor: String,
}

/// A key a signing-key write retired or removed, as the backend found it in its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchedKey {
    pub kid: String,
    pub alg: String,
}

impl SigningKeyAudit {
    /// The events of one [`crate::SigningKeyStore::add_signing_key`]: `signing_key.create` for
    /// the first key, `signing_key.rotate` for a key that replaces active ones, then one
    /// `signing_key.retire` per replaced key (published until `retire_at`) and one
    /// `signing_key.delete` per key whose publication had ended and that the write removed.
    pub fn events(
        &self,
        key: &SigningKeyRecord,
        retired: &[TouchedKey],
        retire_at: OffsetDateTime,
        deleted: &[TouchedKey],
    ) -> Vec<AuditEvent> {
        let event = |action: &str, kid: &str, detail: serde_json::Value| AuditEvent {
            at: self.at,
            actor: self.actor.clone(),
            action: action.to_owned(),
            target: kid.to_owned(),
            outcome: "success".to_owned(),
            detail,
        };
        let action = if retired.is_empty() {
            "signing_key.create"
        } else {
            "signing_key.rotate"
        };
        let replaces: Vec<&str> = retired.iter().map(|k| k.kid.as_str()).collect();
        let mut events = vec![event(
            action,
            &key.kid,
            serde_json::json!({"kid": key.kid, "alg": key.alg, "replaces": replaces}),
        )];
        let retire_at = retire_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        for k in retired {
            events.push(event(
                "signing_key.retire",
                &k.kid,
                serde_json::json!({"kid": k.kid, "alg": k.alg, "replaced_by": key.kid, "published_until": retire_at}),
            ));
        }
        for k in deleted {
            events.push(event(
                "signing_key.delete",
                &k.kid,
                serde_json::json!({"kid": k.kid, "alg": k.alg}),
            ));
        }
        events
    }
}
