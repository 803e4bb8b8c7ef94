use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use keyward_admin::{Action, AdminOps, RotateRequest};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    json_body::{optional, parsed},
    Admin,
};
use crate::error::ApiError;

#[derive(Serialize, ToSchema)]
pub(crate) struct RotateResponse {
    client_id: String,
    /// The new secret, shown this once.
    client_secret: String,
    /// RFC 7591: when the new secret expires (seconds since the epoch), 0 for never.
    client_secret_expires_at: i64,
    /// Unix time until which the previous secret still works; absent when it stopped at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_secret_expires_at: Option<i64>,
}

/// Regenerate a client's secret; the previous one keeps working for the grace period.
#[utoipa::path(post, path = "/admin/clients/{client_id}/secret", operation_id = "rotateClientSecret", tag = "secrets",
    params(("client_id" = String, Path, description = "The client's id")), request_body(content = RotateRequest, description = "May be empty for the defaults."),
    responses((status = 200, description = "the new secret, shown this once (`Cache-Control: no-store`)", body = RotateResponse),
              (status = 400, description = "`invalid_client_metadata` (`grace_period_seconds` above the server's maximum) or `invalid_request` (the client has no secret)", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn rotate(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = parsed(&ops, &admin, Action::SecretRotate, &id, optional(&body)).await?;
    let rotated = ops.rotate_secret(&admin.actor, &id, request).await?;
    let body = RotateResponse {
        client_id: rotated.client_id.to_string(),
        client_secret: rotated.secret.expose().to_owned(),
        client_secret_expires_at: rotated.expires_at.map_or(0, |t| t.unix_timestamp()),
        previous_secret_expires_at: rotated.previous_secret_expires_at.map(|t| t.unix_timestamp()),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}
