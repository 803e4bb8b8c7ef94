//! Server-side key generation: the keystore is returned once and never stored.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_admin::{json::request_document, Action, AdminOps, GenerateRequest};
use serde::Serialize;
use utoipa::ToSchema;

use super::{json_body::parsed, views::CredentialView, Admin};
use crate::error::ApiError;

#[derive(Serialize, ToSchema)]
pub(crate) struct GeneratedKeystore {
    credential: CredentialView,
    filename: String,
    /// base64 of the keystore file; shown once, never stored.
    keystore: String,
}

/// Generate a key pair; its public key joins the credential list, and the keystore (PKCS#12 or
/// JKS) with the private key is returned this once.
#[utoipa::path(post, path = "/admin/clients/{client_id}/credentials/generate", operation_id = "generateCredential",
    tag = "credentials", params(("client_id" = String, Path, description = "The client's id")), request_body = GenerateRequest,
    responses((status = 201, description = "the credential and its keystore (`Cache-Control: no-store`)", body = GeneratedKeystore),
              (status = 400, description = "`invalid_key` with a `reason` (`unknown_key_type`, `password_too_short`, `not_a_key_client`, …) or `invalid_request`", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody),
              (status = 409, description = "`conflict` with a `reason`: `credential_limit`", body = super::ErrorBody),
              (status = 503, description = "`temporarily_unavailable`: every generation slot is busy (see `Retry-After`), or the store is unavailable", body = super::ErrorBody,
                  headers(("Retry-After" = u64, description = "seconds")))),
    security(("bearer" = [])))]
pub(crate) async fn generate(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = parsed(
        &ops,
        &admin,
        Action::CredentialCreate,
        &id,
        request_document(&body),
    )
    .await?;
    let generated = ops.generate_credential(&admin.actor, &id, request).await?;
    let body = GeneratedKeystore {
        credential: CredentialView::from(&generated.credential),
        filename: generated.filename,
        keystore: STANDARD.encode(&*generated.keystore),
    };
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    // The keystore holds a private key: no cache may keep it.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(resp)
}
