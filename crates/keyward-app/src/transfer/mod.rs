//! `keyward admin export` / `import`: every client (metadata, secret hashes and encrypted copies,
//! credentials), every signing key (still encrypted) and every console user (its argon2id
//! password hash as stored) as one JSON document, so a single-node SQLite install can move to
//! PostgreSQL without re-registering clients or re-creating users.
//!
//! Nothing in the document is in the clear, but it is as sensitive as the database: it is only
//! useful with the same pepper and key-encryption key, which it does not contain. It carries a
//! fingerprint of each, so an import into a node configured with different ones is refused
//! before anything is written. Replay entries (minutes-lived), sign-in sessions and the audit log stay behind.

mod document;

use keyward_server::{Config, Keyring, KeyringError};
use keyward_storage::{AuditEvent, ClientQuery, SigningKeyRecord, Storage, StorageError, UserRecord};
use keyward_types::{ClientEntry, ClientId, Clock};
use serde_json::json;
use thiserror::Error;
use time::OffsetDateTime;

use self::document::{pepper_check, Document, ExportedClient, ExportedUser, FORMAT, VERSION};
use crate::{open_storage, StartupError};

/// Why an export or import failed: the database or keys could not be opened, or the document
/// is not one this node can restore.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TransferError {
    #[error(transparent)]
    Open(#[from] StartupError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("not a keyward export document: {0}")]
    NotADocument(#[source] serde_json::Error),
    #[error("unsupported export format {format} version {version}")]
    UnsupportedFormat { format: String, version: u32 },
    #[error(
        "the export was made with a different pepper; configure the exporting node's pepper \
         (see README: several nodes)"
    )]
    PepperMismatch,
    #[error(
        "signing key {kid} cannot be decrypted: the export was made with a different \
         key_encryption_key"
    )]
    SigningKeyMismatch {
        kid: String,
        #[source]
        source: KeyringError,
    },
    #[error("a secret of client {client_id} cannot be decrypted: different key_encryption_key")]
    SecretMismatch {
        client_id: ClientId,
        #[source]
        source: KeyringError,
    },
    #[error("{field} is not base64: {source}")]
    NotBase64 {
        field: &'static str,
        #[source]
        source: base64::DecodeError,
    },
    #[error("a secret hash is not 32 bytes")]
    BadSecretHash,
    #[error(
        "client {client_id} already exists (imported so far: {imported}); rerun with \
         --skip-existing to keep it"
    )]
    ClientExists { client_id: ClientId, imported: usize },
    #[error(
        "user {username} already exists (imported so far: {clients} clients, {users} users); \
         rerun with --skip-existing to keep it"
    )]
    UserExists {
        username: String,
        clients: usize,
        users: usize,
    },
    #[error("cannot write the export document: {0}")]
    Render(#[source] serde_json::Error),
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub clients: usize,
    pub skipped_clients: usize,
    pub users: usize,
    pub skipped_users: usize,
    pub signing_keys: usize,
    pub skipped_signing_keys: usize,
}

/// The whole database of `config` as an export document (JSON).
pub async fn export(config: &Config, clock: &dyn Clock) -> Result<String, TransferError> {
    let storage = open_storage(&config.database_url, config).await?;
    let keyring = Keyring::load(config)?;
    let mut clients = Vec::new();
    let mut query = ClientQuery::first(500);
    loop {
        let page = storage.list_clients(&query).await?;
        let Some(last) = page.last() else { break };
        query.after = Some(last.client_id.clone());
        for c in &page {
            if let Some(entry) = storage.load_client(&c.client_id).await? {
                clients.push(ExportedClient::from(entry));
            }
        }
    }
    let signing_keys = storage.signing_keys().await?;
    let mut users = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = storage.list_users(after.as_deref(), 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.username.clone());
        users.extend(page.into_iter().map(ExportedUser::from));
    }
    let doc = Document {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: clock.now(),
        pepper_check: pepper_check(&keyring),
        clients,
        signing_keys: signing_keys.into_iter().map(Into::into).collect(),
        users,
    };
    serde_json::to_string_pretty(&doc).map_err(TransferError::Render)
}

/// Restores an export document into the database of `config`. Everything is decoded and its
/// encrypted parts opened with this node's keys before the first write. A client, user or key
/// that is already there is a conflict, or skipped with `skip_existing`; users are checked
/// before the first write, so a taken username stops the import with nothing written. Imported active signing keys
/// join as retiring keys when the target already has an active one, so tokens they signed still
/// verify and each node keeps one active key.
pub async fn import(
    config: &Config,
    document: &str,
    skip_existing: bool,
    clock: &dyn Clock,
) -> Result<ImportSummary, TransferError> {
    let mut doc: Document = serde_json::from_str(document).map_err(TransferError::NotADocument)?;
    if doc.format != FORMAT || doc.version != VERSION {
        return Err(TransferError::UnsupportedFormat {
            format: doc.format,
            version: doc.version,
        });
    }
    let keyring = Keyring::load(config)?;
    let users: Vec<UserRecord> = doc.users.drain(..).map(UserRecord::from).collect();
    let (entries, mut keys) = open_document(doc, &keyring)?;
    let storage = open_storage(&config.database_url, config).await?;
    if !skip_existing {
        refuse_existing_users(&*storage, &users).await?;
    }
    let now = clock.now();
    let mut summary = ImportSummary::default();
    restore_clients(&*storage, &entries, skip_existing, now, &mut summary).await?;
    restore_users(&*storage, &users, skip_existing, now, &mut summary).await?;
    let publish_for = time::Duration::seconds(i64::from(config.max_access_token_lifetime));
    restore_keys(&*storage, &mut keys, now + publish_for, &mut summary).await?;
    Ok(summary)
}

/// Decodes the document and checks that this node's pepper and key-encryption key are the
/// exporting node's: every encrypted part must open.
fn open_document(
    doc: Document,
    keyring: &Keyring,
) -> Result<(Vec<ClientEntry>, Vec<SigningKeyRecord>), TransferError> {
    if doc.pepper_check != pepper_check(keyring) {
        return Err(TransferError::PepperMismatch);
    }
    let entries = doc
        .clients
        .into_iter()
        .map(ClientEntry::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let keys = doc
        .signing_keys
        .into_iter()
        .map(SigningKeyRecord::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    for k in &keys {
        keyring
            .open(&k.kid, &k.encrypted_key)
            .map_err(|source| TransferError::SigningKeyMismatch {
                kid: k.kid.clone(),
                source,
            })?;
    }
    for e in &entries {
        for s in &e.secrets {
            if let Some(encrypted) = &s.encrypted {
                keyring
                    .open(&s.id, encrypted)
                    .map_err(|source| TransferError::SecretMismatch {
                        client_id: e.client.client_id.clone(),
                        source,
                    })?;
            }
        }
    }
    Ok((entries, keys))
}

async fn restore_clients(
    storage: &dyn Storage,
    entries: &[ClientEntry],
    skip_existing: bool,
    now: OffsetDateTime,
    summary: &mut ImportSummary,
) -> Result<(), TransferError> {
    for entry in entries {
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
                return Err(TransferError::ClientExists {
                    client_id: entry.client.client_id.clone(),
                    imported: summary.clients,
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The first user of `users` that the target already has, as a conflict, before anything is
/// written (a started target has its first user, `admin_username`).
async fn refuse_existing_users(storage: &dyn Storage, users: &[UserRecord]) -> Result<(), TransferError> {
    for user in users {
        if storage.load_user(&user.username).await?.is_some() {
            return Err(TransferError::UserExists {
                username: user.username.clone(),
                clients: 0,
                users: 0,
            });
        }
    }
    Ok(())
}

async fn restore_users(
    storage: &dyn Storage,
    users: &[UserRecord],
    skip_existing: bool,
    now: OffsetDateTime,
    summary: &mut ImportSummary,
) -> Result<(), TransferError> {
    for user in users {
        // The hash stays out of the audit log, as it does for every user change.
        let audit = AuditEvent {
            at: now,
            actor: "keyward admin import".into(),
            action: "user.import".into(),
            target: user.username.clone(),
            outcome: "success".into(),
            detail: json!({"roles": user.roles, "enabled": user.enabled}),
        };
        match storage.insert_user(user, &audit).await {
            Ok(()) => summary.users += 1,
            Err(StorageError::Conflict(_)) if skip_existing => summary.skipped_users += 1,
            Err(StorageError::Conflict(_)) => {
                return Err(TransferError::UserExists {
                    username: user.username.clone(),
                    clients: summary.clients,
                    users: summary.users,
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Restores the keys; active ones retire at `retire_at` when the target has an active key.
async fn restore_keys(
    storage: &dyn Storage,
    keys: &mut [SigningKeyRecord],
    retire_at: OffsetDateTime,
    summary: &mut ImportSummary,
) -> Result<(), TransferError> {
    let target_has_active = storage
        .signing_keys()
        .await?
        .iter()
        .any(|k| k.retire_at.is_none());
    for key in keys {
        if target_has_active && key.retire_at.is_none() {
            key.retire_at = Some(retire_at);
        }
        match storage.restore_signing_key(key).await {
            Ok(()) => summary.signing_keys += 1,
            Err(StorageError::Conflict(_)) => summary.skipped_signing_keys += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
