use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use std::sync::Arc;

use keyward_storage::{Storage, StorageError};
use serde_json::json;

/// Readiness: whether the database answers.
#[derive(Clone)]
pub(crate) struct Health(Arc<dyn Storage>);

impl Health {
    pub(crate) fn new(storage: Arc<dyn Storage>) -> Self {
        Self(storage)
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.0.ping().await
    }
}

/// Ready when the database answers; a load balancer takes the node out otherwise.
#[utoipa::path(get, path = "/healthz", operation_id = "getHealth", tag = "health",
    responses((status = 200, description = "ready", body = crate::api_schemas::HealthStatus),
              (status = 503, description = "the database does not answer", body = crate::api_schemas::HealthStatus)))]
pub(super) async fn healthz(State(health): State<Health>) -> Response {
    match health.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: storage unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "storage": "unreachable"})),
            )
                .into_response()
        }
    }
}
