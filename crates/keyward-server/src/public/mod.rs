//! Endpoints anyone may call: discovery, JWKS, token, health, metrics.

mod discovery;
mod form;
mod health;
mod token;

use axum::{routing::get, routing::post, Router};

pub(crate) use discovery::discovery_document;

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery::document))
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::document),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/token", post(token::token))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
}
