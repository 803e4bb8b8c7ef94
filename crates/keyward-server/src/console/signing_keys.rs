//! The server's token-signing keys: the active one, the retired ones still published until
//! the tokens they signed expire, and rotation.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use keyward_admin::SigningKeyState;
use maud::html;
use serde::Deserialize;

use super::{
    error_page::ErrorPage,
    form::ConsoleForm,
    layout::{self, Nav},
    problem::Problem,
    session::SignedIn,
    Console,
};

#[derive(Deserialize, Default)]
pub(crate) struct Done {
    done: Option<String>,
}

async fn render(
    console: &Console,
    session: &SignedIn,
    notice: Option<&str>,
    problem: Option<&Problem>,
) -> Result<Response, ErrorPage> {
    let keys = console.ops.signing_keys().await?;
    let body = html! {
        h1 { "Signing keys" }
        p { "The active key signs access tokens; a replaced key stays published at " code { "/jwks" } " until every token it signed has expired." }
        (layout::notice(notice))
        @if let Some(p) = problem { p.error role="alert" { (p.message) } }
        div.table-wrap {
            table.stack #signing-keys {
                thead { tr { th { "Key ID" } th { "Algorithm" } th { "Created" } th { "State" } } }
                tbody {
                    @for k in &keys {
                        tr {
                            td.mono data-label="Key ID" { (k.kid) }
                            td data-label="Algorithm" { (k.alg) }
                            td data-label="Created" { (layout::when(k.created_at)) }
                            td data-label="State" {
                                @match k.state {
                                    SigningKeyState::Active => span.badge { "active (signs new tokens)" },
                                    SigningKeyState::Retiring { until } => { span.badge.off { "retired" } " published until " (layout::when(until)) },
                                    SigningKeyState::Retired { since } => { span.badge.off { "retired" } " unpublished since " (layout::when(since)) },
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action="/console/signing-keys/rotate"
            data-confirm="Rotate the signing key? New tokens are signed with a new key; existing tokens stay valid." {
            (layout::csrf(session))
            button type="submit" { "Rotate signing key" }
        }
    };
    let status = problem.map_or(axum::http::StatusCode::OK, |p| p.status);
    Ok((
        status,
        layout::page("Signing keys", session, Nav::SigningKeys, body),
    )
        .into_response())
}

/// `GET /console/signing-keys`.
pub(crate) async fn list(
    State(console): State<Console>,
    session: SignedIn,
    Query(q): Query<Done>,
) -> Result<Response, ErrorPage> {
    let notice = (q.done.as_deref() == Some("rotated")).then_some("Signing key rotated.");
    render(&console, &session, notice, None).await
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

/// `POST /console/signing-keys/rotate`.
pub(crate) async fn rotate(
    State(console): State<Console>,
    ConsoleForm { session, .. }: ConsoleForm<Empty>,
) -> Result<Response, ErrorPage> {
    match console.ops.rotate_signing_key(&session.actor(), None).await {
        Ok(_) => Ok(Redirect::to("/console/signing-keys?done=rotated").into_response()),
        Err(e) => render(&console, &session, None, Some(&Problem::from(&e))).await,
    }
}
