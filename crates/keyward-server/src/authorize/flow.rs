//! Where a valid authorization request goes next: to the sign-in page, to the consent page, or
//! back to the client with a code. A request that has to wait for the user is kept on the server
//! as an *interaction* (a pending request with a random id), so its parameters cannot be changed
//! between the pages.

use axum::{
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use keyward_storage::{CodeRecord, PendingRequest};
use keyward_types::{ClientEntry, ClientId};
use std::sync::Arc;
use time::Duration;

use super::{
    pages::UserPage,
    request::{AuthRequest, Prompt},
    Authorization,
};
use crate::console::{random_token, sha256_hex, LiveSession};

/// How long a code may wait for its exchange (DESIGN.md: ≤ 60 s).
pub(crate) const CODE_SECONDS: i64 = 60;
/// How long a user has to sign in and consent.
const INTERACTION_SECONDS: i64 = 600;

/// Continues `request`; `interaction` is its id when it is already kept on the server.
pub(crate) async fn proceed(
    app: &Authorization,
    request: AuthRequest,
    interaction: Option<String>,
    headers: &HeaderMap,
) -> Result<Response, UserPage> {
    let entry = app.client(&request.client_id).await?;
    let session = app.user_session(headers).await?;
    let session = session.filter(|s| fresh(app, s, &request, interaction.is_some()));
    let Some(session) = session else {
        if request.prompt == Prompt::None {
            return Ok(error_redirect(
                app,
                &request,
                "login_required",
                "the user is not signed in",
            ));
        }
        let id = keep(app, &request, interaction).await?;
        return Ok(Redirect::to(&format!("/authorize/signin?interaction={id}")).into_response());
    };
    let username = session.record.username.clone();
    if needs_consent(app, &entry, &request, &username).await? {
        if request.prompt == Prompt::None {
            return Ok(error_redirect(
                app,
                &request,
                "consent_required",
                "the user has not consented",
            ));
        }
        let id = keep(app, &request, interaction).await?;
        return Ok(Redirect::to(&format!("/authorize/consent?interaction={id}")).into_response());
    }
    if let Some(id) = interaction {
        if app
            .storage
            .take_pending_request(&sha256_hex(&id), app.now())
            .await?
            .is_none()
        {
            return Err(UserPage::bad_request(
                "This sign-in was already completed or has expired.",
            ));
        }
    }
    issue_code(app, &request, &username, session.record.created_at).await
}

/// Whether the session satisfies the request: a sign-in made for this request (after it
/// reached keyward) always does; otherwise `prompt=login` wants one, and `max_age` a recent one
/// (so `max_age=0` asks once, not in a loop).
pub(crate) fn fresh(
    app: &Authorization,
    s: &LiveSession,
    request: &AuthRequest,
    from_interaction: bool,
) -> bool {
    if from_interaction && s.record.created_at >= request.requested_at {
        return true;
    }
    if request.prompt == Prompt::Login {
        return false;
    }
    match request.max_age {
        Some(max) => {
            app.now() - s.record.created_at <= Duration::seconds(i64::try_from(max).unwrap_or(i64::MAX))
        }
        None => true,
    }
}

async fn needs_consent(
    app: &Authorization,
    entry: &ClientEntry,
    request: &AuthRequest,
    username: &str,
) -> Result<bool, UserPage> {
    if entry.client.first_party {
        return Ok(false);
    }
    if request.prompt == Prompt::Consent {
        return Ok(true);
    }
    let given = app.storage.consent(username, &entry.client.client_id).await?;
    Ok(!given.is_some_and(|g| request.scope.is_subset_of(&g)))
}

/// The interaction id of `request`: the one it has, or a new one for it.
async fn keep(
    app: &Authorization,
    request: &AuthRequest,
    interaction: Option<String>,
) -> Result<String, UserPage> {
    if let Some(id) = interaction {
        return Ok(id);
    }
    let id = random_token().map_err(|_| UserPage::internal(&"the random generator failed"))?;
    let client_id = ClientId::parse(&request.client_id).map_err(|e| UserPage::internal(&e))?;
    let params = serde_json::to_string(request).map_err(|e| UserPage::internal(&e))?;
    app.storage
        .insert_pending_request(&PendingRequest {
            id_hash: sha256_hex(&id),
            client_id,
            params,
            expires_at: app.now() + Duration::seconds(INTERACTION_SECONDS),
        })
        .await?;
    Ok(id)
}

/// The kept request `id`, if it is still waiting.
pub(crate) async fn kept(app: &Authorization, id: &str) -> Result<AuthRequest, UserPage> {
    let pending = app
        .storage
        .load_pending_request(&sha256_hex(id), app.now())
        .await?
        .ok_or_else(|| UserPage::bad_request("This sign-in took too long or was already completed."))?;
    serde_json::from_str(&pending.params).map_err(|e| UserPage::internal(&e))
}

/// A new code for `username`, sent to the client (RFC 6749 §4.1.2, RFC 9207 `iss`).
pub(crate) async fn issue_code(
    app: &Authorization,
    request: &AuthRequest,
    username: &str,
    auth_time: time::OffsetDateTime,
) -> Result<Response, UserPage> {
    let code = random_token().map_err(|_| UserPage::internal(&"the random generator failed"))?;
    let grant_id = crate::access_token::token_id().map_err(|e| UserPage::internal(&e))?;
    let client_id = ClientId::parse(&request.client_id).map_err(|e| UserPage::internal(&e))?;
    app.storage
        .insert_code(&CodeRecord {
            code_hash: sha256_hex(&code),
            grant_id,
            client_id,
            username: username.to_owned(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            auth_time,
            expires_at: app.now() + Duration::seconds(CODE_SECONDS),
        })
        .await?;
    tracing::info!(client_id = %request.client_id, username, scope = %request.scope, "authorization code issued");
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", &app.issuer));
    Ok(Redirect::to(&with_query(&request.redirect_uri, &params)).into_response())
}

/// An OAuth error back to the client (RFC 6749 §4.1.2.1), with `state` and `iss`.
pub(crate) fn error_redirect(
    app: &Authorization,
    request: &AuthRequest,
    error: &str,
    description: &str,
) -> Response {
    redirect_error(
        app,
        &request.redirect_uri,
        request.state.as_deref(),
        error,
        description,
    )
}

/// As [`error_redirect`], before the request is whole (only its redirect URI is known good).
pub(crate) fn redirect_error(
    app: &Authorization,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    tracing::info!(error, description, "authorization request refused");
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", &app.issuer));
    Redirect::to(&with_query(redirect_uri, &params)).into_response()
}

/// `uri` with `params` added to its query (a registered URI may have one of its own).
pub(crate) fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = String::from(uri);
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    out.push(if uri.contains('?') { '&' } else { '?' });
    out.push_str(&encoded);
    out
}

impl Authorization {
    /// The client of a kept or validated request; gone or disabled since is a page.
    pub(crate) async fn client(&self, client_id: &str) -> Result<Arc<ClientEntry>, UserPage> {
        let id = ClientId::parse(client_id)
            .map_err(|_| UserPage::bad_request("the application is not known to keyward"))?;
        self.find_client(&id)
            .await?
            .filter(|e| e.client.enabled)
            .ok_or_else(|| UserPage::bad_request("the application is not known to keyward, or is disabled"))
    }
}
