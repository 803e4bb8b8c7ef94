//! The UserInfo endpoint (OIDC Core §5.3): a bearer access token of a user, with scope `openid`,
//! answers `sub`, and the claims its `profile` and `email` scopes cover.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::Value;

use super::active;
use crate::{access_token::no_store, backchannel::TokenEndpoint, error::ApiError};

/// RFC 6750 §3.1: the challenge names the error.
fn challenge(status: StatusCode, error: &'static str, description: &'static str) -> Response {
    let mut r = ApiError::Refused {
        status,
        error,
        description: description.into(),
    }
    .into_response();
    let value = format!("Bearer realm=\"keyward\", error=\"{error}\"");
    if let Ok(v) = HeaderValue::try_from(value) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// Claims about the signed-in user (OIDC Core §5.3): `sub`; `preferred_username` and `name`
/// with scope `profile`; `email` with scope `email`. The user's access token goes in the
/// `Authorization` header (RFC 6750 §2.1).
#[utoipa::path(get, path = "/userinfo", operation_id = "userinfo", tag = "oauth",
    responses(
        (status = 200, description = "the user's claims"),
        (status = 401, description = "`invalid_token`", body = crate::admin::ErrorBody),
        (status = 403, description = "`insufficient_scope`: not a user's token with scope `openid`", body = crate::admin::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn userinfo(
    State(app): State<Arc<TokenEndpoint>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        let mut r = ApiError::MissingToken.into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"keyward\""),
        );
        return Ok(r);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(token) = token else {
        return Ok(challenge(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "not a bearer token",
        ));
    };
    let Some(active) = active::access(&app, token).await? else {
        return Ok(challenge(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the token is not active",
        ));
    };
    let scope: Vec<&str> = active.claims.scope.split(' ').collect();
    let Some(user) = active.user.filter(|_| scope.contains(&"openid")) else {
        return Ok(challenge(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "userinfo needs a user's token with scope openid",
        ));
    };
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), Value::from(user.username.clone()));
    if scope.contains(&"profile") {
        body.insert("preferred_username".into(), Value::from(user.username));
        if let Some(name) = user.name {
            body.insert("name".into(), Value::from(name));
        }
    }
    if scope.contains(&"email") {
        if let Some(email) = user.email {
            body.insert("email".into(), Value::from(email));
        }
    }
    Ok(no_store(Json(Value::Object(body)).into_response()))
}
