//! The Settings tab's forms: change a client's metadata, delete it.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use keyward_admin::ClientPatch;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    client_detail::{settings_page, GRANTS},
    clients::path_segment,
    error_page::ErrorPage,
    fields::{seconds_or_null, text_or_null},
    form::ConsoleForm,
    problem::Problem,
    session::SignedIn,
    shown::Shown,
    Console,
};

#[derive(Deserialize)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    client_name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    access_token_lifetime: String,
    #[serde(default)]
    max_assertion_lifetime: String,
    enabled: Option<String>,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    first_party: Option<String>,
    require_pushed_authorization_requests: Option<String>,
    /// Set by the form that shows the grant checkboxes: only then do unchecked boxes mean
    /// "remove" (a form without them leaves the grant types alone).
    grant_types_shown: Option<String>,
    grant_client_credentials: Option<String>,
    grant_authorization_code: Option<String>,
    grant_refresh_token: Option<String>,
}

/// A textarea of one URI per line; blank lines are ignored.
fn lines(v: &str) -> Value {
    v.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Value::String(l.to_owned()))
        .collect()
}

fn patch_of(form: &SettingsForm) -> Result<ClientPatch, Problem> {
    let mut m = Map::new();
    m.insert("client_name".into(), text_or_null(&form.client_name));
    m.insert("scope".into(), text_or_null(&form.scope));
    m.insert(
        "access_token_lifetime".into(),
        seconds_or_null::<u32>("access_token_lifetime", &form.access_token_lifetime)?,
    );
    m.insert(
        "max_assertion_lifetime".into(),
        seconds_or_null::<u32>("max_assertion_lifetime", &form.max_assertion_lifetime)?,
    );
    m.insert("enabled".into(), Value::Bool(form.enabled.is_some()));
    m.insert("redirect_uris".into(), lines(&form.redirect_uris));
    m.insert(
        "post_logout_redirect_uris".into(),
        lines(&form.post_logout_redirect_uris),
    );
    let checked = [
        &form.grant_client_credentials,
        &form.grant_authorization_code,
        &form.grant_refresh_token,
    ];
    let grants: Vec<Value> = GRANTS
        .iter()
        .zip(checked)
        .filter(|(_, on)| on.is_some())
        .map(|((grant, _), _)| Value::String((*grant).to_owned()))
        .collect();
    if form.grant_types_shown.is_some() {
        m.insert("grant_types".into(), Value::Array(grants));
    }
    m.insert("first_party".into(), Value::Bool(form.first_party.is_some()));
    m.insert(
        "require_pushed_authorization_requests".into(),
        Value::Bool(form.require_pushed_authorization_requests.is_some()),
    );
    Ok(ClientPatch(m))
}

async fn show_refused(
    console: &Console,
    session: &SignedIn,
    id: &str,
    problem: Problem,
) -> Result<Response, ErrorPage> {
    let entry = console.ops.client(id).await?;
    let shown = Shown {
        problem: Some(&problem),
        ..Shown::default()
    };
    Ok((problem.status, settings_page(&entry, session, &shown)).into_response())
}

/// `POST /console/clients/{id}/settings`.
pub(crate) async fn save_settings(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, form }: ConsoleForm<SettingsForm>,
) -> Result<Response, ErrorPage> {
    let patch = match patch_of(&form) {
        Ok(p) => p,
        Err(p) => return show_refused(&console, &session, &id, p).await,
    };
    match console.ops.update_client(&session.actor(), &id, patch).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/clients/{}?done=saved", path_segment(&id))).into_response())
        }
        Err(e) => show_refused(&console, &session, &id, Problem::from(&e)).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

/// `POST /console/clients/{id}/delete`.
pub(crate) async fn delete(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, .. }: ConsoleForm<Empty>,
) -> Result<Response, ErrorPage> {
    match console.ops.delete_client(&session.actor(), &id).await {
        Ok(()) => Ok(Redirect::to("/console/clients").into_response()),
        Err(e) => show_refused(&console, &session, &id, Problem::from(&e)).await,
    }
}
