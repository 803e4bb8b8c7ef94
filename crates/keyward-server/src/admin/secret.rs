use axum::{
    body::Bytes,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use keyward_types::{AuthMethod, ClientId, ClientSecret, SecretHash, StoredSecret};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Duration;
use utoipa::ToSchema;

use super::{
    changes::{audit_failure, event, parse_id},
    metadata::parse_json,
    Admin,
};
use crate::{error::ApiError, state::AppState};

/// A fresh secret and the record the store keeps of it: its HMAC, and, for methods where the
/// server must compute a MAC with it (`client_secret_jwt`), the secret encrypted under the
/// key-encryption key, bound to the secret's id. Never the clear secret.
pub(crate) fn new_secret(
    app: &AppState,
    client_id: &ClientId,
    method: AuthMethod,
) -> Result<(ClientSecret, StoredSecret), ApiError> {
    let secret = ClientSecret::generate_for(method).map_err(|_| ApiError::Internal("RNG failure".into()))?;
    let id = format!("{}-{}", client_id, uuid::Uuid::new_v4().simple());
    let encrypted = if method.needs_clear_secret() {
        Some(
            app.keyring
                .seal(&id, secret.expose().as_bytes())
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        )
    } else {
        None
    };
    let record = StoredSecret {
        hash: SecretHash::compute(&app.keyring.pepper, &secret),
        id,
        created_at: app.clock.now(),
        expires_at: None,
        encrypted,
    };
    Ok((secret, record))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateRequest {
    /// How long the previous secret keeps working, in seconds (default 0, at most the server's
    /// `max_secret_grace_period`).
    grace_period_seconds: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RotateResponse {
    client_id: String,
    /// The new secret, shown this once.
    client_secret: String,
    client_secret_expires_at: u64,
    /// Unix time until which the previous secret still works; absent when it stopped at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_secret_expires_at: Option<i64>,
}

/// Regenerate a client's secret; the previous one keeps working for the grace period.
#[utoipa::path(post, path = "/admin/clients/{client_id}/secret", request_body = RotateRequest,
    responses((status = 200, body = RotateResponse), (status = 400), (status = 404)), security(("bearer" = [])))]
pub(crate) async fn rotate(
    State(app): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let result = async {
        let id = parse_id(&id)?;
        let req: RotateRequest = if body.iter().all(u8::is_ascii_whitespace) {
            RotateRequest::default()
        } else {
            parse_json(&body)?
        };
        let grace = req.grace_period_seconds.unwrap_or(0);
        if grace > app.config.max_secret_grace_period {
            return Err(ApiError::InvalidClientMetadata {
                field: "grace_period_seconds".into(),
                message: format!("at most {} seconds", app.config.max_secret_grace_period),
            });
        }
        let entry = app
            .storage
            .load_client(&id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no client '{id}'")))?;
        if !entry.client.token_endpoint_auth_method.uses_secret() {
            return Err(ApiError::InvalidRequest(
                format!(
                    "client '{id}' uses {} and has no secret",
                    entry.client.token_endpoint_auth_method
                )
                .into(),
            ));
        }
        let (secret, record) = new_secret(&app, &id, entry.client.token_endpoint_auth_method)?;
        let now = app.clock.now();
        let until = now + Duration::seconds(i64::try_from(grace).unwrap_or(i64::MAX));
        let audit = event(
            &app,
            &admin,
            "client.secret.rotate",
            id.as_str(),
            "success",
            json!({"grace_period_seconds": grace}),
        );
        app.storage
            .rotate_secret(&id, &record, until, now, &audit)
            .await?;
        app.clients.invalidate(&id);
        Ok::<_, ApiError>(RotateResponse {
            client_id: id.to_string(),
            client_secret: secret.expose().to_owned(),
            client_secret_expires_at: 0,
            previous_secret_expires_at: (grace > 0).then(|| until.unix_timestamp()),
        })
    }
    .await;
    match result {
        Ok(body) => Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()),
        Err(e) => Err(audit_failure(&app, &admin, "client.secret.rotate", &id, e).await),
    }
}
