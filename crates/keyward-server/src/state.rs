//! What request handlers receive. The router's state is a set of parts; a handler extracts
//! only the part it uses (`State<Discovery>`, `State<Health>`, `State<Arc<SigningKeys>>`,
//! `State<Arc<TokenEndpoint>>`), each built from the router's state by [`FromRef`].

use std::sync::Arc;

use axum::extract::FromRef;
use bytes::Bytes;
use keyward_client_auth::{AssertionPolicy, Authenticator};
use keyward_storage::{Storage, StorageError};
use keyward_types::Clock;

use keyward_admin::{AdminOps, Directory};

use crate::{
    keyring::Keyring, remote_keys::CachedRemoteKeys, replay::StorageReplay, signing::SigningKeys, Config,
};

/// The router's state: one `Arc`, cloned per request.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Parts>);

struct Parts {
    discovery: Discovery,
    health: Health,
    token: Arc<TokenEndpoint>,
    shared: Inner,
}

/// The discovery document, rendered once at start.
#[derive(Clone)]
pub(crate) struct Discovery(pub(crate) Bytes);

/// Readiness: whether the database answers.
#[derive(Clone)]
pub(crate) struct Health(Arc<dyn Storage>);

impl Health {
    pub(crate) async fn ping(&self) -> Result<(), StorageError> {
        self.0.ping().await
    }
}

/// What `POST /token` uses: the client directory, the authenticator and what it checks
/// against, and the keys and issuer of the tokens it signs.
pub(crate) struct TokenEndpoint {
    pub(crate) issuer: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keyring: Keyring,
    pub(crate) keys: Arc<SigningKeys>,
    pub(crate) clients: Arc<Directory>,
    pub(crate) authenticator: Authenticator,
    pub(crate) policy: AssertionPolicy,
    pub(crate) replay: StorageReplay,
    pub(crate) remote_keys: CachedRemoteKeys,
}

/// The services shared by the admin API and the background tasks (change feed, key reload,
/// replay purge), which reach them through [`AppState`]'s `Deref`.
pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) issuer: String,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keyring: Keyring,
    pub(crate) keys: Arc<SigningKeys>,
    pub(crate) clients: Arc<Directory>,
    /// The admin operations (`admin` handlers extract it as `State<Arc<AdminOps>>`).
    pub(crate) admin: Arc<AdminOps>,
}

impl AppState {
    pub(crate) fn new(shared: Inner, token: TokenEndpoint, discovery: Discovery) -> Self {
        Self(Arc::new(Parts {
            discovery,
            health: Health(shared.storage.clone()),
            token: Arc::new(token),
            shared,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0.shared
    }
}

impl FromRef<AppState> for Discovery {
    fn from_ref(state: &AppState) -> Self {
        state.0.discovery.clone()
    }
}

impl FromRef<AppState> for Health {
    fn from_ref(state: &AppState) -> Self {
        state.0.health.clone()
    }
}

impl FromRef<AppState> for Arc<SigningKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.0.shared.keys.clone()
    }
}

impl FromRef<AppState> for Arc<TokenEndpoint> {
    fn from_ref(state: &AppState) -> Self {
        state.0.token.clone()
    }
}
