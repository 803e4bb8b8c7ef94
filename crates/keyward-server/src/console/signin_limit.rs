//! Failed console sign-ins are limited per account and per source address (token buckets, as
//! the token endpoint's failure limiter): guessing one account's password from many addresses
//! is slowed by the account's bucket, guessing many accounts from one address by the address's.
//! While either bucket is empty the attempt is refused before the password is hashed, so the
//! limiter also bounds the argon2 work an attacker can make the server do.

use std::{net::IpAddr, sync::Arc};

use keyward_types::Clock;
use parking_lot::Mutex;

use axum::http::HeaderMap;

use crate::rate_limit::{Admission, Buckets, Rate, SourceKey, TrustedProxies};

/// Accounts and addresses tracked at most (least recently used go first).
const MAX_TRACKED: usize = 10_000;

pub(crate) struct SignInLimiter {
    accounts: Mutex<Buckets<String>>,
    addresses: Mutex<Buckets<SourceKey>>,
    proxies: TrustedProxies,
    clock: Arc<dyn Clock>,
}

impl SignInLimiter {
    pub(crate) fn new(account: Rate, address: Rate, proxies: TrustedProxies, clock: Arc<dyn Clock>) -> Self {
        Self {
            accounts: Mutex::new(Buckets::new(account, MAX_TRACKED)),
            addresses: Mutex::new(Buckets::new(address, MAX_TRACKED)),
            proxies,
            clock,
        }
    }

    /// The signing-in browser's address: the peer, or what a trusted proxy forwarded.
    pub(crate) fn source(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        peer.map(|p| self.proxies.client_addr(p, headers))
    }

    /// `Some(seconds)` to wait when the account or the address has failed too often.
    pub(crate) fn refused(&self, username: &str, source: Option<IpAddr>) -> Option<u64> {
        let now = self.clock.now();
        let wait = |a: Admission| match a {
            Admission::Allowed => None,
            Admission::Limited { retry_after_secs, .. } => Some(retry_after_secs),
        };
        let account = wait(self.accounts.lock().admit(account_key(username), now));
        let address = source.and_then(|ip| wait(self.addresses.lock().admit(SourceKey::of(ip), now)));
        account.max(address)
    }

    /// One failed attempt for the account and the address.
    pub(crate) fn failed(&self, username: &str, source: Option<IpAddr>) {
        let now = self.clock.now();
        self.accounts.lock().charge(account_key(username), now);
        if let Some(ip) = source {
            self.addresses.lock().charge(SourceKey::of(ip), now);
        }
    }
}

/// Usernames are compared as typed, but `Admin` and `admin` share a bucket.
fn account_key(username: &str) -> String {
    username.chars().take(64).collect::<String>().to_lowercase()
}
