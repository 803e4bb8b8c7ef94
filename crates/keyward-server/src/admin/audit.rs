use std::sync::Arc;

use axum::{
    extract::{Query, State},
    Json,
};
use keyward_admin::AdminOps;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Admin;
use crate::error::ApiError;

#[derive(Deserialize, IntoParams)]
pub(crate) struct AuditQuery {
    /// Page size, 1–500 (default 100).
    limit: Option<u32>,
    /// Return events older than this id (from `next_before`).
    before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    events: Vec<keyward_storage::AuditRecord>,
    next_before: Option<i64>,
}

/// The audit log, newest first: actor, action, target, time, outcome.
#[utoipa::path(get, path = "/admin/audit", params(AuditQuery), responses((status = 200, body = AuditPage)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let page = ops.list_audit(q.limit, q.before).await?;
    Ok(Json(AuditPage {
        events: page.events,
        next_before: page.next_before,
    }))
}
