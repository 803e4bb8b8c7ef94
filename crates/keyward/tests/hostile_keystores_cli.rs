#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `keyward keys inspect` on keystores built to crash or stall the reader: the scrypt `N = 0`
//! file that made a dependency panic, and a file declaring far more key-derivation work than
//! one import may cost. Each ends with one line on stderr naming the fault, exit status 1,
//! nothing on stdout, and no panic report. The files are built here.

use std::{path::Path, process::Output, process::Stdio};

use keyward_keys::fixtures;
use keyward_testkit::process::keyward;

const PASSWORD: &str = "hostile-pass";

fn inspect(dir: &Path, name: &str, contents: &[u8], format: Option<&str>) -> Output {
    let file = dir.join(name);
    std::fs::write(&file, contents).unwrap();
    let mut cmd = keyward(dir);
    cmd.args(["keys", "inspect", file.to_str().unwrap()]);
    if let Some(f) = format {
        cmd.args(["--format", f]);
    }
    cmd.env("KEYWARD_STORE_PASSWORD", PASSWORD);
    cmd.stdin(Stdio::null());
    cmd.output().unwrap()
}

fn assert_one_line_refusal(o: &Output, says: &[&str]) {
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let shown = format!("status {}\nstdout:\n{out}\nstderr:\n{err}", o.status);
    assert_eq!(o.status.code(), Some(1), "{shown}");
    assert!(out.is_empty(), "{shown}");
    assert!(err.starts_with("keyward: "), "{shown}");
    assert_eq!(err.trim_end().lines().count(), 1, "{shown}");
    assert!(!err.contains("panicked"), "{shown}");
    for word in says {
        assert!(err.contains(word), "does not say '{word}': {shown}");
    }
}

#[test]
fn inspect_refuses_pkcs12_with_scrypt_n_zero_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixtures::pkcs12_scrypt_key_bag(0);
    // Found by content (the format guess) and named explicitly.
    assert_one_line_refusal(&inspect(dir.path(), "n0.p12", &data, None), &["scrypt"]);
    assert_one_line_refusal(
        &inspect(dir.path(), "n0-named.p12", &data, Some("pkcs12")),
        &["scrypt"],
    );
}

#[test]
fn inspect_refuses_pkcs12_over_the_work_budget_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixtures::pkcs12_shrouded_key_bags(PASSWORD, 30, 1_000_000, false);
    assert_one_line_refusal(
        &inspect(dir.path(), "bags.p12", &data, Some("pkcs12")),
        &["key-derivation work", &keyward_keys::MAX_KDF_WORK.to_string()],
    );
}

#[test]
fn inspect_refuses_jks_with_too_many_entries_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let count = keyward_keys::MAX_KEY_ENTRIES + keyward_keys::MAX_CERTIFICATES + 1;
    let data = fixtures::jks_trusted_certificates(PASSWORD, count);
    assert_one_line_refusal(&inspect(dir.path(), "many.jks", &data, None), &["entries"]);
}
