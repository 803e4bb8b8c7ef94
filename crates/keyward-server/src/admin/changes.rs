//! What every admin change handler shares: the audit event it writes with its change, the record
//! of a refused change, and the client id from the path.

use keyward_storage::AuditEvent;
use keyward_types::ClientId;
use serde_json::{json, Value};

use super::Admin;
use crate::{error::ApiError, state::AppState};

pub(crate) fn event(
    app: &AppState,
    admin: &Admin,
    action: &str,
    target: &str,
    outcome: &str,
    detail: Value,
) -> AuditEvent {
    AuditEvent {
        at: app.clock.now(),
        actor: admin.actor.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: outcome.to_owned(),
        detail,
    }
}

/// Records a rejected admin change; the rejection itself is what the caller sees.
pub(crate) async fn audit_failure(
    app: &AppState,
    admin: &Admin,
    action: &str,
    target: &str,
    err: ApiError,
) -> ApiError {
    let e = event(
        app,
        admin,
        action,
        target,
        "failure",
        json!({"error": err.to_string()}),
    );
    if let Err(store_err) = app.storage.append_audit(&e).await {
        tracing::warn!(error = %store_err, "could not record failed admin action");
    }
    err
}

pub(crate) fn parse_id(raw: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(raw).map_err(|_| {
        ApiError::NotFound(format!(
            "no client '{}'",
            raw.chars().take(64).collect::<String>()
        ))
    })
}
