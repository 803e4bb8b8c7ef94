//! How much work one keystore upload may cost (DESIGN.md "Hostile input": every parser has a
//! work bound).
//!
//! A PKCS#12 file chooses its own key-derivation parameters, and each derivation is cheap to
//! declare and expensive to run: thirty shrouded key bags at a million PBKDF2-HMAC-SHA-512
//! iterations are 5 KB of upload and over ten seconds of CPU. Each derivation is therefore
//! priced from its declared parameters and charged to a [`WorkBudget`] before it runs; a file
//! whose total exceeds the budget is refused before any expensive work starts.
//!
//! The unit is one compression of SHA-256 (a 64-byte block), measured with SHA extensions at
//! about 65 ns; SHA-1 and SHA-224 cost the same, the SHA-512 family four times as much.
//! PBKDF2 runs HMAC (two compressions) per iteration and output block; the PKCS#12 KDF
//! (RFC 7292 appendix B) one compression per iteration and output block. keytool's default
//! file (MAC, certificates and key at 10,000 iterations) costs 50,000 units, OpenSSL 3's
//! (2,048 iterations) about 10,000; the budget of 8,000,000 units (about half a second of one
//! core) admits a file whose three derivations all use the per-derivation maximum of
//! 1,000,000 PBKDF2-HMAC-SHA-256 iterations.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use crate::KeyError;

/// Total key-derivation work one import may cost, in SHA-256 compressions.
pub const MAX_KDF_WORK: u64 = 8_000_000;
/// Most iterations one key derivation may declare; the tools' defaults stay far below
/// (keytool 10,000, OpenSSL 3 2,048).
pub const MAX_KDF_ITERATIONS: u64 = 1_000_000;
/// Most private key entries one keystore may hold.
pub const MAX_KEY_ENTRIES: usize = 16;
/// Most certificates one keystore may hold (chains and trusted entries together): room for a
/// client key beside a copy of a JDK's trust store (about 150 certificates).
pub const MAX_CERTIFICATES: usize = 256;
/// Longest certificate chain of one JKS key entry.
pub const MAX_CHAIN_LENGTH: usize = 16;
/// Most other PKCS#12 bags (CRLs, secrets, nested contents), which are skipped but still parsed.
pub const MAX_OTHER_BAGS: usize = 16;
/// Most PKCS#12 content infos (keytool and OpenSSL write two).
pub const MAX_CONTENT_INFOS: usize = 16;

/// The work limit of one import, and a flag that ends it early when whoever asked for it has
/// gone away (a closed HTTP connection). Clones share the flag.
#[derive(Debug, Clone)]
pub struct WorkBudget {
    max_kdf_work: u64,
    cancelled: Arc<AtomicBool>,
}

impl Default for WorkBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl WorkBudget {
    /// The standard limits ([`MAX_KDF_WORK`] and the entry caps).
    pub fn new() -> Self {
        Self {
            max_kdf_work: MAX_KDF_WORK,
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A smaller (or larger) total of key-derivation work, in SHA-256 block computations: a
    /// fuzzer, for instance, wants every input to finish in milliseconds.
    pub fn with_max_kdf_work(max_kdf_work: u64) -> Self {
        Self {
            max_kdf_work,
            ..Self::new()
        }
    }

    /// Stops the import that holds this budget (or a clone) at its next key derivation.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub(crate) fn meter(&self) -> Meter<'_> {
        Meter {
            budget: self,
            spent: 0,
        }
    }
}

/// What one import has spent of its budget.
pub(crate) struct Meter<'a> {
    budget: &'a WorkBudget,
    spent: u64,
}

impl Meter<'_> {
    /// Adds the price of derivations about to run; refuses once the total passes the budget,
    /// so the caller charges everything it can see before it derives anything.
    pub(crate) fn charge(&mut self, cost: u64) -> Result<(), KeyError> {
        self.go_on()?;
        self.spent = self.spent.saturating_add(cost);
        if self.spent > self.budget.max_kdf_work {
            return Err(KeyError::TooExpensive {
                what: "key-derivation work, iterations × entries in SHA-256 block computations",
                limit: self.budget.max_kdf_work,
            });
        }
        Ok(())
    }

    /// Called before each derivation: an abandoned import stops here.
    pub(crate) fn go_on(&self) -> Result<(), KeyError> {
        if self.budget.is_cancelled() {
            return Err(KeyError::Cancelled);
        }
        Ok(())
    }
}

/// A count that must stay within `limit`, or the keystore is refused as too expensive.
pub(crate) fn within(count: usize, limit: usize, what: &'static str) -> Result<(), KeyError> {
    if count > limit {
        return Err(KeyError::TooExpensive {
            what,
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
        });
    }
    Ok(())
}

/// A hash as a KDF uses it: its output length and its price per compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KdfHash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
}

impl KdfHash {
    pub(crate) fn output_len(self) -> usize {
        match self {
            KdfHash::Sha1 => 20,
            KdfHash::Sha224 | KdfHash::Sha512_224 => 28,
            KdfHash::Sha256 | KdfHash::Sha512_256 => 32,
            KdfHash::Sha384 => 48,
            KdfHash::Sha512 => 64,
        }
    }

    /// Price of one compression in SHA-256 compressions (SHA-NI speeds up SHA-1 and SHA-256
    /// but not the 128-byte-block SHA-512 family).
    fn weight(self) -> u64 {
        match self {
            KdfHash::Sha1 | KdfHash::Sha224 | KdfHash::Sha256 => 1,
            KdfHash::Sha384 | KdfHash::Sha512 | KdfHash::Sha512_224 | KdfHash::Sha512_256 => 4,
        }
    }

    fn blocks(self, len: usize) -> u64 {
        u64::try_from(len.div_ceil(self.output_len())).unwrap_or(u64::MAX)
    }

    /// PBKDF2 with HMAC over this hash, deriving `len` bytes (RFC 8018 §5.2).
    pub(crate) fn pbkdf2_cost(self, iterations: u64, len: usize) -> u64 {
        iterations
            .saturating_mul(2)
            .saturating_mul(self.blocks(len))
            .saturating_mul(self.weight())
    }

    /// The PKCS#12 KDF deriving each of `lens` bytes separately (key, IV or MAC key).
    pub(crate) fn pkcs12_kdf_cost(self, iterations: u64, lens: &[usize]) -> u64 {
        lens.iter().fold(0u64, |acc, &len| {
            acc.saturating_add(
                iterations
                    .saturating_mul(self.blocks(len))
                    .saturating_mul(self.weight()),
            )
        })
    }
}

/// Refuses an iteration count outside `1..=MAX_KDF_ITERATIONS` before anything is derived.
pub(crate) fn iterations(declared: i128) -> Result<u64, KeyError> {
    if declared < 1 {
        return Err(KeyError::Broken(
            "a key derivation in the PKCS#12 file declares no iterations".into(),
        ));
    }
    match u64::try_from(declared) {
        Ok(n) if n <= MAX_KDF_ITERATIONS => Ok(n),
        _ => Err(KeyError::TooExpensive {
            what: "iterations of one key derivation",
            limit: MAX_KDF_ITERATIONS,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn keytool_default_file_costs_fifty_thousand_units() {
        let mac = KdfHash::Sha256.pkcs12_kdf_cost(10_000, &[32]);
        let pbes2 = KdfHash::Sha256.pbkdf2_cost(10_000, 32);
        assert_eq!(mac + 2 * pbes2, 50_000);
    }

    #[test]
    fn three_maximal_sha256_derivations_fit_the_budget() {
        let mac = KdfHash::Sha256.pkcs12_kdf_cost(MAX_KDF_ITERATIONS, &[32]);
        let pbes2 = KdfHash::Sha256.pbkdf2_cost(MAX_KDF_ITERATIONS, 32);
        let budget = WorkBudget::new();
        budget.meter().charge(mac + 2 * pbes2).unwrap();
    }

    #[test]
    fn thirty_sha512_bags_exceed_the_budget() {
        let budget = WorkBudget::new();
        let bag = KdfHash::Sha512.pbkdf2_cost(1_000_000, 32);
        let err = budget.meter().charge(30 * bag).unwrap_err();
        assert_eq!(err.code(), "too_expensive");
    }

    #[test]
    fn a_cancelled_budget_stops_the_next_derivation() {
        let budget = WorkBudget::new();
        let clone = budget.clone();
        clone.cancel();
        assert_eq!(budget.meter().go_on(), Err(KeyError::Cancelled));
        assert_eq!(budget.meter().charge(1), Err(KeyError::Cancelled));
    }

    #[test]
    fn iteration_counts_outside_the_range_are_refused() {
        assert_eq!(iterations(0).unwrap_err().code(), "broken_file");
        assert_eq!(iterations(-5).unwrap_err().code(), "broken_file");
        assert_eq!(iterations(1_000_001).unwrap_err().code(), "too_expensive");
        assert_eq!(iterations(1_000_000), Ok(1_000_000));
    }
}
