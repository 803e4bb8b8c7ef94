//! The admin API (DESIGN.md "Interfaces"): bearer tokens with scope `keyward:admin`, JSON,
//! RFC 7591 field names. Every change is written together with its audit event.

mod audit;
mod auth;
mod changes;
mod clients;
mod credential_generate;
mod credential_keys;
mod credentials;
mod inline_jwks;
mod json_body;
pub(crate) mod key_work;
mod keys_cache;
mod metadata;
mod openapi;
mod secret;

use axum::{
    routing::{get, post},
    Router,
};

pub(crate) use auth::Admin;

use crate::state::AppState;

pub(crate) const ADMIN_SCOPE: &str = "keyward:admin";
pub(crate) const BOOTSTRAP_CLIENT: &str = "keyward-admin";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/clients", post(clients::create).get(clients::list))
        .route(
            "/admin/clients/{client_id}",
            get(clients::read).patch(clients::update).delete(clients::delete),
        )
        .route("/admin/clients/{client_id}/secret", post(secret::rotate))
        .route(
            "/admin/clients/{client_id}/credentials",
            get(credentials::list).post(credential_keys::import),
        )
        .route(
            "/admin/clients/{client_id}/credentials/generate",
            post(credential_generate::generate),
        )
        .route(
            "/admin/clients/{client_id}/credentials/{credential_id}",
            axum::routing::patch(credentials::update).delete(credentials::delete),
        )
        .route("/admin/clients/{client_id}/jwks", get(keys_cache::show))
        .route("/admin/keys-cache/clear", post(keys_cache::clear))
        .route("/admin/audit", get(audit::list))
        .route("/admin/openapi.json", get(openapi::document))
}
