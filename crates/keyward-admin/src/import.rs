//! Adding keys to a client's credential list: import (PEM, DER, JWK, JWKS, PKCS#12, JKS), and
//! what import and generation ([`crate::generate`]) share: the client check, the credential
//! rules and the atomic store (DESIGN.md "Client keys").
//!
//! Parsing and key generation run through [`crate::key_work`]: on the blocking pool, a few at a
//! time, cancelled when the caller goes away, and with a dependency's panic caught there.

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_keys::{Format, ImportOptions, ImportedKey, KeyError, Password, MAX_INPUT_BYTES};
use keyward_storage::{AuditEvent, StorageError};
use keyward_types::{AuthMethod, ClientEntry, ClientId, Credential, SigningAlg};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::{
    clients::parse_id, credentials::future_time, metadata::check_name, rfc3339, Action, Actor, AdminError,
    AdminOps, KeyConflict, KeyRule,
};

/// Key material to add to a client's credential list.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ImportRequest))]
#[serde(deny_unknown_fields)]
pub struct CredentialImport {
    pub name: Option<String>,
    /// `pem`, `der`, `jwk`, `jwks`, `pkcs12` or `jks`.
    pub format: String,
    /// Text for pem/jwk/jwks; standard base64 for der/pkcs12/jks. At most 1 MiB decoded.
    pub data: String,
    /// Store password (pkcs12, jks).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub password: Option<Password>,
    /// Key password (jks; defaults to the store password).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub key_password: Option<Password>,
    /// Keystore entry; required when the keystore holds several.
    pub alias: Option<String>,
    /// Default: the JWK's `kid`, else the RFC 7638 thumbprint. Single-key imports only.
    pub kid: Option<String>,
    /// Default: the JWK's `alg`, else by key type (RS256, ES256/ES384, EdDSA).
    pub alg: Option<String>,
    /// RFC 3339, in the future. Default: the certificate's notAfter, if any.
    pub expires_at: Option<String>,
}

impl AdminOps {
    /// Reads the keys in `import` and adds them to the client's credential list, all or none.
    pub async fn import_credentials(
        &self,
        actor: &Actor,
        raw_id: &str,
        import: CredentialImport,
    ) -> Result<Vec<Credential>, AdminError> {
        let change = self.add_imported(actor, raw_id, import);
        self.audited(actor, Action::CredentialCreate, raw_id, change)
            .await
    }

    async fn add_imported(
        &self,
        actor: &Actor,
        raw_id: &str,
        req: CredentialImport,
    ) -> Result<Vec<Credential>, AdminError> {
        let id = parse_id(raw_id)?;
        let entry = self.key_client(&id).await?;
        let format: Format = req.format.parse()?;
        let data = decode_data(format, req.data)?;
        let options = (req.password, req.key_password, req.alias);
        let keys = self
            .key_work
            .run("import", move |work| {
                let (password, key_password, alias) = &options;
                let options = ImportOptions {
                    password: password.as_ref(),
                    key_password: key_password.as_ref(),
                    alias: alias.as_deref(),
                };
                keyward_keys::import_within(format, &data, options, work)
            })
            .await
            .map_err(|stopped| stopped.for_import())??;
        if req.kid.is_some() && keys.len() != 1 {
            return Err(AdminError::field("kid", "kid can only be given for a single key"));
        }
        let now = self.clock.now();
        let expires_at = req
            .expires_at
            .as_deref()
            .map(|t| future_time(t, now))
            .transpose()?;
        let alg = parse_alg(req.alg.as_deref())?;
        let credentials = keys
            .into_iter()
            .map(|mut key| {
                if let Some(kid) = &req.kid {
                    key.jwk.kid = Some(kid.clone());
                }
                to_credential(key, &entry, alg, req.name.clone(), expires_at, now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let detail = json!({
            "source": "import",
            "format": format.as_str(),
            "credentials": audited_keys(&credentials),
        });
        let audit = self.event(actor, Action::CredentialCreate, id.as_str(), detail);
        self.store_credentials(&id, &credentials, &audit).await?;
        Ok(credentials)
    }

    /// The client, if it is one that holds keys and has room for one more. The room is checked
    /// here, before any key derivation or generation, as a cheap refusal; the store checks again
    /// atomically.
    pub(crate) async fn key_client(&self, id: &ClientId) -> Result<ClientEntry, AdminError> {
        let entry = self.load(id).await?;
        if entry.client.token_endpoint_auth_method != AuthMethod::PrivateKeyJwt {
            return Err(KeyRule::NotAKeyClient.into());
        }
        if entry.client.jwks_uri.is_some() {
            return Err(KeyRule::JwksUriClient.into());
        }
        let limit = self.limits.max_credentials_per_client;
        if entry.credentials.len() >= limit {
            return Err(KeyConflict::LimitReached(limit).into());
        }
        Ok(entry)
    }

    /// Adds `credentials` with their audit event in one write, then drops the cached client.
    pub(crate) async fn store_credentials(
        &self,
        id: &ClientId,
        credentials: &[Credential],
        audit: &AuditEvent,
    ) -> Result<(), AdminError> {
        let limit = self.limits.max_credentials_per_client;
        self.storage
            .add_credentials(id, credentials, limit, audit)
            .await
            .map_err(|e| match e {
                StorageError::LimitReached { limit } => KeyConflict::LimitReached(limit).into(),
                StorageError::Conflict(_) => KeyConflict::Duplicate.into(),
                StorageError::NotFound => AdminError::NotFound(format!("no client '{id}'").into()),
                other => other.into(),
            })?;
        self.directory.invalidate(id);
        Ok(())
    }
}

fn decode_data(format: Format, data: String) -> Result<Vec<u8>, AdminError> {
    let too_large = || {
        AdminError::Key(KeyError::TooLarge {
            limit: MAX_INPUT_BYTES,
        })
    };
    if !format.is_binary() {
        return if data.len() > MAX_INPUT_BYTES {
            Err(too_large())
        } else {
            Ok(data.into_bytes())
        };
    }
    if data.len() > MAX_INPUT_BYTES / 3 * 4 + 8 {
        return Err(too_large());
    }
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map_err(|_| KeyRule::InvalidBase64(format).into())
}

pub(crate) fn parse_alg(alg: Option<&str>) -> Result<Option<SigningAlg>, AdminError> {
    alg.map(|a| {
        a.parse::<SigningAlg>().map_err(|_| {
            AdminError::field(
                "alg",
                format!("unknown algorithm '{}'", a.chars().take(20).collect::<String>()),
            )
        })
    })
    .transpose()
}

/// An imported or generated key as a credential: the algorithm checked against the key and the
/// client's pinned algorithm, the certificate still valid, the expiry no later than it.
pub(crate) fn to_credential(
    key: ImportedKey,
    entry: &ClientEntry,
    alg: Option<SigningAlg>,
    name: Option<String>,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Credential, AdminError> {
    check_name("name", name.as_deref())?;
    let pinned = entry.client.token_endpoint_auth_signing_alg;
    if let (Some(a), Some(p)) = (alg, pinned) {
        if a != p {
            return Err(KeyRule::AlgMismatch(p).into());
        }
    }
    let id = crate::random_id()?;
    let new_id = |_: &str| id;
    let mut credential =
        keyward_jose::credential_from_jwk(key.jwk, alg.or(pinned), new_id, now).map_err(KeyError::from)?;
    if let Some(cert) = &key.certificate {
        if cert.not_after <= now {
            return Err(KeyRule::CertificateExpired(rfc3339(cert.not_after)).into());
        }
        if expires_at.is_some_and(|e| e > cert.not_after) {
            return Err(KeyRule::ExpiresAfterCertificate.into());
        }
    }
    credential.name = name.or(key.alias);
    credential.expires_at = expires_at.or(key.certificate.as_ref().map(|c| c.not_after));
    credential.certificate = key.certificate;
    Ok(credential)
}

/// What the audit log keeps of added credentials: ids, kids and thumbprints, nothing secret.
pub(crate) fn audited_keys(credentials: &[Credential]) -> serde_json::Value {
    credentials
        .iter()
        .map(|c| json!({"credential_id": c.id, "kid": c.kid, "thumbprint": c.thumbprint}))
        .collect()
}
