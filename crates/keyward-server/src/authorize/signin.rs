//! The end user's sign-in page of an authorization request. As the console's: the form is tied
//! to the browser by a short-lived cookie (login CSRF), failures are limited per account and per
//! address before any hashing, and a wrong username and a wrong password are answered alike.
//! A successful sign-in starts a session and resumes the kept request.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use keyward_admin::{AdminError, Password};
use serde::Deserialize;

use super::{flow, pages, pages::UserPage, posted_from_our_pages, Authorization};
use crate::console::{csrf_for, login_form_tied, random_token};

/// How long a loaded sign-in form stays usable.
const FORM_SECONDS: i64 = 1800;

#[derive(Deserialize)]
pub(crate) struct Interaction {
    interaction: String,
}

impl Interaction {
    pub(crate) fn id(&self) -> &str {
        &self.interaction
    }
}

/// The name the pages show for a client: its `client_name`, else its id.
pub(super) async fn client_name(app: &Authorization, client_id: &str) -> Result<String, UserPage> {
    let entry = app.client(client_id).await?;
    Ok(entry
        .client
        .client_name
        .clone()
        .unwrap_or_else(|| entry.client.client_id.to_string()))
}

/// `GET /authorize/signin?interaction=…`.
pub(crate) async fn page(
    State(app): State<Arc<Authorization>>,
    Query(q): Query<Interaction>,
) -> Result<Response, UserPage> {
    let request = flow::kept(&app, &q.interaction).await?;
    let name = client_name(&app, &request.client_id).await?;
    let token = random_token().map_err(|_| UserPage::internal(&"the random generator failed"))?;
    let login = app.sessions.cookies().login;
    let set = app.sessions.set_cookie(login, &token, Some(FORM_SECONDS));
    let form = pages::sign_in(&q.interaction, &csrf_for(&token), &name, "", None);
    Ok(([(header::SET_COOKIE, set)], form).into_response())
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    interaction: String,
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    password: Option<Password>,
}

/// `POST /authorize/signin`.
pub(crate) async fn submit(
    State(app): State<Arc<Authorization>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(sent): Form<SignInForm>,
) -> Result<Response, UserPage> {
    let tied = login_form_tied(&headers, app.sessions.cookies().login, sent.csrf.as_deref());
    if !tied || !posted_from_our_pages(&headers) {
        return Err(UserPage::new(
            StatusCode::FORBIDDEN,
            "The sign-in form was refused because its security token is missing or out of date. Go back and sign in again.",
        ));
    }
    let request = flow::kept(&app, &sent.interaction).await?;
    let name = client_name(&app, &request.client_id).await?;
    let csrf = sent.csrf.as_deref().unwrap_or_default();
    let again = |status: StatusCode, message: &str| {
        (
            status,
            pages::sign_in(&sent.interaction, csrf, &name, &sent.username, Some(message)),
        )
            .into_response()
    };
    let source = app.limiter.source(peer.map(|p| p.0 .0.ip()), &headers);
    if let Some(wait) = app.limiter.refused(&sent.username, source) {
        let mut r = again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many failed sign-ins. Try again in {wait} seconds."),
        );
        r.headers_mut().insert(header::RETRY_AFTER, wait.into());
        return Ok(r);
    }
    let password = sent.password.unwrap_or_else(|| Password::new(String::new()));
    match app.ops.verify_password(&sent.username, &password).await {
        Ok(user) => {
            let set = app
                .sessions
                .start(&user.username)
                .await
                .map_err(|e| UserPage::internal(&format!("{e:?}")))?;
            let clear = app.sessions.set_cookie(app.sessions.cookies().login, "", Some(0));
            tracing::info!(username = %user.username, client_id = %request.client_id, "end-user sign-in");
            app.ops
                .record_sign_in(&user.username, source.map(|ip| ip.to_string()))
                .await;
            let mut r = Redirect::to(&format!("/authorize/continue?interaction={}", sent.interaction))
                .into_response();
            r.headers_mut().append(header::SET_COOKIE, set);
            r.headers_mut().append(header::SET_COOKIE, clear);
            Ok(r)
        }
        Err(AdminError::Storage(e)) => Err(e.into()),
        Err(_) => {
            app.limiter.failed(&sent.username, source);
            tracing::info!(username = %sent.username.chars().take(64).collect::<String>(), "end-user sign-in failed");
            Ok(again(StatusCode::UNAUTHORIZED, "Wrong username or password."))
        }
    }
}

/// `GET /authorize/continue?interaction=…`: after signing in, the kept request goes on.
pub(crate) async fn resume(
    State(app): State<Arc<Authorization>>,
    Query(q): Query<Interaction>,
    headers: HeaderMap,
) -> Result<Response, UserPage> {
    let request = flow::kept(&app, &q.interaction).await?;
    flow::proceed(&app, request, Some(q.interaction), &headers).await
}
