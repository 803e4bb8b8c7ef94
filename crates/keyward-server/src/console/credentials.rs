//! The Credentials tab's authenticator and secret forms (the key forms are in
//! [`super::key_forms`]). Each calls the admin operation the JSON API calls (`update_client`,
//! `rotate_secret`) and answers with a redirect to the tab, the tab with a secret shown once, or
//! the tab with the refusal next to the field it concerns.

use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use keyward_admin::{ClientPatch, RotateRequest};
use serde::Deserialize;
use serde_json::Map;

use super::{
    client_detail::credentials_page,
    clients::path_segment,
    error_page::ErrorPage,
    fields::{seconds_or_null, text_or_null},
    form::ConsoleForm,
    problem::Problem,
    session::SignedIn,
    shown::Shown,
    Console,
};

pub(super) fn back(id: &str, done: &str) -> Response {
    Redirect::to(&format!(
        "/console/clients/{}/credentials?done={done}",
        path_segment(id)
    ))
    .into_response()
}

/// The tab again, with `problem` above or beside the form `origin`.
pub(super) async fn refused(
    console: &Console,
    session: &SignedIn,
    id: &str,
    origin: &str,
    problem: Problem,
) -> Result<Response, ErrorPage> {
    let entry = console.ops.client(id).await?;
    let shown = Shown {
        problem: Some(&problem),
        origin: Some(origin),
        ..Shown::default()
    };
    let page = credentials_page(console, &entry, session, &shown);
    Ok((problem.status, page).into_response())
}

/// The tab with a secret shown this once.
async fn with_secret(
    console: &Console,
    session: &SignedIn,
    id: &str,
    label: &str,
    secret: &str,
    notice: &str,
) -> Result<Response, ErrorPage> {
    let entry = console.ops.client(id).await?;
    let shown = Shown {
        notice: Some(notice),
        once: Some((label, secret)),
        ..Shown::default()
    };
    let page = credentials_page(console, &entry, session, &shown);
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

#[derive(Deserialize)]
pub(crate) struct AuthenticatorForm {
    #[serde(default)]
    token_endpoint_auth_method: String,
    #[serde(default)]
    token_endpoint_auth_signing_alg: String,
}

/// `POST …/authenticator`: switch the client authenticator (and the pinned algorithm).
pub(crate) async fn switch_authenticator(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, form }: ConsoleForm<AuthenticatorForm>,
) -> Result<Response, ErrorPage> {
    let mut patch = Map::new();
    patch.insert(
        "token_endpoint_auth_method".into(),
        text_or_null(&form.token_endpoint_auth_method),
    );
    patch.insert(
        "token_endpoint_auth_signing_alg".into(),
        text_or_null(&form.token_endpoint_auth_signing_alg),
    );
    match console
        .ops
        .update_client(&session.actor(), &id, ClientPatch(patch))
        .await
    {
        Ok(updated) => match updated.secret {
            Some(secret) => {
                with_secret(
                    &console,
                    &session,
                    &id,
                    "New client secret",
                    secret.expose(),
                    "Client authenticator changed; it needed a new secret.",
                )
                .await
            }
            None => Ok(back(&id, "authenticator")),
        },
        Err(e) => refused(&console, &session, &id, "authenticator", Problem::from(&e)).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct RegenerateForm {
    #[serde(default)]
    grace_period_seconds: String,
}

/// `POST …/secret`: Keycloak's "Regenerate", with an optional grace period.
pub(crate) async fn regenerate_secret(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, form }: ConsoleForm<RegenerateForm>,
) -> Result<Response, ErrorPage> {
    let grace = match seconds_or_null::<u64>("grace_period_seconds", &form.grace_period_seconds) {
        Ok(v) => v.as_u64(),
        Err(p) => return refused(&console, &session, &id, "secret", p).await,
    };
    let request = RotateRequest {
        grace_period_seconds: grace,
    };
    match console.ops.rotate_secret(&session.actor(), &id, request).await {
        Ok(rotated) => {
            let notice = match rotated.previous_secret_expires_at {
                Some(until) => format!(
                    "Secret regenerated. The previous secret works until {}.",
                    keyward_admin::rfc3339(until)
                ),
                None => "Secret regenerated. The previous secret no longer works.".to_owned(),
            };
            with_secret(
                &console,
                &session,
                &id,
                "New client secret",
                rotated.secret.expose(),
                &notice,
            )
            .await
        }
        Err(e) => refused(&console, &session, &id, "secret", Problem::from(&e)).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct LifetimeForm {
    #[serde(default)]
    client_secret_lifetime: String,
}

/// `POST …/secret-lifetime`: how long the client's next secrets live.
pub(crate) async fn secret_lifetime(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, form }: ConsoleForm<LifetimeForm>,
) -> Result<Response, ErrorPage> {
    let value = match seconds_or_null::<u64>("client_secret_lifetime", &form.client_secret_lifetime) {
        Ok(v) => v,
        Err(p) => return refused(&console, &session, &id, "lifetime", p).await,
    };
    let mut patch = Map::new();
    patch.insert("client_secret_lifetime".into(), value);
    match console
        .ops
        .update_client(&session.actor(), &id, ClientPatch(patch))
        .await
    {
        Ok(_) => Ok(back(&id, "lifetime")),
        Err(e) => refused(&console, &session, &id, "lifetime", Problem::from(&e)).await,
    }
}
