//! The consent page: the signed-in user allows (remembered per user and client, for the scope
//! allowed) or denies (`access_denied` to the client). Its form carries the session's CSRF token.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use keyward_types::{ClientId, Scope};
use serde::Deserialize;

use super::{
    flow, pages,
    pages::UserPage,
    posted_from_our_pages,
    signin::{self, Interaction},
    Authorization,
};
use crate::console::sha256_hex;

/// `GET /authorize/consent?interaction=…`.
pub(crate) async fn page(
    State(app): State<Arc<Authorization>>,
    Query(q): Query<Interaction>,
    headers: HeaderMap,
) -> Result<Response, UserPage> {
    let request = flow::kept(&app, q.id()).await?;
    let Some(session) = app.user_session(&headers).await? else {
        return Ok(Redirect::to(&format!("/authorize/signin?interaction={}", q.id())).into_response());
    };
    let name = signin::client_name(&app, &request.client_id).await?;
    let scopes: Vec<&str> = request.scope.iter().collect();
    Ok(pages::consent(q.id(), &session.csrf, &name, &session.record.username, &scopes).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ConsentForm {
    interaction: String,
    csrf: Option<String>,
    decision: Option<String>,
}

/// `POST /authorize/consent`.
pub(crate) async fn submit(
    State(app): State<Arc<Authorization>>,
    headers: HeaderMap,
    Form(sent): Form<ConsentForm>,
) -> Result<Response, UserPage> {
    let session = app.user_session(&headers).await?;
    let tied = session
        .as_ref()
        .is_some_and(|s| s.csrf_matches(sent.csrf.as_deref()));
    let Some(session) = session.filter(|_| tied && posted_from_our_pages(&headers)) else {
        return Err(UserPage::new(
            StatusCode::FORBIDDEN,
            "The consent form was refused because its security token is missing or out of date.",
        ));
    };
    let request = flow::kept(&app, &sent.interaction).await?;
    // A request still waiting for a (new) sign-in cannot be answered by an older session.
    if !flow::fresh(&app, &session, &request, true) {
        return Ok(
            Redirect::to(&format!("/authorize/signin?interaction={}", sent.interaction)).into_response(),
        );
    }
    let taken = app
        .storage
        .take_pending_request(&sha256_hex(&sent.interaction), app.now())
        .await?;
    if taken.is_none() {
        return Err(UserPage::bad_request(
            "This request was already answered or has expired.",
        ));
    }
    let username = session.record.username.clone();
    if sent.decision.as_deref() != Some("allow") {
        tracing::info!(username, client_id = %request.client_id, "consent denied");
        return Ok(flow::error_redirect(
            &app,
            &request,
            "access_denied",
            "the user denied access",
        ));
    }
    let client_id = ClientId::parse(&request.client_id).map_err(|e| UserPage::internal(&e))?;
    let before = app.storage.consent(&username, &client_id).await?;
    let joined = match before {
        Some(b) => format!("{b} {}", request.scope),
        None => request.scope.to_string(),
    };
    let scope = Scope::parse(joined.trim()).map_err(|e| UserPage::internal(&e))?;
    app.storage
        .save_consent(&username, &client_id, &scope, app.now())
        .await?;
    tracing::info!(username, client_id = %request.client_id, scope = %request.scope, "consent given");
    flow::issue_code(&app, &request, &username, session.record.created_at).await
}
