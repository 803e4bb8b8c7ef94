//! Reading an admin request body. A body that cannot be read is a refused change like any other,
//! so it is recorded in the audit log by the operations layer before the refusal is answered.

use keyward_admin::{Action, AdminError, AdminOps};
use serde::de::DeserializeOwned;

use super::Admin;
use crate::error::ApiError;

/// The body as read by `read` (a [`keyward_admin::json`] reader); a refusal is recorded as a
/// failed `action` on `target`.
pub(crate) async fn parsed<T>(
    ops: &AdminOps,
    admin: &Admin,
    action: Action,
    target: &str,
    read: Result<T, AdminError>,
) -> Result<T, ApiError> {
    match read {
        Ok(value) => Ok(value),
        Err(e) => Err(ops.refused(&admin.actor, action, target, e).await.into()),
    }
}

/// A body that may be left empty (or all whitespace) for the defaults, else metadata-style JSON.
pub(crate) fn optional<T: Default + DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        keyward_admin::json::metadata_document(body)
    }
}
