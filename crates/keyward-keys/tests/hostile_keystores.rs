//! Keystores built to crash or stall the importer: each is refused
//! with a stable reason before the expensive part runs, and the work limits still let every
//! file real tools write through.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use keyward_keys::{
    fixtures, import, import_within, Format, KeyError, WorkBudget, MAX_CERTIFICATES, MAX_KDF_WORK,
    MAX_KEY_ENTRIES,
};
use keyward_testkit::fixtures::{interop_bytes, STOREPASS};

const PASSWORD: &str = "hostile-pass";

fn p12(data: &[u8], password: &str) -> Result<Vec<keyward_keys::ImportedKey>, KeyError> {
    let store = pw(password);
    import(Format::Pkcs12, data, opts(Some(&store), None, None))
}

fn jks(data: &[u8], password: &str) -> Result<Vec<keyward_keys::ImportedKey>, KeyError> {
    let store = pw(password);
    import(Format::Jks, data, opts(Some(&store), None, None))
}

fn refused(result: Result<Vec<keyward_keys::ImportedKey>, KeyError>, code: &str) -> String {
    let err = result.expect_err("the hostile keystore was accepted");
    assert_eq!(err.code(), code, "{err}");
    err.to_string()
}

#[test]
fn rejects_pkcs12_with_scrypt_n_zero() {
    let data = fixtures::pkcs12_scrypt_key_bag(0);
    assert!(
        data.len() < 256,
        "the crash needs only a small file: {} bytes",
        data.len()
    );
    let message = refused(p12(&data, PASSWORD), "unsupported_protection");
    assert!(message.contains("scrypt"), "{message}");
}

#[test]
fn rejects_pkcs12_with_scrypt_even_with_sane_parameters() {
    let message = refused(
        p12(&fixtures::pkcs12_scrypt_key_bag(1 << 14), PASSWORD),
        "unsupported_protection",
    );
    assert!(message.contains("scrypt"), "{message}");
}

#[test]
fn rejects_pkcs12_whose_kdf_work_exceeds_the_budget() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 30, 1_000_000, false);
    let message = refused(p12(&data, PASSWORD), "too_expensive");
    assert!(
        message.contains(&MAX_KDF_WORK.to_string()),
        "names the limit: {message}"
    );
}

/// Few enough bags for the entry cap, but three SHA-512 derivations at the iteration cap cost
/// three times the budget.
#[test]
fn rejects_pkcs12_with_few_bags_whose_total_work_exceeds_the_budget() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 3, 1_000_000, false);
    let message = refused(p12(&data, PASSWORD), "too_expensive");
    assert!(message.contains("key-derivation work"), "{message}");
}

/// The refusal comes before the MAC is even checked: with a wrong password the answer is
/// still `too_expensive`, so no key derivation ran.
#[test]
fn rejects_pkcs12_over_budget_before_any_key_derivation() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 30, 1_000_000, false);
    refused(p12(&data, "not-the-password"), "too_expensive");
}

#[test]
fn rejects_pkcs12_whose_over_budget_bags_hide_in_an_encrypted_safe() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 30, 1_000_000, true);
    let message = refused(p12(&data, PASSWORD), "too_expensive");
    assert!(
        message.contains(&MAX_KDF_WORK.to_string()),
        "names the limit: {message}"
    );
}

#[test]
fn rejects_pkcs12_with_one_derivation_over_the_iteration_cap() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 1, 1_000_001, false);
    let message = refused(p12(&data, PASSWORD), "too_expensive");
    assert!(message.contains("1000000"), "{message}");
}

#[test]
fn rejects_pkcs12_with_zero_iterations() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 1, 0, false);
    refused(p12(&data, PASSWORD), "broken_file");
}

#[test]
fn rejects_pkcs12_with_too_many_key_entries() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, MAX_KEY_ENTRIES + 1, 1, false);
    let message = refused(p12(&data, PASSWORD), "too_expensive");
    assert!(message.contains("key entries"), "{message}");
}

#[test]
fn rejects_pkcs12_with_too_many_certificates() {
    let data = fixtures::pkcs12_certificate_bags(PASSWORD, MAX_CERTIFICATES + 1);
    let message = refused(p12(&data, PASSWORD), "too_expensive");
    assert!(message.contains("certificates"), "{message}");
}

#[test]
fn rejects_pkcs12_with_too_many_hidden_key_entries() {
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, MAX_KEY_ENTRIES + 1, 1, true);
    refused(p12(&data, PASSWORD), "too_expensive");
}

#[test]
fn rejects_jks_with_too_many_entries() {
    let data = fixtures::jks_trusted_certificates(PASSWORD, MAX_KEY_ENTRIES + MAX_CERTIFICATES + 1);
    let message = refused(jks(&data, PASSWORD), "too_expensive");
    assert!(message.contains("entries"), "{message}");
}

#[test]
fn rejects_jks_with_too_many_certificates() {
    let data = fixtures::jks_trusted_certificates(PASSWORD, MAX_CERTIFICATES + 1);
    let message = refused(jks(&data, PASSWORD), "too_expensive");
    assert!(message.contains("certificates"), "{message}");
}

#[test]
fn caps_leave_room_for_the_limits_themselves() {
    // Exactly at the caps the files are read (and refused for what they hold, not their size).
    let data = fixtures::pkcs12_certificate_bags(PASSWORD, MAX_CERTIFICATES);
    refused(p12(&data, PASSWORD), "alias_required");
    let data = fixtures::jks_trusted_certificates(PASSWORD, MAX_CERTIFICATES);
    refused(jks(&data, PASSWORD), "alias_required");
}

/// The worst file the limits admit is read to the end: every derivation runs, and the refusal
/// is about its content, not its cost.
#[test]
fn worst_allowed_pkcs12_is_within_the_budget() {
    let data = fixtures::pkcs12_worst_allowed(PASSWORD);
    refused(p12(&data, PASSWORD), "unsupported_key_type");
}

#[test]
fn a_cancelled_import_stops_before_deriving() {
    let work = WorkBudget::new();
    work.clone().cancel();
    let store = pw(STOREPASS);
    let result = import_within(
        Format::Pkcs12,
        &interop_bytes("sample-rsa2048-keytool.p12"),
        opts(Some(&store), None, None),
        &work,
    );
    assert_eq!(result, Err(KeyError::Cancelled));
}

/// The price of each interop file, in SHA-256 block computations, is exactly what its declared
/// parameters say: one unit less than the price is refused, before anything is derived.
#[test]
fn interop_keystores_cost_what_their_parameters_declare() {
    for (file, price) in [
        // MAC 10,000 (PKCS#12 KDF, one block) + two PBKDF2-HMAC-SHA-256 at 10,000 (2 × 20,000).
        ("sample-rsa2048-keytool.p12", 50_000),
        // The same shape at 2,048 iterations.
        ("sample-rsa2048-openssl-aes.p12", 10_240),
        // SHA-1 MAC 2,048 + RC2-40 key and IV (2 × 2,048) + 3DES key (2 blocks) and IV (3 × 2,048).
        ("sample-rsa2048-openssl-legacy.p12", 12_288),
    ] {
        let store = pw(STOREPASS);
        let data = interop_bytes(file);
        let within = |units| {
            import_within(
                Format::Pkcs12,
                &data,
                opts(Some(&store), None, None),
                &WorkBudget::with_max_kdf_work(units),
            )
        };
        assert!(within(price).is_ok(), "{file} at {price}");
        assert_eq!(
            within(price - 1).unwrap_err().code(),
            "too_expensive",
            "{file} at {}",
            price - 1
        );
    }
}

#[test]
fn interop_keystores_fit_the_budget() {
    for file in [
        "sample-rsa2048-keytool.p12",
        "sample-rsa2048-openssl-aes.p12",
        "sample-rsa2048-openssl-legacy.p12",
    ] {
        let keys = p12(&interop_bytes(file), STOREPASS).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(keys.len(), 1, "{file}");
    }
}
