//! The export document's format, and its translation to and from what storage holds. Secret
//! hashes, encrypted secrets and encrypted keys are carried as base64, never opened.

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_server::Keyring;
use keyward_storage::{SigningKeyRecord, UserRecord};
use keyward_types::{Client, ClientEntry, ClientSecret, Credential, SecretHash, StoredSecret};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::TransferError;

pub(super) const FORMAT: &str = "keyward-export";
pub(super) const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
pub(super) struct Document {
    pub(super) format: String,
    pub(super) version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub(super) exported_at: OffsetDateTime,
    /// HMAC of a fixed text under the pepper: equal only when the pepper is.
    pub(super) pepper_check: String,
    pub(super) clients: Vec<ExportedClient>,
    pub(super) signing_keys: Vec<ExportedKey>,
    /// Console sign-in users; absent in exports made before users were exported.
    #[serde(default)]
    pub(super) users: Vec<ExportedUser>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ExportedClient {
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
    /// The secret's own lifetime; absent in exports made before secrets could expire.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    not_after: Option<OffsetDateTime>,
    encrypted: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ExportedKey {
    kid: String,
    alg: String,
    encrypted_key: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    retire_at: Option<OffsetDateTime>,
}

/// A console sign-in user, every field of [`UserRecord`]. The password hash is carried as it
/// is: an argon2id PHC string (salted, memory-hard) is of no use without the password, as a
/// secret hash is of none without the secret, and it keeps the same password working on the
/// target. Like the rest of the document it is still material for an offline guesser, so the
/// document is kept as the database is.
#[derive(Serialize, Deserialize)]
pub(super) struct ExportedUser {
    username: String,
    password_hash: String,
    name: Option<String>,
    email: Option<String>,
    roles: Vec<String>,
    enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

pub(super) fn pepper_check(keyring: &Keyring) -> String {
    let probe = ClientSecret::from_presented("keyward export pepper check".into());
    STANDARD.encode(SecretHash::compute(keyring.pepper(), &probe).as_bytes())
}

impl From<ClientEntry> for ExportedClient {
    fn from(entry: ClientEntry) -> Self {
        let secrets = entry.secrets.into_iter().map(|s| ExportedSecret {
            id: s.id,
            hash: STANDARD.encode(s.hash.as_bytes()),
            created_at: s.created_at,
            expires_at: s.expires_at,
            not_after: s.not_after,
            encrypted: s.encrypted.map(|e| STANDARD.encode(e)),
        });
        Self {
            client: entry.client,
            secrets: secrets.collect(),
            credentials: entry.credentials,
        }
    }
}

impl From<SigningKeyRecord> for ExportedKey {
    fn from(k: SigningKeyRecord) -> Self {
        Self {
            kid: k.kid,
            alg: k.alg,
            encrypted_key: STANDARD.encode(k.encrypted_key),
            created_at: k.created_at,
            retire_at: k.retire_at,
        }
    }
}

impl From<UserRecord> for ExportedUser {
    fn from(u: UserRecord) -> Self {
        Self {
            username: u.username,
            password_hash: u.password_hash,
            name: u.name,
            email: u.email,
            roles: u.roles,
            enabled: u.enabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

impl From<ExportedUser> for UserRecord {
    fn from(u: ExportedUser) -> Self {
        Self {
            username: u.username,
            password_hash: u.password_hash,
            name: u.name,
            email: u.email,
            roles: u.roles,
            enabled: u.enabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, TransferError> {
    STANDARD
        .decode(text)
        .map_err(|source| TransferError::NotBase64 { field, source })
}

impl TryFrom<ExportedClient> for ClientEntry {
    type Error = TransferError;

    fn try_from(c: ExportedClient) -> Result<Self, TransferError> {
        let secrets = c
            .secrets
            .into_iter()
            .map(|s| {
                Ok(StoredSecret {
                    hash: SecretHash::from_bytes(&decode("secret hash", &s.hash)?)
                        .ok_or(TransferError::BadSecretHash)?,
                    encrypted: s
                        .encrypted
                        .as_deref()
                        .map(|e| decode("encrypted secret", e))
                        .transpose()?,
                    id: s.id,
                    created_at: s.created_at,
                    expires_at: s.expires_at,
                    not_after: s.not_after,
                })
            })
            .collect::<Result<Vec<_>, TransferError>>()?;
        Ok(ClientEntry {
            client: c.client,
            secrets,
            credentials: c.credentials,
        })
    }
}

impl TryFrom<ExportedKey> for SigningKeyRecord {
    type Error = TransferError;

    fn try_from(k: ExportedKey) -> Result<Self, TransferError> {
        Ok(SigningKeyRecord {
            encrypted_key: decode("encrypted signing key", &k.encrypted_key)?,
            kid: k.kid,
            alg: k.alg,
            created_at: k.created_at,
            retire_at: k.retire_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_exported_before_users_still_reads() {
        let old = r#"{"format": "keyward-export", "version": 1,
            "exported_at": "2024-01-01T00:00:00Z", "pepper_check": "x",
            "clients": [], "signing_keys": []}"#;
        let doc: Document = serde_json::from_str(old).unwrap();
        assert_eq!((doc.version, doc.users.len()), (VERSION, 0));
    }
}
