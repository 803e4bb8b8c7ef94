#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `keyward keys inspect` runs the same key checks as the server (it goes through
//! keyward-keys and `check_public_jwk`): an Ed25519 point of small order or in a non-canonical
//! encoding, and RSA keys with `e = 1`, an even `e`, a huge `e`, an even `n` or a 2041-bit `n`,
//! are refused with a one-line error and exit status 1, and no key is printed. Every file is
//! built here from its numbers.

use std::{path::Path, process::Output, process::Stdio};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use keyward_testkit::process::keyward;
use serde_json::json;

fn inspect(dir: &Path, name: &str, contents: &str) -> Output {
    let file = dir.join(name);
    std::fs::write(&file, contents).unwrap();
    let mut cmd = keyward(dir);
    cmd.args(["keys", "inspect", file.to_str().unwrap()]);
    cmd.stdin(Stdio::null());
    cmd.output().unwrap()
}

/// Exit status 1, one line on stderr naming the fault, nothing on stdout, no panic.
fn assert_refused(o: &Output, what: &str, says: &str) {
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let shown = format!("{what}: status {}\nstdout:\n{out}\nstderr:\n{err}", o.status);
    assert_eq!(o.status.code(), Some(1), "{shown}");
    assert!(err.starts_with("keyward: "), "{shown}");
    assert_eq!(err.trim_end().lines().count(), 1, "{shown}");
    assert!(err.contains(says), "{shown}");
    assert!(!err.contains("panicked"), "{shown}");
    assert!(out.trim().is_empty(), "{shown}");
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// A `-----BEGIN PUBLIC KEY-----` file of an Ed25519 key (RFC 8410 §4 SubjectPublicKeyInfo).
fn ed_spki_pem(x: &[u8]) -> String {
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(x);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    )
}

fn interop_rsa_n() -> Vec<u8> {
    let jwk = keyward_testkit::fixtures::interop_jwk("rsa2048");
    URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap()
}

#[test]
fn inspect_rejects_ed25519_small_order_and_non_canonical_keys() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // The identity (order 1), the point of order 2, one of order 4, one of order 8.
        (
            "0100000000000000000000000000000000000000000000000000000000000000",
            "small order",
        ),
        (
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "small order",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000080",
            "small order",
        ),
        (
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "small order",
        ),
        // y = p + 1: the identity again, non-canonically.
        (
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "small order",
        ),
        // y = p + 3: a point of large order, non-canonically.
        (
            "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "not canonically encoded",
        ),
    ];
    for (hex, says) in cases {
        let x = hex32(hex);
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(&x)}).to_string();
        assert_refused(&inspect(dir.path(), "ed.jwk", &jwk), hex, says);
        assert_refused(&inspect(dir.path(), "ed.pem", &ed_spki_pem(&x)), hex, says);
    }
}

#[test]
fn inspect_rejects_broken_rsa_keys() {
    let dir = tempfile::tempdir().unwrap();
    let n = interop_rsa_n();
    let mut even_n = n.clone();
    even_n[255] &= 0xfe;
    let mut short_n = n.clone();
    short_n[0] = 0x01;
    let mut huge_e = vec![0u8; 512];
    huge_e[0] = 0x80;
    huge_e[511] = 0x01;
    let cases: [(&str, &[u8], &[u8], &str); 5] = [
        ("e = 1", &n, &[1], "exponent 1"),
        ("e = 2", &n, &[2], "exponent is even"),
        ("4096-bit e", &n, &huge_e, "4096 bits is too large"),
        ("even n", &even_n, &[1, 0, 1], "modulus is even"),
        ("2041-bit n", &short_n, &[1, 0, 1], "2041 bits is too weak"),
    ];
    for (what, n, e, says) in cases {
        let jwk = json!({"kty": "RSA", "n": b64url(n), "e": b64url(e)}).to_string();
        assert_refused(&inspect(dir.path(), "rsa.jwk", &jwk), what, says);
    }
    // The same numbers with e = 65537 inspect fine: only the number at fault was refused.
    let good = json!({"kty": "RSA", "n": b64url(&n), "e": "AQAB"}).to_string();
    let o = inspect(dir.path(), "good.jwk", &good);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}
