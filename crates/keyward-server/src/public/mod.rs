//! Endpoints anyone may call: discovery, JWKS, token, health. (`/metrics` is not one of them:
//! see `metrics::listener`.)

#[cfg(feature = "bench-baseline")]
mod baseline;
mod discovery;
pub(crate) mod form;
mod health;
mod openapi;
pub(crate) mod openapi_schemas;
mod token;

use std::sync::Arc;

use axum::{extract::FromRef, routing::get, routing::post, Router};

pub(crate) use discovery::{Discovery, DiscoveryDocument};
pub(crate) use form::read_form_bytes;
pub(crate) use health::Health;
pub(crate) use openapi::PublicApi;
pub(crate) use token::{authenticate_client, TokenEndpoint};

use crate::{admin::ApiDocument, signing::SigningKeys};

/// The public routes, for any router state that holds the parts their handlers take.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Discovery: FromRef<S>,
    Health: FromRef<S>,
    Arc<SigningKeys>: FromRef<S>,
    Arc<TokenEndpoint>: FromRef<S>,
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
