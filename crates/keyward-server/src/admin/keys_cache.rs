//! The JWKS URL key cache: what is cached for a client, and clearing it (Keycloak's "clear
//! keys cache"). After a clear, the next assertion of an affected client fetches again.

use axum::{
    body::Bytes,
    extract::{Path, State},
    Json,
};
use keyward_storage::Change;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{
    changes::{audit_failure, event, parse_id},
    metadata::{parse_json, rfc3339},
    Admin,
};
use crate::{error::ApiError, state::AppState};

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClearRequest {
    /// Clear only this client's JWKS URL; without it, every cached URL.
    client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ClearResponse {
    cleared_urls: usize,
}

async fn jwks_uri_of(app: &AppState, raw_id: &str) -> Result<String, ApiError> {
    let id = parse_id(raw_id)?;
    let entry = app
        .storage
        .load_client(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no client '{id}'")))?;
    entry
        .client
        .jwks_uri
        .ok_or_else(|| ApiError::InvalidRequest(format!("client '{id}' has no jwks_uri").into()))
}

/// Clear cached JWKS URL keys, for one client or for all.
#[utoipa::path(post, path = "/admin/keys-cache/clear", request_body = ClearRequest,
    responses((status = 200, body = ClearResponse), (status = 400), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn clear(
    State(app): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Json<ClearResponse>, ApiError> {
    let result = async {
        let req: ClearRequest = if body.iter().all(u8::is_ascii_whitespace) {
            ClearRequest::default()
        } else {
            parse_json(&body)?
        };
        let cache = &app.remote_keys.0;
        let (target, cleared) = match &req.client_id {
            Some(id) => {
                let uri = jwks_uri_of(&app, id).await?;
                (id.clone(), usize::from(cache.clear(&uri)))
            }
            None => ("*".to_owned(), cache.clear_all()),
        };
        let audit = event(
            &app,
            &admin,
            "keys_cache.clear",
            &target,
            "success",
            json!({"cleared_urls": cleared}),
        );
        app.storage.append_audit(&audit).await?;
        // Other nodes clear theirs too (the count is this node's); if they cannot be told, the
        // admin gets a 503 and retries rather than believing every node was cleared.
        let change = Change::JwksCache {
            client_id: req.client_id.clone(),
        };
        app.storage.announce(&change).await?;
        Ok::<_, ApiError>(cleared)
    }
    .await;
    match result {
        Ok(cleared_urls) => Ok(Json(ClearResponse { cleared_urls })),
        Err(e) => Err(audit_failure(&app, &admin, "keys_cache.clear", "-", e).await),
    }
}

/// The keys currently cached for a client's `jwks_uri`, with fetch time and expiry.
#[utoipa::path(get, path = "/admin/clients/{client_id}/jwks",
    responses((status = 200, body = Object), (status = 400), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn show(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let uri = jwks_uri_of(&app, &id).await?;
    let body = match app.remote_keys.0.peek(&uri) {
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
