//! The server's token-signing keys: list them, and rotate (a new active key; the replaced one
//! stays published at `/jwks` until the tokens it signed have expired).

use std::sync::Arc;

use axum::{body::Bytes, extract::State, Json};
use keyward_admin::{rfc3339, Action, AdminError, AdminOps, SigningKeyInfo, SigningKeyState};
use keyward_types::SigningAlg;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    json_body::{optional, parsed},
    Admin,
};
use crate::error::ApiError;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateSigningKeyRequest {
    /// The new key's algorithm; without it, the configured `token_signing_alg`. Read as text
    /// so that every algorithm refused (unknown, or one the server cannot sign with) is
    /// `invalid_request`.
    alg: Option<String>,
}

impl RotateSigningKeyRequest {
    fn alg(&self) -> Result<Option<SigningAlg>, AdminError> {
        self.alg
            .as_deref()
            .map(|name| {
                name.parse().map_err(|_| {
                    let shown: String = name.chars().take(32).collect();
                    AdminError::InvalidRequest(format!("alg '{shown}' is not a JWS algorithm").into())
                })
            })
            .transpose()
    }
}

/// A signing key; never its private part.
#[derive(Serialize, ToSchema)]
pub(crate) struct SigningKeyView {
    kid: String,
    alg: String,
    /// RFC 3339.
    created_at: String,
    /// When the key stops being published (RFC 3339); `null` for the active key.
    retire_at: Option<String>,
    /// `active` (signs new tokens), `retiring` (published until `retire_at`) or `retired` (no
    /// longer published; removed at the next rotation).
    state: &'static str,
}

impl From<&SigningKeyInfo> for SigningKeyView {
    fn from(key: &SigningKeyInfo) -> Self {
        let state = match key.state {
            SigningKeyState::Active => "active",
            SigningKeyState::Retiring { .. } => "retiring",
            SigningKeyState::Retired { .. } => "retired",
        };
        Self {
            kid: key.kid.clone(),
            alg: key.alg.clone(),
            created_at: rfc3339(key.created_at),
            retire_at: key.retire_at.map(rfc3339),
            state,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SigningKeyList {
    /// Newest first.
    keys: Vec<SigningKeyView>,
}

/// The server's signing keys, newest first: the active one and those still published.
#[utoipa::path(get, path = "/admin/signing-keys", operation_id = "listSigningKeys", tag = "signing-keys",
    responses((status = 200, description = "every stored signing key, newest first", body = SigningKeyList)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(ops): State<Arc<AdminOps>>,
    _admin: Admin,
) -> Result<Json<SigningKeyList>, ApiError> {
    let keys = ops.signing_keys().await?;
    Ok(Json(SigningKeyList {
        keys: keys.iter().map(SigningKeyView::from).collect(),
    }))
}

/// Rotate the signing key: a new active key signs from now on (on this node at once, on the
/// others within moments); the replaced key stays published for `max_access_token_lifetime`.
#[utoipa::path(post, path = "/admin/signing-keys/rotate", operation_id = "rotateSigningKey", tag = "signing-keys",
    request_body(content = RotateSigningKeyRequest, description = "May be empty: the configured `token_signing_alg`."),
    responses((status = 200, description = "the new active key", body = SigningKeyView),
              (status = 400, description = "`invalid_request`: an algorithm the server cannot sign tokens with", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn rotate(
    State(ops): State<Arc<AdminOps>>,
    admin: Admin,
    body: Bytes,
) -> Result<Json<SigningKeyView>, ApiError> {
    let read = optional::<RotateSigningKeyRequest>(&body).and_then(|r| r.alg());
    let alg = parsed(&ops, &admin, Action::SigningKeyRotate, "-", read).await?;
    let key = ops.rotate_signing_key(&admin.actor, alg).await?;
    Ok(Json(SigningKeyView::from(&key)))
}
