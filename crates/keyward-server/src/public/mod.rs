//! Endpoints anyone may call: discovery, JWKS, token, health, metrics.

#[cfg(feature = "bench-baseline")]
mod baseline;
mod discovery;
pub(crate) mod form;
mod health;
mod token;

use axum::{routing::get, routing::post, Router};

pub(crate) use discovery::DiscoveryDocument;

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    let router = Router::new();
    #[cfg(feature = "bench-baseline")]
    let router = router.route("/bench/baseline", post(baseline::baseline));
    router
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
