//! Users (DESIGN.md "Users, sign-in and the authorization code flow"): create, list, read,
//! change, delete. A user is shown without its password hash; a password is never answered.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use keyward_admin::{json::request_document, Action, AdminOps, NewUser, User, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{json_body::parsed, Admin};
use crate::error::ApiError;

#[derive(Serialize, ToSchema)]
pub(crate) struct UserPage {
    users: Vec<User>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct UserPageQuery {
    /// Page size, 1–500 (default 100).
    limit: Option<u32>,
    /// Return users whose username sorts after this one.
    after: Option<String>,
}

/// Create a user. The password is stored only as an argon2id hash and never shown.
#[utoipa::path(post, path = "/admin/users", operation_id = "createUser", tag = "users", request_body = NewUser,
    responses((status = 201, description = "created; `Location` names it", body = User),
              (status = 400, description = "`invalid_request` naming the `field` (username, password, name, email, roles), an unknown member, or a body that is not JSON", body = super::ErrorBody),
              (status = 409, description = "`conflict`: the username is taken", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new: NewUser = parsed(&ops, &admin, Action::UserCreate, "-", request_document(&body)).await?;
    let user = ops.create_user(&admin.actor, new).await?;
    let location = super::location("/admin/users", &user.username);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(user)).into_response())
}

/// List users in username order, a page at a time.
#[utoipa::path(get, path = "/admin/users", operation_id = "listUsers", tag = "users", params(UserPageQuery),
    responses((status = 200, description = "a page of users", body = UserPage),
              (status = 400, description = "`invalid_request`: `limit` out of range", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    Query(q): Query<UserPageQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let page = ops.list_users(q.limit, q.after.as_deref()).await?;
    Ok(Json(UserPage {
        users: page.users,
        next_after: page.next_after,
    }))
}

/// A user.
#[utoipa::path(get, path = "/admin/users/{username}", operation_id = "getUser", tag = "users", params(("username" = String, Path, description = "The user's username")),
    responses((status = 200, description = "the user", body = User),
              (status = 404, description = "`not_found`: no such user", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn read(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(ops.user(&username).await?))
}

/// Change a user: members sent replace the stored ones (`null` clears `name` or `email`). A new
/// password, `enabled: false` or other roles end the user's sessions.
#[utoipa::path(patch, path = "/admin/users/{username}", operation_id = "updateUser", tag = "users", params(("username" = String, Path, description = "The user's username")),
    request_body = UserPatch,
    responses((status = 200, description = "the user as changed", body = User),
              (status = 400, description = "`invalid_request` naming the `field`, or an unknown member", body = super::ErrorBody),
              (status = 404, description = "`not_found`: no such user", body = super::ErrorBody),
              (status = 409, description = "`conflict`: the last enabled admin cannot be disabled or lose role `admin`", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn update(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path(username): Path<String>,
    body: Bytes,
) -> Result<Json<User>, ApiError> {
    let patch: UserPatch = parsed(
        &ops,
        &admin,
        Action::UserUpdate,
        &username,
        request_document(&body),
    )
    .await?;
    Ok(Json(ops.update_user(&admin.actor, &username, patch).await?))
}

/// Delete a user and its sessions.
#[utoipa::path(delete, path = "/admin/users/{username}", operation_id = "deleteUser", tag = "users", params(("username" = String, Path, description = "The user's username")),
    responses((status = 204, description = "deleted"),
              (status = 404, description = "`not_found`: no such user", body = super::ErrorBody),
              (status = 409, description = "`conflict`: the last enabled admin cannot be deleted", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops.delete_user(&admin.actor, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
