//! `keyward admin export` / `import`: every client (metadata, secret hashes and encrypted copies,
//! credentials) and every signing key (still encrypted) as one JSON document, so a single-node
//! SQLite install can move to PostgreSQL without re-registering clients.
//!
//! Nothing in the document is in the clear, but it is as sensitive as the database: it is only
//! useful with the same pepper and key-encryption key, which it does not contain. It carries a
//! fingerprint of each, so an import into a node configured with different ones is refused
//! before anything is written. Replay entries (minutes-lived) and the audit log stay behind.

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_storage::{AuditEvent, SigningKeyRecord, StorageError};
use keyward_types::{
    Client, ClientEntry, ClientId, ClientSecret, Clock, Credential, SecretHash, StoredSecret,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::{error::StartError, keyring::Keyring, serve::open_configured, Config};

const FORMAT: &str = "keyward-export";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Document {
    format: String,
    version: u32,
    #[serde(with = "time::serde::rfc3339")]
    exported_at: OffsetDateTime,
    /// HMAC of a fixed text under the pepper: equal only when the pepper is.
    pepper_check: String,
    clients: Vec<ExportedClient>,
    signing_keys: Vec<ExportedKey>,
}

#[derive(Serialize, Deserialize)]
struct ExportedClient {
    client: Client,
    secrets: Vec<ExportedSecret>,
    credentials: Vec<Credential>,
}

#[derive(Serialize, Deserialize)]
struct ExportedSecret {
    id: String,
    hash: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    encrypted: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ExportedKey {
    kid: String,
    alg: String,
    encrypted_key: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    retire_at: Option<OffsetDateTime>,
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub clients: usize,
    pub skipped_clients: usize,
    pub signing_keys: usize,
    pub skipped_signing_keys: usize,
}

fn pepper_check(keyring: &Keyring) -> String {
    let probe = ClientSecret::from_presented("keyward export pepper check".into());
    STANDARD.encode(SecretHash::compute(&keyring.pepper, &probe).as_bytes())
}

fn bad(message: impl Into<String>) -> StartError {
    StartError::Storage(message.into())
}

/// The whole database of `config` as an export document (JSON).
pub async fn export(config: &Config, clock: &dyn Clock) -> Result<String, StartError> {
    let storage = open_configured(&config.database_url, config).await?;
    let keyring = Keyring::load(config)?;
    let mut clients = Vec::new();
    let mut after: Option<ClientId> = None;
    loop {
        let page = storage.list_clients(after.as_ref(), 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.client_id.clone());
        for c in &page {
            if let Some(entry) = storage.load_client(&c.client_id).await? {
                clients.push(exported_client(entry));
            }
        }
    }
    let signing_keys = storage
        .signing_keys()
        .await?
        .into_iter()
        .map(|k| ExportedKey {
            kid: k.kid,
            alg: k.alg,
            encrypted_key: STANDARD.encode(k.encrypted_key),
            created_at: k.created_at,
            retire_at: k.retire_at,
        })
        .collect();
    let doc = Document {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: clock.now(),
        pepper_check: pepper_check(&keyring),
        clients,
        signing_keys,
    };
    serde_json::to_string_pretty(&doc).map_err(|e| bad(e.to_string()))
}

fn exported_client(entry: ClientEntry) -> ExportedClient {
    ExportedClient {
        client: entry.client,
        secrets: entry
            .secrets
            .into_iter()
            .map(|s| ExportedSecret {
                id: s.id,
                hash: STANDARD.encode(s.hash.as_bytes()),
                created_at: s.created_at,
                expires_at: s.expires_at,
                encrypted: s.encrypted.map(|e| STANDARD.encode(e)),
            })
            .collect(),
        credentials: entry.credentials,
    }
}

/// Restores an export document into the database of `config`. Everything is decoded and its
/// encrypted parts opened with this node's keys before the first write. A client or key that
/// is already there is a conflict, or skipped with `skip_existing`. Imported active signing keys
/// join as retiring keys when the target already has an active one, so tokens they signed still
/// verify and each node keeps one active key.
pub async fn import(
    config: &Config,
    document: &str,
    skip_existing: bool,
    clock: &dyn Clock,
) -> Result<ImportSummary, StartError> {
    let doc: Document =
        serde_json::from_str(document).map_err(|e| bad(format!("not a keyward export document: {e}")))?;
    if doc.format != FORMAT || doc.version != VERSION {
        return Err(bad(format!(
            "unsupported export format {} version {}",
            doc.format, doc.version
        )));
    }
    let keyring = Keyring::load(config)?;
    if doc.pepper_check != pepper_check(&keyring) {
        return Err(bad(
            "the export was made with a different pepper; configure the exporting node's pepper (see README: several nodes)",
        ));
    }
    let entries = doc
        .clients
        .into_iter()
        .map(decode_client)
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys = doc
        .signing_keys
        .into_iter()
        .map(decode_key)
        .collect::<Result<Vec<_>, _>>()?;
    for k in &keys {
        keyring.open(&k.kid, &k.encrypted_key).map_err(|_| {
            bad(format!(
                "signing key {} cannot be decrypted: the export was made with a different key_encryption_key",
                k.kid
            ))
        })?;
    }
    for e in &entries {
        for s in &e.secrets {
            if let Some(enc) = &s.encrypted {
                keyring.open(&s.id, enc).map_err(|_| {
                    bad(format!(
                        "a secret of client {} cannot be decrypted: different key_encryption_key",
                        e.client.client_id
                    ))
                })?;
            }
        }
    }
    let storage = open_configured(&config.database_url, config).await?;
    let now = clock.now();
    let mut summary = ImportSummary::default();
    for entry in &entries {
        let audit = AuditEvent {
            at: now,
            actor: "keyward admin import".into(),
            action: "client.import".into(),
            target: entry.client.client_id.to_string(),
            outcome: "success".into(),
            detail: json!({"secrets": entry.secrets.len(), "credentials": entry.credentials.len()}),
        };
        match storage.restore_client(entry, &audit).await {
            Ok(()) => summary.clients += 1,
            Err(StorageError::Conflict(_)) if skip_existing => summary.skipped_clients += 1,
            Err(StorageError::Conflict(_)) => {
                return Err(bad(format!(
                    "client {} already exists (imported so far: {}); rerun with --skip-existing to keep it",
                    entry.client.client_id, summary.clients
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let target_has_active = storage
        .signing_keys()
        .await?
        .iter()
        .any(|k| k.retire_at.is_none());
    let publish_for = time::Duration::seconds(i64::from(config.max_access_token_lifetime));
    for key in &mut keys {
        if target_has_active && key.retire_at.is_none() {
            key.retire_at = Some(now + publish_for);
        }
        match storage.restore_signing_key(key).await {
            Ok(()) => summary.signing_keys += 1,
            Err(StorageError::Conflict(_)) => summary.skipped_signing_keys += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(summary)
}

fn decode(field: &str, text: &str) -> Result<Vec<u8>, StartError> {
    STANDARD
        .decode(text)
        .map_err(|_| bad(format!("{field} is not base64")))
}

fn decode_client(c: ExportedClient) -> Result<ClientEntry, StartError> {
    let secrets = c
        .secrets
        .into_iter()
        .map(|s| {
            Ok(StoredSecret {
                hash: SecretHash::from_bytes(&decode("secret hash", &s.hash)?)
                    .ok_or_else(|| bad("a secret hash is not 32 bytes"))?,
                encrypted: s
                    .encrypted
                    .as_deref()
                    .map(|e| decode("encrypted secret", e))
                    .transpose()?,
                id: s.id,
                created_at: s.created_at,
                expires_at: s.expires_at,
            })
        })
        .collect::<Result<Vec<_>, StartError>>()?;
    Ok(ClientEntry {
        client: c.client,
        secrets,
        credentials: c.credentials,
    })
}

fn decode_key(k: ExportedKey) -> Result<SigningKeyRecord, StartError> {
    Ok(SigningKeyRecord {
        encrypted_key: decode("encrypted signing key", &k.encrypted_key)?,
        kid: k.kid,
        alg: k.alg,
        created_at: k.created_at,
        retire_at: k.retire_at,
    })
}
