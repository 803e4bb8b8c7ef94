//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): `end_session_endpoint`.
//!
//! A `post_logout_redirect_uri` must be registered for the client named by the ID token hint
//! (or `client_id`), exactly. With a valid `id_token_hint` for the signed-in user the session
//! ends at once; otherwise keyward asks the user first, so a page elsewhere cannot sign a user
//! out by linking here.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    flow::with_query, pages, pages::UserPage, posted_from_our_pages, request::Params, Authorization,
};

/// The claims of an ID token hint keyward reads. An expired hint still names its user.
#[derive(Deserialize)]
struct Hint {
    iss: String,
    sub: String,
    aud: String,
}

/// Where to send the user afterwards, checked against the client's registration.
struct Target {
    uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

async fn target(app: &Authorization, params: &Params, hint: Option<&Hint>) -> Result<Target, UserPage> {
    let client_id = match (hint.map(|h| h.aud.as_str()), params.get("client_id")) {
        (Some(a), Some(c)) if a != c => {
            return Err(UserPage::bad_request(
                "client_id is not the audience of the id_token_hint",
            ))
        }
        (a, c) => a.or(c).map(str::to_owned),
    };
    let uri = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let id = client_id.as_deref().ok_or_else(|| {
                UserPage::bad_request("post_logout_redirect_uri needs an id_token_hint or client_id")
            })?;
            let entry = app.client(id).await?;
            if !entry.client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return Err(UserPage::bad_request(
                    "the post_logout_redirect_uri is not registered for this application",
                ));
            }
            Some(uri.to_owned())
        }
    };
    Ok(Target {
        uri,
        state: params.get("state").map(str::to_owned),
        client_id,
    })
}

fn done(target: &Target, clear: Option<axum::http::HeaderValue>) -> Response {
    let mut r = match &target.uri {
        Some(uri) => {
            let mut q: Vec<(&str, &str)> = Vec::new();
            if let Some(s) = &target.state {
                q.push(("state", s));
            }
            if q.is_empty() {
                Redirect::to(uri).into_response()
            } else {
                Redirect::to(&with_query(uri, &q)).into_response()
            }
        }
        None => pages::signed_out().into_response(),
    };
    if let Some(c) = clear {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

async fn logout(app: &Authorization, raw: &[u8], headers: &HeaderMap) -> Result<Response, UserPage> {
    let params = Params::parse(raw).map_err(|_| UserPage::bad_request("a parameter is repeated"))?;
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(t) => {
            let hint: Hint = app
                .token
                .tokens
                .signed_by_us(t, None)
                .map_err(|_| UserPage::bad_request("the id_token_hint was not issued by keyward"))?;
            if hint.iss != app.issuer {
                return Err(UserPage::bad_request(
                    "the id_token_hint was not issued by keyward",
                ));
            }
            Some(hint)
        }
    };
    let target = target(app, &params, hint.as_ref()).await?;
    let Some(session) = app.sessions.live(headers).await? else {
        return Ok(done(&target, None));
    };
    if hint.is_some_and(|h| h.sub == session.record.username) {
        let clear = app.sessions.end_by_hash(&session.record.id_hash).await?;
        tracing::info!(username = %session.record.username, "end-user sign-out (RP-initiated)");
        return Ok(done(&target, Some(clear)));
    }
    let mut hidden: Vec<(&str, &str)> = Vec::new();
    for (name, value) in [
        ("post_logout_redirect_uri", &target.uri),
        ("state", &target.state),
        ("client_id", &target.client_id),
    ] {
        if let Some(v) = value {
            hidden.push((name, v));
        }
    }
    Ok(pages::confirm_sign_out(&session.csrf, &hidden).into_response())
}

async fn body_bytes(body: Body) -> Result<axum::body::Bytes, UserPage> {
    axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| UserPage::bad_request("the request is too large"))
}

/// End the user's session (OpenID Connect RP-Initiated Logout 1.0). With an `id_token_hint` of
/// the signed-in user it ends at once; otherwise the user is asked first.
#[utoipa::path(get, path = "/logout", operation_id = "endSession", tag = "oauth",
    params(
        ("id_token_hint" = Option<String>, Query),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "one of the client's `post_logout_redirect_uris`"),
        ("client_id" = Option<String>, Query),
        ("state" = Option<String>, Query)),
    responses(
        (status = 200, description = "a page: signed out, or asking to confirm"),
        (status = 303, description = "to the `post_logout_redirect_uri`"),
        (status = 400, description = "a page: unregistered `post_logout_redirect_uri` or a foreign `id_token_hint`")))]
pub(crate) async fn get(
    State(app): State<Arc<Authorization>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, UserPage> {
    logout(&app, q.unwrap_or_default().as_bytes(), &headers).await
}

/// `POST /logout` (the same parameters as a form).
pub(crate) async fn post(
    State(app): State<Arc<Authorization>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, UserPage> {
    let bytes = body_bytes(body).await?;
    logout(&app, &bytes, &headers).await
}

/// `POST /logout/confirm`: the user said yes.
pub(crate) async fn confirm(
    State(app): State<Arc<Authorization>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, UserPage> {
    let bytes = body_bytes(body).await?;
    let params = Params::parse(&bytes).map_err(|_| UserPage::bad_request("a parameter is repeated"))?;
    let target = target(&app, &params, None).await?;
    let Some(session) = app.sessions.live(&headers).await? else {
        return Ok(done(&target, None));
    };
    let tied = session.csrf_matches(params.get("csrf"));
    if !tied || !posted_from_our_pages(&headers) {
        return Err(UserPage::new(
            StatusCode::FORBIDDEN,
            "The sign-out form was refused because its security token is missing or out of date.",
        ));
    }
    let clear = app.sessions.end_by_hash(&session.record.id_hash).await?;
    tracing::info!(username = %session.record.username, "end-user sign-out");
    Ok(done(&target, Some(clear)))
}
