//! Pushed authorization requests (RFC 9126): the client authenticates as at the token endpoint
//! and posts the request; keyward validates it at once and answers a `request_uri` that is good
//! once, for at most 60 seconds, and only with that client's `client_id`.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use keyward_storage::PendingRequest;
use serde_json::json;
use time::Duration;

use super::{
    pages::UserPage,
    request::{self, AuthRequest, Params, Refusal},
    Authorization,
};
use crate::{
    backchannel::{authenticate_client, read_form_bytes},
    console::{random_token, sha256_hex},
    error::ApiError,
};

/// How long a `request_uri` is good for.
const PAR_SECONDS: i64 = 60;
const URN: &str = "urn:ietf:params:oauth:request_uri:";

/// Pushed ids and interaction ids share a table; the prefix keeps one from passing as the other.
fn key(id: &str) -> String {
    sha256_hex(&format!("par.{id}"))
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Page(m) => ApiError::InvalidRequest(m.into()),
        Refusal::Redirect { error, description } => ApiError::Refused {
            status: StatusCode::BAD_REQUEST,
            error,
            description,
        },
    }
}

/// Push an authorization request (RFC 9126); the answer's `request_uri` is good once, for 60 s.
#[utoipa::path(post, path = "/par", operation_id = "pushAuthorizationRequest", tag = "oauth",
    request_body(content = crate::api_schemas::PushedAuthorizationForm, content_type = "application/x-www-form-urlencoded",
        description = "the parameters of `/authorize`, with the client's authentication as at `/token`"),
    responses(
        (status = 201, description = "`request_uri` and `expires_in`"),
        (status = 400, description = "`invalid_request`, `invalid_scope`, `unauthorized_client`, `unsupported_response_type`", body = crate::admin::ErrorBody),
        (status = 401, description = "`invalid_client`", body = crate::admin::ErrorBody)),
    security((), ("client_secret_basic" = [])))]
pub(crate) async fn push(
    State(app): State<Arc<Authorization>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = read_form_bytes(&parts.headers, body).await?;
    let form = crate::backchannel::parse_form(&bytes)?;
    let authenticated = authenticate_client(&app.token, &parts, &form).await?;
    let client = authenticated.client();
    let params = Params::parse(&bytes).map_err(refused)?;
    if params.get("request_uri").is_some() {
        return Err(ApiError::InvalidRequest("request_uri cannot be pushed".into()));
    }
    if params
        .get("client_id")
        .is_some_and(|id| id != client.client_id.as_str())
    {
        return Err(ApiError::InvalidRequest(
            "client_id is not the authenticated client".into(),
        ));
    }
    let redirect_uri = request::redirect_uri(Some(client), &params).map_err(refused)?;
    let validated = request::validate(client, redirect_uri, &params, app.now()).map_err(refused)?;
    let id = random_token().map_err(|_| ApiError::Internal("the random generator failed".into()))?;
    let stored = serde_json::to_string(&validated).map_err(|e| ApiError::Internal(e.to_string()))?;
    app.storage
        .insert_pending_request(&PendingRequest {
            id_hash: key(&id),
            client_id: client.client_id.clone(),
            params: stored,
            expires_at: app.now() + Duration::seconds(PAR_SECONDS),
        })
        .await?;
    tracing::info!(client_id = %client.client_id, "authorization request pushed");
    let body = json!({"request_uri": format!("{URN}{id}"), "expires_in": PAR_SECONDS});
    Ok(crate::access_token::no_store(
        (StatusCode::CREATED, Json(body)).into_response(),
    ))
}

/// The pushed request a `request_uri` names, taken (single use). Any problem is a page: the
/// redirect URI inside it is only known once it is found.
pub(crate) async fn pushed(app: &Authorization, params: &Params, uri: &str) -> Result<AuthRequest, UserPage> {
    let client_id = params
        .get("client_id")
        .ok_or_else(|| UserPage::bad_request("a request_uri needs its client_id"))?;
    let id = uri
        .strip_prefix(URN)
        .ok_or_else(|| UserPage::bad_request("the request_uri was not issued by keyward"))?;
    let taken = app
        .storage
        .take_pending_request(&key(id), app.now())
        .await?
        .filter(|p| p.client_id.as_str() == client_id)
        .ok_or_else(|| UserPage::bad_request("the request_uri is unknown, used or expired"))?;
    serde_json::from_str(&taken.params).map_err(|e| UserPage::internal(&e))
}
