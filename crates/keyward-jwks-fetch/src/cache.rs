//! The per-URL key cache: TTL, refresh ahead of expiry, single-flight refetch on unknown `kid`
//! with a cooldown, stale-if-error up to a maximum staleness.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use keyward_types::{Clock, Credential, Untrusted};
use parking_lot::{Mutex, RwLock};
use time::OffsetDateTime;

use crate::{document, guard::check_jwks_uri, http, FetchConfig, FetchError};

/// What is known of one URL's keys.
#[derive(Debug)]
pub struct CachedKeys {
    pub url: String,
    pub keys: Arc<Vec<Credential>>,
    /// Last attempt (successful or not).
    pub fetched_at: OffsetDateTime,
    /// Last successful fetch; `None` if there never was one.
    pub good_at: Option<OffsetDateTime>,
    /// Until when this is used without asking the URL again.
    pub expires_at: OffsetDateTime,
    pub last_error: Option<FetchError>,
}

impl CachedKeys {
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid == kid)
    }
}

/// The result of a lookup: keys usable now, or why there are none.
pub type Lookup = Result<Arc<CachedKeys>, FetchError>;

struct Entry {
    state: RwLock<Option<Arc<CachedKeys>>>,
    /// Held while fetching: one fetch per URL at a time.
    flight: tokio::sync::Mutex<()>,
    last_kid_refetch: Mutex<Option<OffsetDateTime>>,
    refreshing: AtomicBool,
}

pub struct JwksCache {
    config: FetchConfig,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("urls", &self.entries.lock().len())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    pub fn new(config: FetchConfig, clock: Arc<dyn Clock>) -> Result<Self, FetchError> {
        let client = http::client(&config)?;
        Ok(Self {
            config,
            client,
            clock,
            entries: Mutex::default(),
        })
    }

    /// What is cached for `url`, without fetching.
    pub fn peek(&self, url: &str) -> Option<Arc<CachedKeys>> {
        self.entries.lock().get(url).and_then(|e| e.state.read().clone())
    }

    pub fn clear(&self, url: &str) -> bool {
        self.entries.lock().remove(url).is_some()
    }

    pub fn clear_all(&self) -> usize {
        let mut map = self.entries.lock();
        let n = map.len();
        map.clear();
        n
    }

    fn entry(&self, url: &str) -> Arc<Entry> {
        self.entries
            .lock()
            .entry(url.to_owned())
            .or_insert_with(|| {
                Arc::new(Entry {
                    state: RwLock::new(None),
                    flight: tokio::sync::Mutex::new(()),
                    last_kid_refetch: Mutex::new(None),
                    refreshing: AtomicBool::new(false),
                })
            })
            .clone()
    }

    /// The keys of `url` for an assertion naming `kid` (or none). Known keys come from memory;
    /// an unknown `kid` triggers one refetch unless one ran within the cooldown.
    pub async fn keys(self: &Arc<Self>, url: &str, kid: Option<&str>) -> Lookup {
        let entry = self.entry(url);
        let now = self.clock.now();
        let current = entry.state.read().clone();
        let Some(current) = current else {
            return self.refresh(url, &entry, None).await;
        };
        if current
            .good_at
            .is_none_or(|t| now > t + self.config.max_staleness)
            && now < current.expires_at
        {
            // Failed recently and nothing usable: do not hammer the URL until expires_at.
            return Err(current.last_error.clone().unwrap_or(FetchError::Unavailable));
        }
        if now >= current.expires_at {
            return match self.refresh(url, &entry, Some(&current)).await {
                Ok(fresh) => Ok(fresh),
                Err(e) => self.stale_or(&entry, e, now),
            };
        }
        self.refresh_ahead(url, &entry, &current, now);
        match kid {
            Some(kid) if !current.has_kid(kid) => {
                self.refetch_for_unknown_kid(url, &entry, current, now).await
            }
            _ => Ok(current),
        }
    }

    /// A failed refresh: the last good set while it is within the maximum staleness.
    fn stale_or(&self, entry: &Entry, e: FetchError, now: OffsetDateTime) -> Lookup {
        match entry.state.read().clone() {
            Some(c) if c.good_at.is_some_and(|t| now <= t + self.config.max_staleness) => Ok(c),
            _ => Err(e),
        }
    }

    async fn refetch_for_unknown_kid(
        self: &Arc<Self>,
        url: &str,
        entry: &Arc<Entry>,
        current: Arc<CachedKeys>,
        now: OffsetDateTime,
    ) -> Lookup {
        {
            let mut last = entry.last_kid_refetch.lock();
            if last.is_some_and(|t| now < t + self.config.refetch_cooldown) {
                return Ok(current);
            }
            *last = Some(now);
        }
        match self.refresh(url, entry, Some(&current)).await {
            Ok(fresh) => Ok(fresh),
            Err(e) => self.stale_or(entry, e, now),
        }
    }

    /// In the last fifth of the TTL, one background refresh, so that a busy client never waits
    /// on a fetch for keys it already has.
    fn refresh_ahead(
        self: &Arc<Self>,
        url: &str,
        entry: &Arc<Entry>,
        current: &Arc<CachedKeys>,
        now: OffsetDateTime,
    ) {
        let ttl = current.expires_at - current.fetched_at;
        // After a failure, `expires_at` is the retry back-off, not a TTL: no early retry.
        if current.good_at.is_none() || current.last_error.is_some() || now < current.expires_at - ttl / 5 {
            return;
        }
        if entry.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (this, entry, current, url) = (self.clone(), entry.clone(), current.clone(), url.to_owned());
        tokio::spawn(async move {
            let _ = this.refresh(&url, &entry, Some(&current)).await;
            entry.refreshing.store(false, Ordering::Release);
        });
    }

    /// Single-flight fetch. `seen` is the state the caller decided on; if another task replaced
    /// it while this one waited for the flight lock, that result is used instead of a new fetch.
    async fn refresh(&self, url: &str, entry: &Entry, seen: Option<&Arc<CachedKeys>>) -> Lookup {
        let _flight = entry.flight.lock().await;
        let now = self.clock.now();
        let current = entry.state.read().clone();
        match (&current, seen) {
            (Some(cur), Some(seen)) if !Arc::ptr_eq(cur, seen) => return usable(cur),
            (Some(cur), None) => return usable(cur),
            _ => {}
        }
        let result = self.fetch(url, now).await;
        let next = match &result {
            Ok((keys, ttl)) => {
                metrics::counter!("keyward_jwks_fetches_total", "result" => "ok").increment(1);
                CachedKeys {
                    url: url.to_owned(),
                    keys: Arc::new(keys.clone()),
                    fetched_at: now,
                    good_at: Some(now),
                    expires_at: now + *ttl,
                    last_error: None,
                }
            }
            Err(e) => {
                // A failing URL is asked again once per cooldown, whatever asks: a refresh or an
                // unknown kid.
                *entry.last_kid_refetch.lock() = Some(now);
                tracing::warn!(url = %Untrusted(url), reason = e.reason(), error = %e, "JWKS fetch failed");
                metrics::counter!("keyward_jwks_fetches_total", "result" => e.reason()).increment(1);
                // Keep what was good; ask again after the cooldown, not on every request.
                CachedKeys {
                    url: url.to_owned(),
                    keys: current.as_ref().map(|c| c.keys.clone()).unwrap_or_default(),
                    fetched_at: now,
                    good_at: current.as_ref().and_then(|c| c.good_at),
                    expires_at: now + self.config.refetch_cooldown,
                    last_error: Some(e.clone()),
                }
            }
        };
        let next = Arc::new(next);
        *entry.state.write() = Some(next.clone());
        match result {
            Ok(_) => Ok(next),
            Err(e) => Err(e),
        }
    }

    async fn fetch(
        &self,
        url: &str,
        now: OffsetDateTime,
    ) -> Result<(Vec<Credential>, time::Duration), FetchError> {
        let parsed = check_jwks_uri(url, &self.config)?;
        let fetched = http::get(&self.client, parsed, &self.config).await?;
        let keys = document::parse(&fetched.body, &self.config, now)?;
        let ttl = fetched
            .max_age
            .map(time::Duration::seconds)
            .unwrap_or(self.config.default_ttl)
            .clamp(self.config.min_ttl, self.config.max_ttl);
        Ok((keys, ttl))
    }
}

fn usable(c: &Arc<CachedKeys>) -> Lookup {
    if c.good_at.is_some() {
        Ok(c.clone())
    } else {
        Err(c.last_error.clone().unwrap_or(FetchError::Unavailable))
    }
}
