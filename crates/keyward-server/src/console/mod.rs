//! The admin console (DESIGN.md "Layout": a face over the admin operations): server-rendered
//! HTML under `/console`, signed in with a user of the `users` store. Every change calls the
//! same [`keyward_admin::AdminOps`] function as the JSON API, so the rules exist once; this
//! module only reads forms, renders pages and keeps the session.
//!
//! Security: sessions live in the database (every node sees a sign-out at once), the cookie is
//! `HttpOnly; SameSite=Strict` (and `Secure` on https), every state-changing form carries a
//! CSRF token tied to the session, every answer has a strict Content-Security-Policy (no inline
//! script or style), `X-Frame-Options: DENY` and `Referrer-Policy: same-origin`.

mod assets;
mod audit;
mod client_detail;
mod client_forms;
mod clients;
mod credential_panels;
mod credentials;
mod error_page;
mod fields;
mod form;
mod key_forms;
mod layout;
mod problem;
mod session;
mod shown;
mod signed_in;
mod signin;
mod signin_limit;
mod signing_keys;
mod users;

use std::sync::Arc;

use axum::{
    extract::{FromRef, Request},
    http::{header, HeaderValue},
    middleware::Next,
    response::{Redirect, Response},
    routing::{get, post},
    Router,
};
use keyward_admin::AdminOps;

pub(crate) use form::same_origin;
pub(crate) use layout::bare as bare_page;
pub(crate) use session::{
    csrf_for, login_form_tied, random_token, sha256_hex, CookieSpec, LiveSession, Sessions,
};
pub(crate) use signin_limit::SignInLimiter;

/// What the console's handlers share.
#[derive(Clone)]
pub(crate) struct Console {
    pub(crate) ops: Arc<AdminOps>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) limiter: Arc<SignInLimiter>,
}

/// The console's routes, for any router state that holds a [`Console`].
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Console: FromRef<S>,
{
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/clients") }))
        .route("/console/", get(|| async { Redirect::to("/console/clients") }))
        .route("/console/assets/{file}", get(assets::serve))
        .route("/console/login", get(signin::page).post(signin::submit))
        .route("/console/logout", post(signin::sign_out))
        .route("/console/clients", get(clients::list).post(clients::create))
        .route("/console/clients/new", get(clients::new_form))
        .route("/console/clients/{id}", get(client_detail::settings))
        .route(
            "/console/clients/{id}/settings",
            post(client_forms::save_settings),
        )
        .route("/console/clients/{id}/delete", post(client_forms::delete))
        .route(
            "/console/clients/{id}/credentials",
            get(client_detail::credentials),
        )
        .route(
            "/console/clients/{id}/authenticator",
            post(credentials::switch_authenticator),
        )
        .route(
            "/console/clients/{id}/secret",
            post(credentials::regenerate_secret),
        )
        .route(
            "/console/clients/{id}/secret-lifetime",
            post(credentials::secret_lifetime),
        )
        .route("/console/clients/{id}/keys/generate", post(key_forms::generate))
        .route("/console/clients/{id}/keys/import", post(key_forms::import))
        .route("/console/clients/{id}/jwks-uri", post(key_forms::jwks_uri))
        .route(
            "/console/clients/{id}/keys-cache/clear",
            post(key_forms::clear_cache),
        )
        .route(
            "/console/clients/{id}/credentials/{credential_id}",
            post(key_forms::change_credential),
        )
        .route("/console/users", get(users::list).post(users::create))
        .route("/console/users/{username}", post(users::change))
        .route("/console/audit", get(audit::list))
        .route("/console/signing-keys", get(signing_keys::list))
        .route("/console/signing-keys/rotate", post(signing_keys::rotate))
        .layer(axum::extract::DefaultBodyLimit::max(form::MAX_UPLOAD_BYTES))
        .layer(axum::middleware::from_fn(security_headers))
}

/// The console's content policy: its own script and style files only, no inline code, no
/// framing, forms only to itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the console's security headers to every answer under `/console`.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
