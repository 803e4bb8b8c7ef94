//! A client's credential list: list, rename / enable / disable / set expiry, delete
//! (DESIGN.md "Client keys").

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use keyward_admin::{json::metadata_document, Action, AdminOps, CredentialPatch};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    json_body::parsed,
    views::{credential_views, CredentialView},
    Admin,
};
use crate::error::ApiError;

#[derive(Serialize, ToSchema)]
pub(crate) struct CredentialList {
    credentials: Vec<CredentialView>,
}

/// A client's credential list (public material only).
#[utoipa::path(get, path = "/admin/clients/{client_id}/credentials", operation_id = "listCredentials", tag = "credentials",
    params(("client_id" = String, Path, description = "The client's id")),
    responses((status = 200, description = "the client's credentials", body = CredentialList),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<CredentialList>, ApiError> {
    let credentials = ops.list_credentials(&id).await?;
    Ok(Json(CredentialList {
        credentials: credential_views(&credentials),
    }))
}

/// Rename, enable, disable or set the expiry of a credential; absent fields stay as they are.
#[utoipa::path(patch, path = "/admin/clients/{client_id}/credentials/{credential_id}", operation_id = "updateCredential",
    tag = "credentials", params(("client_id" = String, Path, description = "The client's id"), ("credential_id" = String, Path, description = "The credential's id")), request_body = CredentialPatch,
    responses((status = 200, description = "the credential as changed", body = CredentialView),
              (status = 400, description = "`invalid_client_metadata` naming the `field`, `invalid_request`, or `invalid_key` (`expires_at_in_past`)", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such client or credential", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn update(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path((id, credential_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<CredentialView>, ApiError> {
    let patch = parsed(
        &ops,
        &admin,
        Action::CredentialUpdate,
        &id,
        metadata_document(&body),
    )
    .await?;
    let credential = ops
        .update_credential(&admin.actor, &id, &credential_id, patch)
        .await?;
    Ok(Json(CredentialView::from(&credential)))
}

/// Remove a credential: assertions signed with its key are refused from the next request on.
#[utoipa::path(delete, path = "/admin/clients/{client_id}/credentials/{credential_id}", operation_id = "deleteCredential",
    tag = "credentials", params(("client_id" = String, Path, description = "The client's id"), ("credential_id" = String, Path, description = "The credential's id")),
    responses((status = 204, description = "deleted"),
              (status = 404, description = "`not_found`: no such client or credential", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path((id, credential_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    ops.delete_credential(&admin.actor, &id, &credential_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
