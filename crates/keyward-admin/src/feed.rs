//! Changes other nodes made (DESIGN.md "Storage"): what the storage's change feed reports is
//! dropped from this node's client directory and JWKS URL key cache. A gap in the feed arrives
//! as `Change::All`, which drops everything, so a missed notification never leaves a stale
//! client or key behind.

use keyward_storage::Change;
use keyward_types::ClientId;

use crate::AdminOps;

impl AdminOps {
    /// Drops what `change` made stale here. Signing keys are the server's to reload.
    pub async fn apply_change(&self, change: &Change) {
        match change {
            Change::Client { client_id } => match ClientId::parse(client_id) {
                Ok(id) => self.directory.invalidate(&id),
                Err(_) => self.directory.clear(),
            },
            Change::JwksCache { client_id: None } => {
                self.remote_keys.clear_all();
            }
            Change::JwksCache { client_id: Some(id) } => self.clear_jwks_of(id).await,
            // Signing keys are the server's to reload; users and sessions are read from storage
            // on every use, so nothing here holds them.
            Change::SigningKeys | Change::User { .. } => {}
            Change::All => {
                self.directory.clear();
                self.remote_keys.clear_all();
            }
        }
    }

    async fn clear_jwks_of(&self, raw_id: &str) {
        let uri = match ClientId::parse(raw_id) {
            Ok(id) => self
                .storage
                .load_client(&id)
                .await
                .ok()
                .flatten()
                .and_then(|e| e.client.jwks_uri),
            Err(_) => None,
        };
        match uri {
            Some(uri) => {
                self.remote_keys.clear(&uri);
            }
            // Cannot tell which URL: clearing all is the safe side.
            None => {
                self.remote_keys.clear_all();
            }
        }
    }
}
