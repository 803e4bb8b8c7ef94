use axum::{
    extract::{Query, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Admin;
use crate::{error::ApiError, state::AppState};

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
    State(app): State<AppState>,
    _admin: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::InvalidRequest("limit must be between 1 and 500".into()));
    }
    let events = app.storage.list_audit(q.before, limit).await?;
    let next_before = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage { events, next_before }))
}
