use std::sync::Arc;

use keyward_client_auth::{AssertionPolicy, Authenticator};
use keyward_storage::Storage;
use keyward_types::Clock;

use crate::{directory::ClientCache, keyring::Keyring, signing::SigningKeys, Config};

/// Everything a request handler can reach. Cloned per request (it is one `Arc`).
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) issuer: String,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keyring: Keyring,
    pub(crate) keys: SigningKeys,
    pub(crate) clients: ClientCache,
    pub(crate) authenticator: Authenticator,
    pub(crate) policy: AssertionPolicy,
    pub(crate) replay: crate::replay::StorageReplay,
    pub(crate) remote_keys: crate::remote_keys::CachedRemoteKeys,
    pub(crate) discovery_body: bytes::Bytes,
    /// Slots for keystore imports and key generation (admin::key_work).
    pub(crate) key_work: crate::admin::key_work::KeyWork,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
