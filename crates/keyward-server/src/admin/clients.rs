use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use keyward_types::ClientId;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::{
    changes::{audit_failure, event, parse_id},
    inline_jwks::credentials_from_jwks,
    metadata::{parse_json, ClientMetadata, ClientView},
    secret::new_secret,
    Admin, ADMIN_SCOPE, BOOTSTRAP_CLIENT,
};
use crate::{error::ApiError, state::AppState};

/// The response to a create: the client, and its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub(crate) struct ClientCreated {
    #[serde(flatten)]
    client: ClientView,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// RFC 7591: 0 means the secret does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ClientPage {
    clients: Vec<ClientView>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct PageQuery {
    /// Page size, 1–500 (default 100).
    limit: Option<u32>,
    /// Return clients whose id sorts after this one.
    after: Option<String>,
}

/// Register a client. Secret-based clients get a generated secret, returned only here.
#[utoipa::path(post, path = "/admin/clients", request_body = ClientMetadata,
    responses((status = 201, body = ClientCreated), (status = 400, description = "invalid_client_metadata, naming the field"),
              (status = 409, description = "client_id taken")), security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ApiError> {
    let result = async {
        let meta: ClientMetadata = parse_json(&body)?;
        let jwks = meta.jwks.clone();
        let now = app.clock.now();
        let client = meta.into_client(None, now, &app.config)?;
        let credentials = credentials_from_jwks(jwks.as_ref(), &client, now, &app.config)?;
        let secret = if client.token_endpoint_auth_method.uses_secret() {
            Some(new_secret(&app, &client.client_id, client.token_endpoint_auth_method)?)
        } else {
            None
        };
        let audit = event(
            &app,
            &admin,
            "client.create",
            client.client_id.as_str(),
            "success",
            json!({
                "token_endpoint_auth_method": client.token_endpoint_auth_method.as_str(),
                "credentials": credentials.iter().map(|c| json!({"kid": c.kid, "thumbprint": c.thumbprint})).collect::<Vec<_>>(),
            }),
        );
        app.storage
            .insert_client(&client, secret.as_ref().map(|s| &s.1), &credentials, &audit)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::Conflict(_) => {
                    ApiError::Conflict(format!("client_id '{}' is already registered", client.client_id))
                }
                other => other,
            })?;
        app.clients.invalidate(&client.client_id);
        Ok::<_, ApiError>((client, secret, credentials))
    }
    .await;
    let (client, secret, credentials) = match result {
        Ok(v) => v,
        Err(e) => return Err(audit_failure(&app, &admin, "client.create", "-", e).await),
    };
    tracing::info!(client_id = %client.client_id, actor = %admin.actor, "client created");
    let has_secret = secret.is_some();
    let body = ClientCreated {
        client: ClientView::with_keys(&client, &credentials),
        client_secret: secret.map(|s| s.0.expose().to_owned()),
        client_secret_expires_at: has_secret.then_some(0),
    };
    let location = client_location(&client.client_id);
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".into()),
        ],
        Json(body),
    )
        .into_response())
}

/// Characters left as they are in a path segment: RFC 3986 §2.3 unreserved.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `/admin/clients/{client_id}` with the id percent-encoded as one path segment (RFC 3986
/// §3.3). Registered ids need no encoding, but the header is built so that no id, whatever
/// rule admitted it, can add a segment, a query or a header line.
fn client_location(id: &ClientId) -> String {
    format!(
        "/admin/clients/{}",
        utf8_percent_encode(id.as_str(), PATH_SEGMENT)
    )
}

/// List clients in `client_id` order, a page at a time.
#[utoipa::path(get, path = "/admin/clients", params(PageQuery), responses((status = 200, body = ClientPage)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<AppState>,
    _admin: Admin,
    Query(q): Query<PageQuery>,
) -> Result<Json<ClientPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::InvalidRequest("limit must be between 1 and 500".into()));
    }
    let after = q
        .after
        .map(ClientId::parse)
        .transpose()
        .map_err(|_| ApiError::InvalidRequest("after is not a client_id".into()))?;
    let clients = app.storage.list_clients(after.as_ref(), limit).await?;
    let next_after = (clients.len() == limit as usize)
        .then(|| clients.last().map(|c| c.client_id.to_string()))
        .flatten();
    Ok(Json(ClientPage {
        clients: clients.iter().map(ClientView::from).collect(),
        next_after,
    }))
}

#[utoipa::path(get, path = "/admin/clients/{client_id}", responses((status = 200, body = ClientView), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn read(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, ApiError> {
    let id = parse_id(&id)?;
    let entry = app
        .storage
        .load_client(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no client '{id}'")))?;
    Ok(Json(ClientView::with_keys(&entry.client, &entry.credentials)))
}

/// Change metadata: the fields sent replace the stored ones (`null` resets a field to its
/// default); `enabled: false` disables the client at once.
#[utoipa::path(patch, path = "/admin/clients/{client_id}", request_body = ClientMetadata,
    responses((status = 200, body = ClientView), (status = 400), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(app): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ClientView>, ApiError> {
    let result = async {
        let id = parse_id(&id)?;
        let entry = app.storage.load_client(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no client '{id}'")))?;
        let current = entry.client;
        let patch: serde_json::Map<String, Value> = parse_json(&body)?;
        if patch.contains_key("jwks") {
            return Err(ApiError::InvalidClientMetadata {
                field: "jwks".into(),
                message: "keys are registered with the client; changing them by PATCH is not supported yet".into(),
            });
        }
        let mut merged = serde_json::to_value(ClientMetadata::from(&current))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Some(obj) = merged.as_object_mut() {
            for (k, v) in &patch {
                if v.is_null() {
                    obj.remove(k);
                } else {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
        let meta: ClientMetadata = parse_json(merged.to_string().as_bytes())?;
        let updated = meta.into_client(Some(&current), app.clock.now(), &app.config)?;
        if updated.client_id.as_str() == BOOTSTRAP_CLIENT
            && (!updated.enabled || !updated.scope.contains(ADMIN_SCOPE))
        {
            return Err(ApiError::Conflict(
                "the bootstrap admin client cannot be disabled or lose scope keyward:admin".into(),
            ));
        }
        let (old, new) = (current.token_endpoint_auth_method, updated.token_endpoint_auth_method);
        if old.uses_secret() != new.uses_secret() || old.needs_clear_secret() != new.needs_clear_secret() {
            return Err(ApiError::InvalidClientMetadata {
                field: "token_endpoint_auth_method".into(),
                message: "cannot switch to a method that keeps its secret or keys differently; register a new client".into(),
            });
        }
        if updated.jwks_uri.is_some() && !entry.credentials.is_empty() {
            return Err(ApiError::InvalidClientMetadata {
                field: "jwks_uri".into(),
                message: "the client has registered keys; use either those or a jwks_uri, not both".into(),
            });
        }
        let fields: Vec<&String> = patch.keys().collect();
        let audit = event(
            &app,
            &admin,
            "client.update",
            id.as_str(),
            "success",
            json!({"fields": fields}),
        );
        app.storage.update_client(&updated, &audit).await?;
        app.clients.invalidate(&id);
        Ok::<_, ApiError>(updated)
    }
    .await;
    match result {
        Ok(c) => Ok(Json(ClientView::from(&c))),
        Err(e) => Err(audit_failure(&app, &admin, "client.update", &id, e).await),
    }
}

#[utoipa::path(delete, path = "/admin/clients/{client_id}", responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let result = async {
        let id = parse_id(&id)?;
        if id.as_str() == BOOTSTRAP_CLIENT {
            return Err(ApiError::Conflict(
                "the bootstrap admin client cannot be deleted".into(),
            ));
        }
        let audit = event(&app, &admin, "client.delete", id.as_str(), "success", json!({}));
        app.storage
            .delete_client(&id, &audit)
            .await
            .map_err(|e| match e {
                keyward_storage::StorageError::NotFound => ApiError::NotFound(format!("no client '{id}'")),
                other => other.into(),
            })?;
        app.clients.invalidate(&id);
        Ok(())
    };
    match result.await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(audit_failure(&app, &admin, "client.delete", &id, e).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_encodes_every_reserved_character() {
        let safe = ClientId::new_registration("svc-A.b_c~1").unwrap();
        assert_eq!(client_location(&safe), "/admin/clients/svc-A.b_c~1");
        // Ids stored before the registration rule may hold anything visible.
        let legacy = ClientId::parse("../a/b?c#d:e%f").unwrap();
        assert_eq!(
            client_location(&legacy),
            "/admin/clients/..%2Fa%2Fb%3Fc%23d%3Ae%25f"
        );
    }
}
