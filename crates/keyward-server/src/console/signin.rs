//! Signing in and out. The sign-in form is tied to the browser that loaded it by a short-lived
//! cookie and a token derived from it (so another site cannot sign a victim in to an account of
//! its choosing); a wrong username and a wrong password get the same answer after the same work.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use keyward_admin::{AdminError, Password, ADMIN_ROLE};
use maud::html;
use serde::Deserialize;

use super::{
    error_page::ErrorPage,
    form::{same_origin, ConsoleForm},
    layout,
    session::{csrf_for, login_form_tied, random_token, LOGIN_COOKIE},
    Console,
};

/// How long a loaded sign-in form stays usable.
const LOGIN_FORM_SECONDS: i64 = 1800;

fn form(csrf: &str, username: &str, error: Option<&str>) -> axum::response::Html<String> {
    let body = html! {
        h1 { "Sign in to keyward" }
        @if let Some(e) = error { p.error role="alert" id="signin-error" { (e) } }
        form method="post" action="/console/login" {
            input type="hidden" name="csrf" value=(csrf);
            div.field {
                label for="username" { "Username" }
                input #username name="username" type="text" value=(username) autocomplete="username" required autofocus;
            }
            div.field {
                label for="password" { "Password" }
                input #password name="password" type="password" autocomplete="current-password" required;
            }
            button type="submit" { "Sign in" }
        }
    };
    layout::bare("Sign in", body)
}

/// `GET /console/login`: the form, or the console for someone already signed in.
pub(crate) async fn page(State(console): State<Console>, headers: HeaderMap) -> Result<Response, ErrorPage> {
    if console.sessions.current(&headers).await?.is_some() {
        return Ok(Redirect::to("/console/clients").into_response());
    }
    let token = random_token()?;
    let set = console
        .sessions
        .set_cookie(LOGIN_COOKIE, &token, Some(LOGIN_FORM_SECONDS));
    Ok(([(header::SET_COOKIE, set)], form(&csrf_for(&token), "", None)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    password: Option<Password>,
}

/// `POST /console/login`.
pub(crate) async fn submit(
    State(console): State<Console>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(sent): Form<SignInForm>,
) -> Result<Response, ErrorPage> {
    let tied = login_form_tied(&headers, LOGIN_COOKIE, sent.csrf.as_deref());
    if !tied || !same_origin(&headers) {
        return Err(ErrorPage::forbidden(
            "the sign-in form was refused because its security token is missing or out of date; reload the page and sign in again",
        ));
    }
    let csrf = sent.csrf.as_deref().unwrap_or_default();
    let again = |status: StatusCode, message: &str| {
        (status, form(csrf, &sent.username, Some(message))).into_response()
    };
    let source = console.limiter.source(peer.map(|p| p.0 .0.ip()), &headers);
    if let Some(wait) = console.limiter.refused(&sent.username, source) {
        tracing::warn!(username = %sent.username.chars().take(64).collect::<String>(), "console sign-in refused: too many failures");
        let message = format!("Too many failed sign-ins. Try again in {wait} seconds.");
        let mut r = again(StatusCode::TOO_MANY_REQUESTS, &message);
        r.headers_mut().insert(header::RETRY_AFTER, wait.into());
        return Ok(r);
    }
    let password = sent.password.unwrap_or_else(|| Password::new(String::new()));
    let user = console.ops.verify_password(&sent.username, &password).await;
    match user {
        Ok(user) if user.roles.iter().any(|r| r == ADMIN_ROLE) => {
            let set = console.sessions.start(&user.username).await?;
            let clear = console.sessions.set_cookie(LOGIN_COOKIE, "", Some(0));
            tracing::info!(username = %user.username, "console sign-in");
            console
                .ops
                .record_sign_in(&user.username, source.map(|ip| ip.to_string()))
                .await;
            let mut r = Redirect::to("/console/clients").into_response();
            r.headers_mut().append(header::SET_COOKIE, set);
            r.headers_mut().append(header::SET_COOKIE, clear);
            Ok(r)
        }
        Ok(user) => {
            tracing::info!(username = %user.username, "console sign-in refused: no role admin");
            Ok(again(
                StatusCode::FORBIDDEN,
                "This account may not use the console (it needs role admin).",
            ))
        }
        Err(AdminError::Storage(e)) => Err(e.into()),
        Err(_) => {
            console.limiter.failed(&sent.username, source);
            tracing::info!(username = %sent.username.chars().take(64).collect::<String>(), "console sign-in failed");
            Ok(again(StatusCode::UNAUTHORIZED, "Wrong username or password."))
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct Nothing {}

/// `POST /console/logout`: deletes the session on the server, not only the cookie.
pub(crate) async fn sign_out(
    State(console): State<Console>,
    ConsoleForm { session, .. }: ConsoleForm<Nothing>,
) -> Result<Response, ErrorPage> {
    let clear = console.sessions.end(&session).await?;
    tracing::info!(username = %session.username(), "console sign-out");
    let mut r = Redirect::to("/console/login").into_response();
    r.headers_mut().insert(header::SET_COOKIE, clear);
    Ok(r)
}
