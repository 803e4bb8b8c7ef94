//! Adding keys to a client's credential list: import (PEM, DER, JWK, JWKS, PKCS#12, JKS), and
//! what import and generation ([`super::credential_generate`]) share: the client check, the
//! request parsing, the credential rules and the atomic store (DESIGN.md "Client keys").
//!
//! Parsing and key generation run through [`super::key_work`]: on the blocking pool, a few at a
//! time, cancelled when the client goes away, and with a dependency's panic caught there.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_keys::{Format, ImportOptions, ImportedKey, KeyError, Password, MAX_INPUT_BYTES};
use keyward_storage::StorageError;
use keyward_types::{AuthMethod, ClientEntry, ClientId, Credential, SigningAlg, Untrusted};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{
    changes::{audit_failure, event, parse_id},
    credentials::{future_time, CredentialView},
    key_work::Stopped,
    Admin,
};
use crate::{error::ApiError, state::AppState};

/// `POST /admin/clients/{client_id}/credentials`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportRequest {
    name: Option<String>,
    /// `pem`, `der`, `jwk`, `jwks`, `pkcs12` or `jks`.
    format: String,
    /// Text for pem/jwk/jwks; standard base64 for der/pkcs12/jks. At most 1 MiB decoded.
    data: String,
    /// Store password (pkcs12, jks).
    #[schema(value_type = Option<String>)]
    password: Option<Password>,
    /// Key password (jks; defaults to the store password).
    #[schema(value_type = Option<String>)]
    key_password: Option<Password>,
    /// Keystore entry; required when the keystore holds several.
    alias: Option<String>,
    /// Default: the JWK's `kid`, else the RFC 7638 thumbprint. Single-key imports only.
    kid: Option<String>,
    /// Default: the JWK's `alg`, else by key type (RS256, ES256/ES384, EdDSA).
    alg: Option<String>,
    /// RFC 3339, in the future. Default: the certificate's notAfter, if any.
    expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Imported {
    credentials: Vec<CredentialView>,
}

#[utoipa::path(post, path = "/admin/clients/{client_id}/credentials", request_body = ImportRequest,
    responses((status = 201, body = Imported), (status = 400), (status = 404), (status = 409),
        (status = 503)),
    security(("bearer" = [])))]
pub(crate) async fn import(
    State(app): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let result = async {
        let id = parse_id(&id)?;
        let req: ImportRequest = parse_body(&body)?;
        let entry = key_client(&app, &id).await?;
        let format: Format = req.format.parse().map_err(invalid_key)?;
        let data = decode_data(format, req.data)?;
        let options = (req.password, req.key_password, req.alias);
        let keys = app
            .key_work
            .run("import", move |work| {
                let (password, key_password, alias) = &options;
                keyward_keys::import_within(
                    format,
                    &data,
                    ImportOptions {
                        password: password.as_ref(),
                        key_password: key_password.as_ref(),
                        alias: alias.as_deref(),
                    },
                    work,
                )
            })
            .await
            .map_err(Stopped::for_import)?
            .map_err(invalid_key)?;
        if req.kid.is_some() && keys.len() != 1 {
            return Err(ApiError::field("kid", "kid can only be given for a single key"));
        }
        let now = app.clock.now();
        let expires_at = req
            .expires_at
            .as_deref()
            .map(|t| future_time(t, now))
            .transpose()?;
        let alg = parse_alg(req.alg.as_deref())?;
        let credentials = keys
            .into_iter()
            .map(|key| {
                let mut key = key;
                if let Some(kid) = &req.kid {
                    key.jwk.kid = Some(kid.clone());
                }
                to_credential(key, &entry, alg, req.name.clone(), expires_at, now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let audit = event(
            &app,
            &admin,
            "credential.create",
            id.as_str(),
            "success",
            json!({
                "source": "import",
                "format": format.as_str(),
                "credentials": audited(&credentials),
            }),
        );
        store(&app, &id, &credentials, &audit).await?;
        Ok::<_, ApiError>(credentials)
    }
    .await;
    match result {
        Ok(c) => Ok((
            StatusCode::CREATED,
            Json(Imported {
                credentials: c.iter().map(CredentialView::from).collect(),
            }),
        )),
        Err(e) => Err(audit_failure(&app, &admin, "credential.create", &id, e).await),
    }
}

/// Request JSON, with errors that never repeat a value: a password or key sent with the wrong
/// JSON type would otherwise be echoed by serde's message.
pub(super) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    super::json_body::refuse_duplicate_members(body)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        match inner
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            Some(f) => ApiError::InvalidRequest(format!("unknown field '{}'", Untrusted(f)).into()),
            None if e.inner().is_syntax() || e.inner().is_eof() => {
                ApiError::InvalidRequest("the body is not valid JSON".into())
            }
            None if inner.starts_with("missing field") => ApiError::InvalidRequest(inner.into()),
            None => {
                ApiError::InvalidRequest(format!("field '{}' has the wrong type", Untrusted(&path)).into())
            }
        }
    })
}

/// The client, if it is one that holds keys and has room for one more. The room is checked
/// here, before any key derivation or generation, as a cheap refusal; the store checks again
/// atomically.
pub(super) async fn key_client(app: &AppState, id: &ClientId) -> Result<ClientEntry, ApiError> {
    let entry = app
        .storage
        .load_client(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no client '{id}'")))?;
    if entry.client.token_endpoint_auth_method != AuthMethod::PrivateKeyJwt {
        return Err(ApiError::InvalidKey {
            reason: "not_a_key_client",
            message: "only private_key_jwt clients have keys; change token_endpoint_auth_method first".into(),
        });
    }
    if entry.client.jwks_uri.is_some() {
        return Err(ApiError::InvalidKey {
            reason: "jwks_uri_client",
            message: "the client publishes its keys at jwks_uri; a client has a jwks_uri or a credential list, not both"
                .into(),
        });
    }
    let limit = app.config.max_credentials_per_client;
    if entry.credentials.len() >= limit {
        return Err(limit_reached(limit));
    }
    Ok(entry)
}

fn decode_data(format: Format, data: String) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        invalid_key(KeyError::TooLarge {
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
    STANDARD.decode(compact).map_err(|_| ApiError::InvalidKey {
        reason: "invalid_base64",
        message: format!("data must be standard base64 for format {format}"),
    })
}

pub(super) fn parse_alg(alg: Option<&str>) -> Result<Option<SigningAlg>, ApiError> {
    alg.map(|a| {
        a.parse::<SigningAlg>().map_err(|_| {
            ApiError::field(
                "alg",
                format!("unknown algorithm '{}'", a.chars().take(20).collect::<String>()),
            )
        })
    })
    .transpose()
}

/// An imported or generated key as a credential: the algorithm checked against the key and the
/// client's pinned algorithm, the certificate still valid, the expiry no later than it.
pub(super) fn to_credential(
    key: ImportedKey,
    entry: &ClientEntry,
    alg: Option<SigningAlg>,
    name: Option<String>,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Credential, ApiError> {
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::field("name", "at most 200 characters"));
    }
    let pinned = entry.client.token_endpoint_auth_signing_alg;
    if let (Some(a), Some(p)) = (alg, pinned) {
        if a != p {
            return Err(ApiError::InvalidKey {
                reason: "alg_mismatch",
                message: format!("the client only accepts {p} assertions"),
            });
        }
    }
    let mut credential =
        keyward_jose::credential_from_jwk(key.jwk, alg.or(pinned), |_| uuid::Uuid::new_v4().to_string(), now)
            .map_err(|e| invalid_key(KeyError::from(e)))?;
    if let Some(cert) = &key.certificate {
        if cert.not_after <= now {
            return Err(ApiError::InvalidKey {
                reason: "certificate_expired",
                message: format!(
                    "the certificate expired at {}",
                    super::metadata::rfc3339(cert.not_after)
                ),
            });
        }
        if expires_at.is_some_and(|e| e > cert.not_after) {
            return Err(ApiError::InvalidKey {
                reason: "expires_after_certificate",
                message: "expires_at is later than the certificate's notAfter".into(),
            });
        }
    }
    credential.name = name.or(key.alias);
    credential.expires_at = expires_at.or(key.certificate.as_ref().map(|c| c.not_after));
    credential.certificate = key.certificate;
    Ok(credential)
}

pub(super) async fn store(
    app: &AppState,
    id: &ClientId,
    credentials: &[Credential],
    audit: &keyward_storage::AuditEvent,
) -> Result<(), ApiError> {
    let limit = app.config.max_credentials_per_client;
    app.storage
        .add_credentials(id, credentials, limit, audit)
        .await
        .map_err(|e| match e {
            StorageError::LimitReached { limit } => limit_reached(limit),
            StorageError::Conflict(_) => ApiError::KeyConflict {
                reason: "duplicate_key",
                message: "this key (same thumbprint or kid) is already in the client's credential list"
                    .into(),
            },
            StorageError::NotFound => ApiError::NotFound(format!("no client '{id}'")),
            other => other.into(),
        })?;
    app.clients.invalidate(id);
    Ok(())
}

/// What the audit log keeps of added credentials: ids, kids and thumbprints, nothing secret.
pub(super) fn audited(credentials: &[Credential]) -> serde_json::Value {
    credentials
        .iter()
        .map(|c| json!({"credential_id": c.id, "kid": c.kid, "thumbprint": c.thumbprint}))
        .collect()
}

fn limit_reached(limit: usize) -> ApiError {
    ApiError::KeyConflict {
        reason: "credential_limit",
        message: format!(
            "the client already has the most credentials allowed ({limit}, max_credentials_per_client); delete one first"
        ),
    }
}

pub(super) fn invalid_key(e: KeyError) -> ApiError {
    ApiError::InvalidKey {
        reason: e.code(),
        message: e.to_string(),
    }
}
