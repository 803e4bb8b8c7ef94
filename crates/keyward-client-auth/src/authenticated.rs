use std::sync::Arc;

use keyward_types::{AuthMethod, Client, ClientEntry};

/// Proof that a client authenticated at this request. Its constructor is private to this crate,
/// so a grant handler that takes `&AuthenticatedClient` cannot be reached without passing an
/// authenticator first.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    entry: Arc<ClientEntry>,
    method: AuthMethod,
}

impl AuthenticatedClient {
    pub(crate) fn new(entry: Arc<ClientEntry>, method: AuthMethod) -> Self {
        Self { entry, method }
    }

    pub fn client(&self) -> &Client {
        &self.entry.client
    }

    /// The method the client proved itself with.
    pub fn method(&self) -> &AuthMethod {
        &self.method
    }
}
