//! Server-side key generation (DESIGN.md "Client keys": generate): a key pair and self-signed
//! certificate returned once as a PKCS#12 or JKS keystore; only the public key is kept.
//!
//! Generation runs through [`crate::key_work`] (blocking pool, a few at a time, panics caught):
//! RSA-4096 takes over a second of CPU.

use keyward_keys::{KeyType, KeystoreFormat, KeystoreSpec, Password};
use keyward_types::Credential;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::{
    clients::parse_id,
    import::{audited_keys, parse_alg, to_credential},
    Action, Actor, AdminError, AdminOps,
};

/// What key to generate and how to package it.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384 or Ed25519.
    pub key_type: String,
    /// `pkcs12` or `jks`.
    pub format: String,
    pub alias: String,
    /// At least 8 characters.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub store_password: Password,
    /// JKS only (PKCS#12 uses the store password); at least 8 characters.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub key_password: Option<Password>,
    /// Default 365, at most 3650.
    pub validity_days: Option<u32>,
    pub name: Option<String>,
    /// Default by key type; must fit the key.
    pub alg: Option<String>,
}

/// The new credential and its keystore, which holds the private key: shown once, never stored.
pub struct GeneratedCredential {
    pub credential: Credential,
    /// A file name for the keystore, safe whatever the client id is.
    pub filename: String,
    pub keystore: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for GeneratedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCredential")
            .field("credential", &self.credential.id)
            .field("filename", &self.filename)
            .field("keystore", &"[redacted]")
            .finish()
    }
}

impl AdminOps {
    /// Generates a key pair for the client, adds its public key to the credential list and
    /// returns the keystore.
    pub async fn generate_credential(
        &self,
        actor: &Actor,
        raw_id: &str,
        request: GenerateRequest,
    ) -> Result<GeneratedCredential, AdminError> {
        let change = self.add_generated(actor, raw_id, request);
        self.audited(actor, Action::CredentialCreate, raw_id, change)
            .await
    }

    async fn add_generated(
        &self,
        actor: &Actor,
        raw_id: &str,
        req: GenerateRequest,
    ) -> Result<GeneratedCredential, AdminError> {
        let id = parse_id(raw_id)?;
        let entry = self.key_client(&id).await?;
        let key_type: KeyType = req.key_type.parse()?;
        let format: KeystoreFormat = req.format.parse()?;
        let alg = parse_alg(req.alg.as_deref())?;
        let now = self.clock.now();
        let common_name = id.as_str().to_owned();
        let (alias, store_password, key_password) = (req.alias, req.store_password, req.key_password);
        let validity_days = req.validity_days.unwrap_or(365);
        let generated = self
            .key_work
            .run("generate", move |_| {
                keyward_keys::generate(&KeystoreSpec {
                    key_type,
                    format,
                    alias: &alias,
                    store_password: &store_password,
                    key_password: key_password.as_ref(),
                    common_name: &common_name,
                    validity_days,
                    now,
                })
            })
            .await
            .map_err(|stopped| stopped.for_generation())??;
        let credential = to_credential(generated.key.clone(), &entry, alg, req.name, None, now)?;
        let detail = json!({
            "source": "generate",
            "key_type": key_type.as_str(),
            "format": format.extension(),
            "credentials": audited_keys(std::slice::from_ref(&credential)),
        });
        let audit = self.event(actor, Action::CredentialCreate, id.as_str(), detail);
        self.store_credentials(&id, std::slice::from_ref(&credential), &audit)
            .await?;
        Ok(GeneratedCredential {
            filename: keystore_filename(id.as_str(), format.extension()),
            credential,
            keystore: generated.keystore,
        })
    }
}

/// Longest stem of a keystore file name, far below any file system's limit.
const MAX_FILENAME_STEM: usize = 100;

/// The download's file name, from the client id: a recipe that writes `open(filename, "wb")`
/// must not be able to leave the directory or hide the file, whatever id was stored. Only
/// `A-Z a-z 0-9 . _ -` are kept (anything else becomes `_`), a dot right after a dot becomes
/// `_` (so `..` never appears) and so does a leading dot.
fn keystore_filename(client_id: &str, extension: &str) -> String {
    let mut stem = String::with_capacity(client_id.len().min(MAX_FILENAME_STEM));
    let mut previous = None;
    for c in client_id.chars().take(MAX_FILENAME_STEM) {
        let safe = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        stem.push(match c {
            '.' if previous.is_none() || previous == Some('.') => '_',
            _ if !safe => '_',
            _ => c,
        });
        previous = Some(c);
    }
    // The extension's dot follows: a stem ending in a dot would make `..`.
    if stem.ends_with('.') {
        stem.pop();
        stem.push('_');
    }
    if stem.is_empty() {
        stem.push_str("keystore");
    }
    format!("{stem}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::keystore_filename;

    #[test]
    fn ordinary_ids_keep_their_name() {
        assert_eq!(keystore_filename("ledger", "p12"), "ledger.p12");
        assert_eq!(keystore_filename("svc-1.prod_eu", "jks"), "svc-1.prod_eu.jks");
    }

    #[test]
    fn path_and_hidden_file_characters_are_replaced() {
        for (id, expected) in [
            ("../etc/passwd", "___etc_passwd.p12"),
            ("..", "__.p12"),
            (".hidden", "_hidden.p12"),
            ("a..b", "a._b.p12"),
            ("a/b\\c:d", "a_b_c_d.p12"),
            ("~user", "_user.p12"),
            ("x...", "x.__.p12"),
            ("x.", "x_.p12"),
            ("é", "_.p12"),
        ] {
            let name = keystore_filename(id, "p12");
            assert_eq!(name, expected, "{id:?}");
            assert!(!name.contains(".."), "{name}");
            assert!(!name.starts_with('.'), "{name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                "{name}"
            );
        }
    }

    #[test]
    fn long_ids_are_cut() {
        let name = keystore_filename(&"a".repeat(255), "p12");
        assert_eq!(name.len(), 100 + ".p12".len());
    }
}
