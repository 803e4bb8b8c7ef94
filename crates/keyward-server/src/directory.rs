//! The token path's view of clients: an in-memory cache over storage, invalidated on every
//! admin change, so a token request for a known client does no database round trip.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use async_trait::async_trait;
use keyward_client_auth::{ClientDirectory, DirectoryError};
use keyward_storage::Storage;
use keyward_types::{ClientEntry, ClientId};
use parking_lot::RwLock;

pub(crate) struct ClientCache {
    storage: Arc<dyn Storage>,
    entries: RwLock<HashMap<ClientId, Arc<ClientEntry>>>,
    /// Bumped by every invalidation. A load that started before one must not be cached, or a
    /// change made while it read could be overwritten by the older value.
    generation: AtomicU64,
    capacity: usize,
}

impl ClientCache {
    pub(crate) fn new(storage: Arc<dyn Storage>, capacity: usize) -> Self {
        Self {
            storage,
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
            capacity,
        }
    }

    pub(crate) fn invalidate(&self, client_id: &ClientId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.write().remove(client_id);
    }

    /// Drops every entry (another node's changes may have been missed).
    pub(crate) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.write().clear();
    }
}

#[async_trait]
impl ClientDirectory for ClientCache {
    async fn find(&self, client_id: &ClientId) -> Result<Option<Arc<ClientEntry>>, DirectoryError> {
        if let Some(hit) = self.entries.read().get(client_id) {
            return Ok(Some(hit.clone()));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let loaded = self
            .storage
            .load_client(client_id)
            .await
            .map_err(|e| DirectoryError(e.to_string()))?
            .map(Arc::new);
        if let Some(entry) = &loaded {
            let mut map = self.entries.write();
            if self.generation.load(Ordering::SeqCst) == generation {
                if map.len() >= self.capacity {
                    // Crude but bounded: a full cache starts over rather than grow.
                    map.clear();
                }
                map.insert(client_id.clone(), entry.clone());
            }
        }
        Ok(loaded)
    }
}
