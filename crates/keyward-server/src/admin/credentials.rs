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

#[utoipa::path(get, path = "/admin/clients/{client_id}/credentials",
    responses((status = 200, body = CredentialList), (status = 404)), security(("bearer" = [])))]
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

#[utoipa::path(patch, path = "/admin/clients/{client_id}/credentials/{credential_id}", request_body = CredentialPatch,
    responses((status = 200, body = CredentialView), (status = 400), (status = 404)), security(("bearer" = [])))]
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

#[utoipa::path(delete, path = "/admin/clients/{client_id}/credentials/{credential_id}",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path((id, credential_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    ops.delete_credential(&admin.actor, &id, &credential_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
