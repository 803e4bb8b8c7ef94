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

/// Import public keys (PEM, DER, JWK, JWKS, PKCS#12, JKS) into the credential list, all or none.
#[utoipa::path(post, path = "/admin/clients/{client_id}/credentials", operation_id = "importCredential", tag = "credentials",
    params(("client_id" = String, Path, description = "The client's id")), request_body = CredentialImport,
    responses((status = 201, description = "the credentials added", body = Imported),
              (status = 400, description = "`invalid_key` with a `reason` (`wrong_password`, `unrecognized_format`, `weak_key`, `not_a_key_client`, …) or `invalid_request`", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody),
              (status = 409, description = "`conflict` with a `reason`: `duplicate_key` or `credential_limit`", body = super::ErrorBody),
              (status = 503, description = "`temporarily_unavailable`: every import slot is busy (see `Retry-After`), or the store is unavailable", body = super::ErrorBody,
                  headers(("Retry-After" = u64, description = "seconds")))),
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
