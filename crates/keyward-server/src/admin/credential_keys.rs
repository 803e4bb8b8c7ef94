//! Adding keys to a client's credential list by import (PEM, DER, JWK, JWKS, PKCS#12, JKS).

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use keyward_admin::{json::request_document, Action, AdminOps, CredentialImport};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    json_body::parsed,
    views::{credential_views, CredentialView},
    Admin,
};
use crate::error::ApiError;

#[derive(Serialize, ToSchema)]
pub(crate) struct Imported {
    credentials: Vec<CredentialView>,
}

#[utoipa::path(post, path = "/admin/clients/{client_id}/credentials", request_body = CredentialImport,
    responses((status = 201, body = Imported), (status = 400), (status = 404), (status = 409),
        (status = 503)),
    security(("bearer" = [])))]
pub(crate) async fn import(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let request = parsed(
        &ops,
        &admin,
        Action::CredentialCreate,
        &id,
        request_document(&body),
    )
    .await?;
    let credentials = ops.import_credentials(&admin.actor, &id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(Imported {
            credentials: credential_views(&credentials),
        }),
    ))
}
