//! The in-memory index of recorded `(client_id, jti)` pairs: a 64-bit keyed fingerprint of the
//! pair mapped to its expiry, in a few mutex-guarded shards.
//!
//! Why fingerprints and not the strings: a `jti` may be 256 bytes, and a busy node holds a
//! million live entries (20,000 assertions/s × 60 s lifetime); 16 bytes per entry keeps that
//! around 20–40 MiB. The fingerprint is SipHash-1-3 under a key drawn at random per process, so
//! nobody can aim a `jti` at another client's entry. A fingerprint match between two different
//! pairs would make a fresh assertion look like a replay (a spurious 401, never a false
//! accept); with N live entries its chance per request is N / 2^64, about 5·10^-14 at a million.

use std::{
    collections::HashMap,
    hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState},
};

use parking_lot::Mutex;

const SHARDS: usize = 16;

/// The map's own hasher: the key already is a keyed hash, so it is used as is.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; this path folds bytes in case that ever changes.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Shard = HashMap<u64, i64, BuildHasherDefault<PassThrough>>;

pub(super) struct Index {
    key: RandomState,
    shards: [Mutex<Shard>; SHARDS],
}

impl Index {
    pub(super) fn new() -> Self {
        Self {
            key: RandomState::new(),
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
        }
    }

    pub(super) fn fingerprint(&self, client_id: &str, jti: &str) -> u64 {
        // The pair, not the concatenation: ("ab", "c") and ("a", "bc") differ.
        self.key.hash_one((client_id, jti))
    }

    fn shard(&self, fp: u64) -> &Mutex<Shard> {
        // Middle bits pick the shard: the map takes its bucket from the low bits and its tag
        // from the top 7, and both keep their full spread within a shard.
        let [first, ..] = &self.shards;
        self.shards.get((fp >> 32) as usize % SHARDS).unwrap_or(first)
    }

    /// Whether an entry for `fp` is still in force at `now`.
    pub(super) fn is_live(&self, fp: u64, now: i64) -> bool {
        self.shard(fp).lock().get(&fp).is_some_and(|&exp| exp > now)
    }

    /// Records `fp` until `expires_at` unless a live entry exists; returns the entry it
    /// replaced (an expired one), `Ok(None)` if there was none, `Err(())` for a replay.
    pub(super) fn claim(&self, fp: u64, expires_at: i64, now: i64) -> Result<Option<i64>, ()> {
        let mut shard = self.shard(fp).lock();
        match shard.get(&fp) {
            Some(&exp) if exp > now => Err(()),
            old => {
                let old = old.copied();
                shard.insert(fp, expires_at);
                Ok(old)
            }
        }
    }

    /// Undoes a `claim` whose write did not commit.
    pub(super) fn unclaim(&self, fp: u64, expires_at: i64, previous: Option<i64>) {
        let mut shard = self.shard(fp).lock();
        if shard.get(&fp) == Some(&expires_at) {
            match previous {
                Some(exp) => shard.insert(fp, exp),
                None => shard.remove(&fp),
            };
        }
    }

    /// Records an entry read back from the table (it may have expired since).
    pub(super) fn load(&self, fp: u64, expires_at: i64) {
        let mut shard = self.shard(fp).lock();
        let e = shard.entry(fp).or_insert(expires_at);
        *e = (*e).max(expires_at);
    }

    /// Drops entries expired at `now`, one shard at a time so no caller waits long.
    pub(super) fn forget_expired(&self, now: i64) {
        for shard in &self.shards {
            let mut s = shard.lock();
            s.retain(|_, exp| *exp > now);
            if s.capacity() > 64 && s.len() < s.capacity() / 4 {
                // Give memory back after a peak.
                let keep = s.len() * 2;
                s.shrink_to(keep);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_entry_refuses_a_second_claim_and_an_expired_one_is_taken_over() {
        let ix = Index::new();
        let fp = ix.fingerprint("c", "j");
        assert_eq!(ix.claim(fp, 100, 0), Ok(None));
        assert_eq!(ix.claim(fp, 100, 99), Err(()));
        assert!(ix.is_live(fp, 99));
        assert!(!ix.is_live(fp, 100));
        assert_eq!(ix.claim(fp, 300, 100), Ok(Some(100)));
    }

    #[test]
    fn unclaim_restores_what_was_there() {
        let ix = Index::new();
        let fp = ix.fingerprint("c", "j");
        ix.claim(fp, 100, 0).unwrap();
        let prev = ix.claim(fp, 300, 150).unwrap();
        ix.unclaim(fp, 300, prev);
        assert!(!ix.is_live(fp, 150), "back to the expired entry");
        ix.unclaim(fp, 100, None);
        assert_eq!(ix.claim(fp, 400, 150), Ok(None), "and then to nothing");
    }

    #[test]
    fn the_pair_is_hashed_not_the_concatenation() {
        let ix = Index::new();
        assert_ne!(ix.fingerprint("ab", "c"), ix.fingerprint("a", "bc"));
    }

    #[test]
    fn forget_expired_keeps_live_entries() {
        let ix = Index::new();
        for i in 0..1000 {
            ix.claim(
                ix.fingerprint("c", &i.to_string()),
                if i % 2 == 0 { 10 } else { 20 },
                0,
            )
            .unwrap();
        }
        ix.forget_expired(15);
        let live = (0..1000)
            .filter(|i| ix.is_live(ix.fingerprint("c", &i.to_string()), 15))
            .count();
        assert_eq!(live, 500);
    }
}
