//! Token buckets per source, kept as one timestamp each (GCRA, the "virtual scheduling" form of
//! a token bucket): `tat` is when the bucket will be full again. Each failure pushes it one
//! emission interval further; the bucket is empty while `tat` is more than `burst − 1`
//! intervals ahead of now. Nothing ticks in the background: a bucket refills by time passing.

use std::{collections::hash_map::RandomState, hash::Hash};

use hashlink::LinkedHashMap;
use time::{Duration, OffsetDateTime};

use super::source_addr::SourceKey;

/// Burst and refill rate of every bucket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    /// Time for one token to come back.
    interval: Duration,
    /// How far ahead `tat` may be while one token is still left: `(burst − 1) × interval`.
    tolerance: Duration,
}

impl Rate {
    /// `burst` and `per_minute` are at least 1 (the config's bounds).
    pub(crate) fn new(burst: u32, per_minute: u32) -> Self {
        let interval = Duration::minutes(1) / per_minute.max(1);
        Self {
            interval,
            tolerance: interval * burst.saturating_sub(1),
        }
    }
}

/// What a request from a source may do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    Allowed,
    /// The bucket is empty; one token is back in `retry_after_secs`. `first` is true for the
    /// first refusal since the source was last allowed (the one that is logged).
    Limited {
        retry_after_secs: u64,
        first: bool,
    },
}

#[derive(Debug)]
struct Bucket {
    tat: OffsetDateTime,
    limited: bool,
}

/// The buckets of at most `max` sources (addresses, or the console's account names), in order
/// of last use. Only a failure creates a
/// bucket, so sources that never fail take no memory; when the map is full, the least recently
/// used bucket goes, and a bucket found refilled is dropped at once (it says nothing a fresh
/// one would not).
pub(crate) struct Buckets<K = SourceKey> {
    // SipHash with a random key: the keys are chosen by whoever sends requests.
    map: LinkedHashMap<K, Bucket, RandomState>,
    max: usize,
    rate: Rate,
}

impl<K: Hash + Eq> Buckets<K> {
    pub(crate) fn new(rate: Rate, max: usize) -> Self {
        Self {
            map: LinkedHashMap::with_hasher(RandomState::new()),
            max: max.max(1),
            rate,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether a request from `key` may be checked at all.
    pub(crate) fn admit(&mut self, key: K, now: OffsetDateTime) -> Admission {
        let Some(bucket) = self.map.to_back(&key) else {
            return Admission::Allowed;
        };
        let ahead = bucket.tat - now;
        if ahead <= self.rate.tolerance {
            bucket.limited = false;
            if bucket.tat <= now {
                self.map.remove(&key);
            }
            return Admission::Allowed;
        }
        let first = !bucket.limited;
        bucket.limited = true;
        Admission::Limited {
            retry_after_secs: ceil_secs(ahead - self.rate.tolerance),
            first,
        }
    }

    /// One failure from `key`. Failures of requests admitted together are all charged, so a
    /// burst of parallel guesses is paid back by a longer wait.
    pub(crate) fn charge(&mut self, key: K, now: OffsetDateTime) {
        let interval = self.rate.interval;
        if let Some(bucket) = self.map.to_back(&key) {
            bucket.tat = bucket.tat.max(now) + interval;
            return;
        }
        while self.map.len() >= self.max {
            self.map.pop_front();
        }
        self.map.insert(
            key,
            Bucket {
                tat: now + interval,
                limited: false,
            },
        );
    }
}

/// Whole seconds, rounded up, at least 1 (`Retry-After: 0` would invite an immediate retry).
fn ceil_secs(d: Duration) -> u64 {
    let nanos = d.whole_nanoseconds().max(1);
    let secs = (nanos + 999_999_999) / 1_000_000_000;
    u64::try_from(secs).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(n: u8) -> SourceKey {
        SourceKey::V4(Ipv4Addr::new(192, 0, 2, n))
    }

    fn t0() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[test]
    fn empties_after_the_burst_and_refills_one_token_per_interval() {
        let mut b = Buckets::new(Rate::new(3, 60), 10);
        let now = t0();
        for _ in 0..3 {
            assert_eq!(b.admit(key(1), now), Admission::Allowed);
            b.charge(key(1), now);
        }
        assert_eq!(
            b.admit(key(1), now),
            Admission::Limited {
                retry_after_secs: 1,
                first: true
            }
        );
        assert!(matches!(
            b.admit(key(1), now),
            Admission::Limited { first: false, .. }
        ));
        assert_eq!(b.admit(key(2), now), Admission::Allowed);
        assert_eq!(b.admit(key(1), now + Duration::seconds(1)), Admission::Allowed);
    }

    #[test]
    fn a_refilled_bucket_is_dropped() {
        let mut b = Buckets::new(Rate::new(3, 60), 10);
        b.charge(key(1), t0());
        assert_eq!(b.len(), 1);
        assert_eq!(b.admit(key(1), t0() + Duration::seconds(1)), Admission::Allowed);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn the_map_never_holds_more_than_max_and_drops_the_least_recently_used() {
        let mut b = Buckets::new(Rate::new(1, 1), 4);
        for n in 0..=200u8 {
            b.charge(key(n), t0());
            assert!(b.len() <= 4);
        }
        // 197..=200 are kept; 196 was pushed out and starts afresh.
        assert!(matches!(b.admit(key(200), t0()), Admission::Limited { .. }));
        assert_eq!(b.admit(key(196), t0()), Admission::Allowed);
    }

    /// README's "about 100 bytes" per tracked source: a linked node (entry and two links, on
    /// the heap) plus a table slot (a pointer and a control byte), with allocator slack.
    #[test]
    fn a_tracked_source_costs_about_100_bytes() {
        let node = std::mem::size_of::<(SourceKey, Bucket)>() + 2 * std::mem::size_of::<usize>();
        let slot = std::mem::size_of::<usize>() + 1;
        println!("node {node} B + slot {slot} B");
        assert!(node + slot + 16 <= 100, "node {node} + slot {slot}");
    }

    #[test]
    fn retry_after_rounds_up() {
        let mut b = Buckets::new(Rate::new(1, 7), 4);
        b.charge(key(1), t0());
        // One token every 60/7 ≈ 8.57 s.
        assert_eq!(
            b.admit(key(1), t0()),
            Admission::Limited {
                retry_after_secs: 9,
                first: true
            }
        );
    }
}
