use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use keyward_admin::{json::metadata_document, Action, AdminOps, ClientMetadata, ClientPatch};
use keyward_types::ClientId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{json_body::parsed, views::ClientView, Admin};
use crate::error::ApiError;

/// The response to a create, or to a change that switched the authenticator to a secret
/// method the client had no usable secret for: the client, and its new secret, shown this once
/// (`client_secret_expires_at` says until when; 0 for never).
#[derive(Serialize, ToSchema)]
pub(crate) struct ClientCreated {
    #[serde(flatten)]
    client: ClientView,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
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
    /// Only clients whose `client_id` or `client_name` contains this, ignoring case (`%` and
    /// `_` match themselves).
    search: Option<String>,
}

/// Register a client. Secret-based clients get a generated secret, returned only here.
#[utoipa::path(post, path = "/admin/clients", operation_id = "createClient", tag = "clients", request_body = ClientMetadata,
    responses((status = 201, description = "registered; `Location` names it, `client_secret` is shown this once", body = ClientCreated),
              (status = 400, description = "`invalid_client_metadata` naming the `field`, `invalid_request` (a member twice, not JSON), or `invalid_key` for a key in `jwks`", body = super::ErrorBody),
              (status = 409, description = "`conflict`: the `client_id` is taken, or `jwks` holds a key twice or too many", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ApiError> {
    let meta = parsed(&ops, &admin, Action::ClientCreate, "-", metadata_document(&body)).await?;
    let created = ops.create_client(&admin.actor, meta).await?;
    let mut client = ClientView::with_keys(&created.client, &created.credentials);
    client.client_secret_expires_at = Some(created.client_secret_expires_at);
    let body = ClientCreated {
        client,
        client_secret: created.secret.map(|s| s.expose().to_owned()),
    };
    let headers = [
        (header::LOCATION, client_location(&created.client.client_id)),
        (header::CACHE_CONTROL, "no-store".into()),
    ];
    Ok((StatusCode::CREATED, headers, Json(body)).into_response())
}

/// `/admin/clients/{client_id}` with the id percent-encoded as one path segment (RFC 3986
/// §3.3). Registered ids need no encoding, but the header is built so that no id, whatever
/// rule admitted it, can add a segment, a query or a header line.
fn client_location(id: &ClientId) -> String {
    super::location("/admin/clients", id.as_str())
}

/// List clients in `client_id` order, a page at a time.
#[utoipa::path(get, path = "/admin/clients", operation_id = "listClients", tag = "clients", params(PageQuery),
    responses((status = 200, description = "a page of clients", body = ClientPage),
              (status = 400, description = "`invalid_request`: `limit` out of range, `after` not a client id, or `search` too long", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    Query(q): Query<PageQuery>,
) -> Result<Json<ClientPage>, ApiError> {
    let page = ops
        .list_clients(q.limit, q.after.as_deref(), q.search.as_deref())
        .await?;
    Ok(Json(ClientPage {
        clients: page.clients.iter().map(ClientView::from).collect(),
        next_after: page.next_after,
    }))
}

/// A client, with its public keys as `jwks` when it has a credential list.
#[utoipa::path(get, path = "/admin/clients/{client_id}", operation_id = "getClient", tag = "clients", params(("client_id" = String, Path, description = "The client's id")),
    responses((status = 200, description = "the client", body = ClientView),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn read(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, ApiError> {
    let entry = ops.client(&id).await?;
    Ok(Json(ClientView::of_entry(&entry)))
}

/// Change metadata: the fields sent replace the stored ones (`null` resets a field to its
/// default); `enabled: false` disables the client at once. Changing
/// `token_endpoint_auth_method` switches the authenticator; when the new method needs a
/// secret the client does not have, one is generated and returned here once.
#[utoipa::path(patch, path = "/admin/clients/{client_id}", operation_id = "updateClient", tag = "clients", params(("client_id" = String, Path, description = "The client's id")),
    request_body = ClientMetadata,
    responses((status = 200, description = "the client as changed; `client_secret` only when switching the authenticator generated one", body = ClientCreated),
              (status = 400, description = "`invalid_client_metadata` naming the `field`, or `invalid_request`", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody),
              (status = 409, description = "`conflict`: the bootstrap admin client cannot be disabled or lose scope `keyward:admin`", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn update(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch: ClientPatch =
        parsed(&ops, &admin, Action::ClientUpdate, &id, metadata_document(&body)).await?;
    let updated = ops.update_client(&admin.actor, &id, patch).await?;
    let mut client = ClientView::from(&updated.client);
    client.client_secret_expires_at = Some(updated.client_secret_expires_at);
    let body = ClientCreated {
        client,
        client_secret: updated.secret.map(|s| s.expose().to_owned()),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// Delete a client with its secrets and credentials.
#[utoipa::path(delete, path = "/admin/clients/{client_id}", operation_id = "deleteClient", tag = "clients", params(("client_id" = String, Path, description = "The client's id")),
    responses((status = 204, description = "deleted"),
              (status = 404, description = "`not_found`: no such client", body = super::ErrorBody),
              (status = 409, description = "`conflict`: the bootstrap admin client cannot be deleted", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops.delete_client(&admin.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
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
