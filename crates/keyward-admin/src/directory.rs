//! The token path's view of clients: an in-memory cache over storage, invalidated by every
//! admin operation ([`crate::AdminOps`]) and by other nodes' changes from the feed, so a token
//! request for a known client does no database round trip.
//!
//! The cache is bounded by a count of clients (`client_cache_capacity`) and evicts one client
//! at a time by quick_cache's S3-FIFO policy, so a burst of one-off clients does not push out
//! the ones that ask for tokens all day. Concurrent misses for one client share a single load.
//!
//! Entries also have a maximum age (`cache_max_age_seconds`, by the injected [`Clock`]): one
//! older than that is read again on its next use. Invalidation depends on a notification
//! arriving; the age bounds how long a node can serve a disabled client, a deleted credential or
//! a rotated secret when one never does (a silently dropped listening connection).

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use async_trait::async_trait;
use keyward_client_auth::{ClientDirectory, DirectoryError};
use keyward_storage::Storage;
use keyward_types::{ClientEntry, ClientId, Clock};
use quick_cache::sync::Cache;
use time::{Duration, OffsetDateTime};

/// A cached client and when it was read from storage.
#[derive(Clone)]
struct Cached {
    entry: Arc<ClientEntry>,
    loaded_at: OffsetDateTime,
}

/// How old an entry may get, by which clock.
struct MaxAge {
    clock: Arc<dyn Clock>,
    age: Duration,
}

pub struct Directory {
    storage: Arc<dyn Storage>,
    entries: Cache<ClientId, Cached>,
    /// `None`: entries live until invalidated or evicted.
    max_age: Option<MaxAge>,
    /// Bumped by every invalidation. A load that started before one must not stay cached, or a
    /// change made while it read could be overwritten by the older value.
    generation: AtomicU64,
    /// Storage reads made on a miss (also the `keyward_client_cache_loads_total` metric).
    loads: AtomicU64,
}

impl Directory {
    pub fn new(storage: Arc<dyn Storage>, capacity: usize) -> Self {
        Self {
            storage,
            // quick_cache panics on a zero capacity; one client is the smallest cache there is.
            entries: Cache::new(capacity.max(1)),
            max_age: None,
            generation: AtomicU64::new(0),
            loads: AtomicU64::new(0),
        }
    }

    /// Entries older than `max_age` by `clock` are read again on their next use.
    pub fn with_max_age(mut self, clock: Arc<dyn Clock>, max_age: Duration) -> Self {
        self.max_age = Some(MaxAge { clock, age: max_age });
        self
    }

    /// The time a load starts, when entries age.
    fn now(&self) -> Option<OffsetDateTime> {
        self.max_age.as_ref().map(|m| m.clock.now())
    }

    fn is_fresh(&self, cached: &Cached) -> bool {
        self.max_age
            .as_ref()
            .is_none_or(|m| m.clock.now() - cached.loaded_at < m.age)
    }

    pub(crate) fn invalidate(&self, client_id: &ClientId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.remove(client_id);
    }

    /// Drops every entry (another node's changes may have been missed).
    pub(crate) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }

    #[cfg(test)]
    fn loads(&self) -> u64 {
        self.loads.load(Ordering::SeqCst)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[async_trait]
impl ClientDirectory for Directory {
    async fn find(&self, client_id: &ClientId) -> Result<Option<Arc<ClientEntry>>, DirectoryError> {
        // Other misses for this client wait here for the first one's load; if that load finds
        // nothing or is dropped, the next waiter loads for itself. An entry past its age is
        // removed (only if it is still the one seen) and loaded like a miss.
        let guard = loop {
            match self.entries.get_value_or_guard_async(client_id).await {
                Ok(hit) if self.is_fresh(&hit) => return Ok(Some(hit.entry)),
                Ok(old) => {
                    self.entries
                        .remove_if(client_id, |c| Arc::ptr_eq(&c.entry, &old.entry));
                }
                Err(guard) => break guard,
            }
        };
        // The age counts from before the read: what the read returns is at least that new.
        let loaded_at = self.now().unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let generation = self.generation.load(Ordering::SeqCst);
        self.loads.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("keyward_client_cache_loads_total").increment(1);
        let loaded = self
            .storage
            .load_client(client_id)
            .await
            .map_err(|e| DirectoryError(Box::new(e)))?
            .map(Arc::new);
        if let Some(entry) = &loaded {
            if self.generation.load(Ordering::SeqCst) == generation {
                let _ = guard.insert(Cached {
                    entry: entry.clone(),
                    loaded_at,
                });
                // An invalidation between the check and the insert found nothing to remove;
                // seen now, the entry goes. Either order leaves no stale entry behind.
                if self.generation.load(Ordering::SeqCst) != generation {
                    self.entries.remove(client_id);
                }
            }
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests;
