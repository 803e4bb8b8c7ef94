//! The client's own JWKS endpoint: what a keyward or Keycloak server fetches from the client's
//! `jwks_uri`. During a rotation the config holds a current and a next key and both are served,
//! so the server knows the next key before the client signs with it.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{
    extract::State,
    http::header::{CACHE_CONTROL, CONTENT_TYPE},
    response::IntoResponse,
    routing::get,
    Router,
};
use keyward_client::TokenClient;

/// Keycloak's adapters publish the client's keys here.
pub(crate) const KEYCLOAK_PATH: &str = "/k_jwks";
pub(crate) const WELL_KNOWN_PATH: &str = "/.well-known/jwks.json";

pub(crate) async fn run(client: TokenClient, listen: &str) -> anyhow::Result<()> {
    if client.jwks().keys.is_empty() {
        anyhow::bail!(
            "{} has no keys to publish (only private_key_jwt does)",
            client.auth().method()
        );
    }
    let app = Router::new()
        .route(KEYCLOAK_PATH, get(jwks))
        .route(WELL_KNOWN_PATH, get(jwks))
        .with_state(Arc::new(client));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    eprintln!("serving the client's JWKS at http://{addr}{KEYCLOAK_PATH} and http://{addr}{WELL_KNOWN_PATH}");
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::shutdown_signal())
        .await?;
    Ok(())
}

async fn jwks(State(client): State<Arc<TokenClient>>) -> impl IntoResponse {
    let body = serde_json::to_string(&client.jwks()).unwrap_or_else(|_| "{\"keys\":[]}".into());
    (
        [
            (CONTENT_TYPE, "application/jwk-set+json"),
            // Short: a rotation's next key should reach the server soon.
            (CACHE_CONTROL, "max-age=60"),
        ],
        body,
    )
}
