//! The admin API (DESIGN.md "Interfaces"): bearer tokens with scope `keyward:admin`, JSON,
//! RFC 7591 field names. Each handler reads its request, calls one operation of
//! [`keyward_admin::AdminOps`] (which validates, writes with the audit event and invalidates
//! caches) and shapes the answer.

mod audit;
mod auth;
mod clients;
mod credential_generate;
mod credential_keys;
mod credentials;
mod json_body;
mod keys_cache;
mod observe;
mod openapi;
mod openapi_examples;
mod openapi_schemas;
mod reject_budget;
mod secret;
mod signing_keys;
mod users;
mod views;

use std::sync::Arc;

use axum::{
    extract::FromRef,
    routing::{get, post},
    Router,
};
use keyward_admin::{AdminOps, BoxError, Limits, SecretKeys};
use keyward_types::{AuthMethod, ClientSecret, SecretHash};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

pub(crate) use auth::{Admin, AdminAuth};
pub use keyward_admin::{ADMIN_SCOPE, BOOTSTRAP_CLIENT};
pub(crate) use observe::observe;
pub(crate) use openapi::{openapi_document, ApiDocument};
pub(crate) use openapi_schemas::ErrorBody;
pub(crate) use reject_budget::RejectBudget;

use crate::{keyring::Keyring, Config};

/// The admin routes, for any router state that holds the operations and the bearer check;
/// every matched route runs behind [`observe`] (bearer check, log line, refusals counted and
/// audited), except the API description, which holds no secret.
pub(crate) fn routes<S>(state: S) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<AdminOps>: FromRef<S>,
    AdminAuth: FromRef<S>,
    ApiDocument: FromRef<S>,
{
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
        .route("/admin/signing-keys", get(signing_keys::list))
        .route("/admin/signing-keys/rotate", post(signing_keys::rotate))
        .route("/admin/users", post(users::create).get(users::list))
        .route(
            "/admin/users/{username}",
            get(users::read).patch(users::update).delete(users::delete),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, observe::<S>))
        .route("/admin/openapi.json", get(openapi_document))
}

/// Characters left as they are in a path segment: RFC 3986 §2.3 unreserved.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `collection/{id}` for a `Location` header, `id` percent-encoded as one path segment (RFC 3986
/// §3.3), so that no id, whatever rule admitted it, can add a segment, a query or a header line.
pub(crate) fn location(collection: &str, id: &str) -> String {
    format!("{collection}/{}", utf8_percent_encode(id, PATH_SEGMENT))
}

/// What admin input is checked against, from the server's configuration and the methods it runs.
pub(crate) fn limits(config: &Config, auth_methods: Vec<AuthMethod>) -> Limits {
    Limits {
        auth_methods,
        assertion_signing_algs: config.assertion_signing_algs.clone(),
        default_access_token_lifetime: config.default_access_token_lifetime,
        max_access_token_lifetime: config.max_access_token_lifetime,
        max_secret_grace_period: config.max_secret_grace_period,
        default_client_secret_lifetime: config.client_secret_lifetime_seconds,
        max_client_assertion_lifetime: config.max_client_assertion_lifetime,
        max_credentials_per_client: config.max_credentials_per_client,
        fetch: config.fetch_config(),
        token_signing_alg: config.token_signing_alg,
    }
}

impl SecretKeys for Keyring {
    fn hash(&self, secret: &ClientSecret) -> SecretHash {
        SecretHash::compute(&self.pepper, secret)
    }

    fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, BoxError> {
        Ok(Keyring::seal(self, aad, plaintext)?)
    }
}
