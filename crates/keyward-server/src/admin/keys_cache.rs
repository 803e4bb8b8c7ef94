//! The JWKS URL key cache: what is cached for a client, and clearing it.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    Json,
};
use keyward_admin::{rfc3339, Action, AdminOps, ClearRequest};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{
    json_body::{optional, parsed},
    Admin,
};
use crate::error::ApiError;

#[derive(Serialize, ToSchema)]
pub(crate) struct ClearResponse {
    cleared_urls: usize,
}

/// Clear cached JWKS URL keys, for one client or for all.
#[utoipa::path(post, path = "/admin/keys-cache/clear", operation_id = "clearKeysCache", tag = "keys-cache",
    request_body(content = ClearRequest, description = "May be empty: every cached URL."),
    responses((status = 200, description = "how many URLs this node dropped; every other node clears too", body = ClearResponse),
              (status = 400, description = "`invalid_request`: the client has no `jwks_uri`", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn clear(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    body: Bytes,
) -> Result<Json<ClearResponse>, ApiError> {
    let request = parsed(&ops, &admin, Action::KeysCacheClear, "-", optional(&body)).await?;
    let cleared_urls = ops.clear_keys_cache(&admin.actor, request).await?;
    Ok(Json(ClearResponse { cleared_urls }))
}

/// The keys currently cached for a client's `jwks_uri`, with fetch time and expiry.
#[utoipa::path(get, path = "/admin/clients/{client_id}/jwks", operation_id = "getClientJwksCache", tag = "keys-cache",
    params(("client_id" = String, Path, description = "The client's id")),
    responses((status = 200, description = "what this node holds for the client's `jwks_uri`", body = super::openapi_schemas::CachedJwks),
              (status = 400, description = "`invalid_request`: the client has no `jwks_uri`", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn show(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let jwks = ops.cached_jwks(&id).await?;
    let uri = jwks.jwks_uri;
    let body = match jwks.cached {
        None => json!({"jwks_uri": uri, "cached": false}),
        Some(c) => json!({
            "jwks_uri": uri,
            "cached": true,
            "keys": c.keys.iter().map(|k| &k.jwk).collect::<Vec<_>>(),
            "fetched_at": rfc3339(c.fetched_at),
            "last_success_at": c.good_at.map(rfc3339),
            "expires_at": rfc3339(c.expires_at),
            "last_error": c.last_error.as_ref().map(|e| e.reason()),
        }),
    };
    Ok(Json(body))
}
