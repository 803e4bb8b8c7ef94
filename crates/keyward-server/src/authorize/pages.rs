//! The pages an end user sees: sign-in, consent, sign-out, and errors. They use the console's
//! stylesheet and no script at all; maud escapes every value.

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use maud::{html, Markup};

use crate::console::bare_page;

/// An authorization error that must not be redirected, or a failure of the server.
#[derive(Debug)]
pub(crate) struct UserPage {
    status: StatusCode,
    message: String,
}

impl UserPage {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The server's fault: the cause is logged, the user sees a plain sentence.
    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "authorization endpoint: internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on the server; it was logged. Try again later.",
        )
    }
}

impl From<keyward_storage::StorageError> for UserPage {
    fn from(e: keyward_storage::StorageError) -> Self {
        match e {
            keyward_storage::StorageError::Unavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is unavailable for a moment. Try again.",
            ),
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for UserPage {
    fn into_response(self) -> Response {
        let body = html! {
            h1 { "We cannot continue" }
            p.error role="alert" { (self.message) }
            p { "Go back to the application you came from and start again." }
        };
        (self.status, bare_page("Cannot continue", body)).into_response()
    }
}

/// The sign-in form of an authorization request.
pub(crate) fn sign_in(
    interaction: &str,
    csrf: &str,
    client_name: &str,
    username: &str,
    error: Option<&str>,
) -> Html<String> {
    let body = html! {
        h1 { "Sign in" }
        p { "to continue to " strong { (client_name) } }
        @if let Some(e) = error { p.error role="alert" id="signin-error" { (e) } }
        form method="post" action="/authorize/signin" {
            input type="hidden" name="interaction" value=(interaction);
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
    bare_page("Sign in", body)
}

/// What each scope lets the application do, in words.
fn scope_words(scope: &str) -> String {
    match scope {
        "openid" => "Know who you are (your user id)".into(),
        "profile" => "See your name and username".into(),
        "email" => "See your email address".into(),
        "offline_access" => "Keep access while you are away (a refresh token)".into(),
        other => format!("Use the permission \u{201c}{other}\u{201d}"),
    }
}

/// The consent page: which application asks for what, for whom.
pub(crate) fn consent(
    interaction: &str,
    csrf: &str,
    client_name: &str,
    username: &str,
    scopes: &[&str],
) -> Html<String> {
    let body = html! {
        h1 { "Allow access?" }
        p { strong { (client_name) } " asks to:" }
        ul.scopes {
            @for s in scopes { li { (scope_words(s)) } }
        }
        p { "Signed in as " strong { (username) } "." }
        form method="post" action="/authorize/consent" {
            input type="hidden" name="interaction" value=(interaction);
            input type="hidden" name="csrf" value=(csrf);
            div.actions {
                button type="submit" name="decision" value="allow" { "Allow" }
                " "
                button.secondary type="submit" name="decision" value="deny" { "Deny" }
            }
        }
    };
    bare_page("Allow access", body)
}

/// The question RP-initiated logout asks when it cannot tell that the application asked.
pub(crate) fn confirm_sign_out(csrf: &str, hidden: &[(&str, &str)]) -> Html<String> {
    let body = html! {
        h1 { "Sign out?" }
        p { "Do you want to sign out of keyward?" }
        form method="post" action="/logout/confirm" {
            input type="hidden" name="csrf" value=(csrf);
            @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
            button type="submit" { "Sign out" }
        }
    };
    bare_page("Sign out", body)
}

pub(crate) fn signed_out() -> Html<String> {
    let body: Markup = html! {
        h1 { "You are signed out" }
        p { "You can close this window." }
    };
    bare_page("Signed out", body)
}
