//! The user behind a grant, read again on every use: a disabled or deleted user's grants stop
//! working at once.

use keyward_admin::{AdminError, User};

use crate::{backchannel::TokenEndpoint, error::ApiError};

/// The user, if it exists and is enabled.
pub(crate) async fn enabled_user(app: &TokenEndpoint, username: &str) -> Result<Option<User>, ApiError> {
    match app.ops.user(username).await {
        Ok(user) if user.enabled => Ok(Some(user)),
        Ok(_) | Err(AdminError::NotFound(_)) => Ok(None),
        Err(e) => Err(ApiError::Admin(e)),
    }
}
