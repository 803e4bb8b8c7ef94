use std::sync::Arc;

use axum::{
    extract::{RawQuery, State},
    Json,
};
use keyward_admin::{AdminError, AdminOps, AuditFilter};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::Admin;
use crate::error::ApiError;

/// The filters of `GET /admin/audit` (for the API description; the query is read by
/// [`filter_from_query`], which refuses unknown and repeated parameters).
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only events about this client (their `target`).
    client_id: Option<String>,
    /// Only events made by this caller (an admin client's id, `anonymous` for refused tokens,
    /// `keyward-cli`, `keyward-serve`).
    actor: Option<String>,
    /// An action (`client.update`), or a prefix ending in `.` (`client.`, `signing_key.`).
    action: Option<String>,
    /// RFC 3339 (e.g. `2026-01-31T12:00:00Z`): events at or after this time.
    since: Option<String>,
    /// RFC 3339: events before this time.
    until: Option<String>,
    /// Page size, 1–500 (default 100).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `next_before` of the previous page (the older form of `cursor`; send one or the other).
    before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    events: Vec<keyward_storage::AuditRecord>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    next_cursor: Option<String>,
    next_before: Option<i64>,
}

/// The audit log, newest first: actor, action, target, time, outcome; filtered and paged.
#[utoipa::path(get, path = "/admin/audit", operation_id = "listAuditEvents", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "a page of events, newest first", body = AuditPage),
              (status = 400, description = "`invalid_request`: a filter is malformed, unknown or repeated", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = filter_from_query(query.as_deref().unwrap_or(""))?;
    let page = ops.list_audit(&filter).await?;
    Ok(Json(AuditPage {
        events: page.events,
        next_cursor: page.next_cursor,
        next_before: page.next_before,
    }))
}

/// The query string as filters: a parameter sent twice or one this endpoint does not know is
/// refused, never silently ignored (an ignored filter returns more than the admin asked for).
fn filter_from_query(query: &str) -> Result<AuditFilter, AdminError> {
    let mut filter = AuditFilter::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "client_id" => &mut filter.client_id,
            "actor" => &mut filter.actor,
            "action" => &mut filter.action,
            "since" => &mut filter.since,
            "until" => &mut filter.until,
            "limit" => &mut filter.limit,
            "cursor" => &mut filter.cursor,
            "before" => &mut filter.before,
            other => {
                let other: String = other.chars().take(64).collect();
                return Err(AdminError::InvalidRequest(
                    format!("unknown parameter '{other}'").into(),
                ));
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(AdminError::InvalidRequest(
                format!("parameter '{name}' is repeated").into(),
            ));
        }
    }
    Ok(filter)
}
