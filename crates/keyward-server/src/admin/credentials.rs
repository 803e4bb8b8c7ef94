//! A client's credential list: list, rename / enable / disable / set expiry, delete
//! (DESIGN.md "Client keys"). Every change is audited with the key's thumbprint.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use keyward_storage::StorageError;
use keyward_types::{ClientId, Credential};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{
    changes::{audit_failure, event, parse_id},
    metadata::{parse_json, rfc3339},
    Admin,
};
use crate::{error::ApiError, state::AppState};

/// One credential as the admin API shows it: public material only.
#[derive(Serialize, ToSchema)]
pub(crate) struct CredentialView {
    id: String,
    name: Option<String>,
    kid: String,
    alg: String,
    thumbprint: String,
    #[schema(value_type = Object)]
    jwk: keyward_types::PublicJwk,
    created_at: String,
    expires_at: Option<String>,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<CertificateView>,
}

/// The certificate a key came in, as the admin API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct CertificateView {
    subject: String,
    issuer: String,
    serial: String,
    not_before: String,
    not_after: String,
}

impl From<&Credential> for CredentialView {
    fn from(c: &Credential) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            kid: c.kid.clone(),
            alg: c.alg.to_string(),
            thumbprint: c.thumbprint.clone(),
            jwk: c.jwk.clone(),
            created_at: rfc3339(c.created_at),
            expires_at: c.expires_at.map(rfc3339),
            enabled: c.enabled,
            certificate: c.certificate.as_ref().map(|cert| CertificateView {
                subject: cert.subject.clone(),
                issuer: cert.issuer.clone(),
                serial: cert.serial.clone(),
                not_before: rfc3339(cert.not_before),
                not_after: rfc3339(cert.not_after),
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CredentialList {
    credentials: Vec<CredentialView>,
}

/// Fields `PATCH` may change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialPatch {
    name: Option<String>,
    enabled: Option<bool>,
    /// RFC 3339; must be in the future.
    expires_at: Option<String>,
}

async fn credentials_of(app: &AppState, id: &ClientId) -> Result<Vec<Credential>, ApiError> {
    Ok(app
        .storage
        .load_client(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no client '{id}'")))?
        .credentials)
}

#[utoipa::path(get, path = "/admin/clients/{client_id}/credentials",
    responses((status = 200, body = CredentialList), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<CredentialList>, ApiError> {
    let id = parse_id(&id)?;
    let credentials = credentials_of(&app, &id).await?;
    Ok(Json(CredentialList {
        credentials: credentials.iter().map(CredentialView::from).collect(),
    }))
}

#[utoipa::path(patch, path = "/admin/clients/{client_id}/credentials/{credential_id}", request_body = CredentialPatch,
    responses((status = 200, body = CredentialView), (status = 400), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(app): State<AppState>,
    admin: Admin,
    Path((id, credential_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<CredentialView>, ApiError> {
    let result = async {
        let id = parse_id(&id)?;
        let patch: CredentialPatch = parse_json(&body)?;
        let mut cred = credentials_of(&app, &id)
            .await?
            .into_iter()
            .find(|c| c.id == credential_id)
            .ok_or_else(|| ApiError::NotFound(format!("no credential '{credential_id}'")))?;
        if let Some(name) = patch.name {
            if name.chars().count() > 200 {
                return Err(ApiError::field("name", "at most 200 characters"));
            }
            cred.name = Some(name);
        }
        if let Some(enabled) = patch.enabled {
            cred.enabled = enabled;
        }
        if let Some(exp) = patch.expires_at {
            cred.expires_at = Some(future_time(&exp, app.clock.now())?);
        }
        let audit = event(
            &app,
            &admin,
            "credential.update",
            id.as_str(),
            "success",
            json!({"credential_id": cred.id, "thumbprint": cred.thumbprint, "enabled": cred.enabled}),
        );
        app.storage
            .update_credential(&id, &cred, &audit)
            .await
            .map_err(not_found)?;
        app.clients.invalidate(&id);
        Ok::<_, ApiError>(cred)
    }
    .await;
    match result {
        Ok(c) => Ok(Json(CredentialView::from(&c))),
        Err(e) => Err(audit_failure(&app, &admin, "credential.update", &id, e).await),
    }
}

#[utoipa::path(delete, path = "/admin/clients/{client_id}/credentials/{credential_id}",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<AppState>,
    admin: Admin,
    Path((id, credential_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let result = async {
        let id = parse_id(&id)?;
        let cred = credentials_of(&app, &id)
            .await?
            .into_iter()
            .find(|c| c.id == credential_id)
            .ok_or_else(|| ApiError::NotFound(format!("no credential '{credential_id}'")))?;
        let audit = event(
            &app,
            &admin,
            "credential.delete",
            id.as_str(),
            "success",
            json!({"credential_id": cred.id, "thumbprint": cred.thumbprint}),
        );
        app.storage
            .delete_credential(&id, &cred.id, &audit)
            .await
            .map_err(not_found)?;
        app.clients.invalidate(&id);
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(audit_failure(&app, &admin, "credential.delete", &id, e).await),
    }
}

/// An RFC 3339 `expires_at` that is still ahead (import and PATCH answer alike).
pub(crate) fn future_time(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ApiError> {
    let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| ApiError::field("expires_at", format!("not an RFC 3339 time: {e}")))?;
    if t <= now {
        return Err(ApiError::InvalidKey {
            reason: "expires_at_in_past",
            message: "expires_at must be in the future".into(),
        });
    }
    Ok(t)
}

fn not_found(e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound => ApiError::NotFound("no such credential".into()),
        other => other.into(),
    }
}
