//! One function per parser of untrusted input (DESIGN.md "Hostile input and hostile
//! networks"). Each calls the real parser with the fuzzer's bytes and asserts only what must
//! hold for every input: it returns (no panic, no abort), and where it is cheap to check, what
//! it accepted is consistent (a decoded Basic header encodes back to the same values, an
//! imported key's thumbprint survives a round trip, an assertion that passes the rules is one
//! the rules describe).
//!
//! The cargo-fuzz targets in `fuzz/fuzz_targets/` are one line each around these functions, and
//! `tests/corpora.rs` replays the committed corpora and regressions through them on every
//! `cargo test`.
#![forbid(unsafe_code)]

mod auth;
mod jwks_url;
mod keys;

pub use auth::{assertion, authorize_query, basic_header, jws, token_form};
pub use jwks_url::{cache_control, jwks_document};
pub use keys::{der, jks, jwk, jwks, pem, pkcs12};

/// A fuzz target: the fuzzer's bytes in, nothing out; a finding is a panic.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("basic_header", basic_header),
    ("token_form", token_form),
    ("authorize_query", authorize_query),
    ("jws", jws),
    ("assertion", assertion),
    ("jwk", jwk),
    ("jwks", jwks),
    ("pem", pem),
    ("der", der),
    ("jwks_document", jwks_document),
    ("cache_control", cache_control),
    ("pkcs12", pkcs12),
    ("jks", jks),
];

/// The instant the time-dependent rules are checked at, fixed so that a finding replays.
pub const NOW: time::OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);
