//! Endpoints anyone may call: discovery, JWKS, token, health. (`/metrics` is not one of them:
//! see `metrics::listener`.)

#[cfg(feature = "bench-baseline")]
mod baseline;
mod discovery;
mod health;
mod openapi;
mod token;

use std::sync::Arc;

use axum::{extract::FromRef, routing::get, routing::post, Router};

pub(crate) use discovery::{Discovery, DiscoveryDocument};
pub(crate) use health::Health;
pub(crate) use openapi::PublicApi;

use crate::{admin::ApiDocument, signing::SigningKeys};

/// The public routes, for any router state that holds the parts their handlers take.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Discovery: FromRef<S>,
    Health: FromRef<S>,
    Arc<SigningKeys>: FromRef<S>,
    Arc<crate::backchannel::TokenEndpoint>: FromRef<S>,
    ApiDocument: FromRef<S>,
{
    let router = Router::new();
    #[cfg(feature = "bench-baseline")]
    let router = router.route("/bench/baseline", post(baseline::baseline));
    router
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/token", post(token::token))
        .route("/healthz", get(health::healthz))
        .route("/openapi.json", get(crate::admin::openapi_document))
}
