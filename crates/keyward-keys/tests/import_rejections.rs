//! Every way an upload is refused, each with its exact `KeyError::code()` and a message that is
//! useful yet repeats no password and no key material.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::{engine::general_purpose::STANDARD, Engine};
use common::{assert_rejected, opts, pw};
use keyward_keys::{import, Format, ImportOptions, ImportedKey, KeyError, MAX_INPUT_BYTES};
use keyward_testkit::fixtures::{interop_bytes, pseudo_random, KEYPASS, STOREPASS};
use serde_json::{json, Value};
use time::macros::datetime;

type Imported = Result<Vec<ImportedKey>, KeyError>;

fn p12(data: &[u8], store: Option<&str>, key: Option<&str>, alias: Option<&str>) -> Imported {
    let (store, key) = (store.map(pw), key.map(pw));
    import(Format::Pkcs12, data, opts(store.as_ref(), key.as_ref(), alias))
}

fn jks(data: &[u8], store: Option<&str>, key: Option<&str>, alias: Option<&str>) -> Imported {
    let (store, key) = (store.map(pw), key.map(pw));
    import(Format::Jks, data, opts(store.as_ref(), key.as_ref(), alias))
}

fn plain(format: Format, data: &[u8]) -> Imported {
    import(format, data, ImportOptions::default())
}

const PRIVATE_D: &str = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE";
const SYMMETRIC_K: &str = "GawgguFyGrWKav7AX4VKUg-secret-bytes-here0";

/// Every password and secret member the tests send, none of which may appear in a message. (The
/// key password `wrong` is checked in its own test: the word itself may well be in a message.)
const SECRETS: [&str; 6] = [
    STOREPASS,
    KEYPASS,
    "wrong-store-pass",
    "other-key-pass",
    PRIVATE_D,
    SYMMETRIC_K,
];

fn ec_jwk_with_d() -> Value {
    let mut jwk: Value = serde_json::from_slice(&interop_bytes("sample-ec256-public.jwk")).unwrap();
    jwk["d"] = json!(PRIVATE_D);
    jwk
}

fn jwks_bytes_with_a_private_key() -> Vec<u8> {
    let mut set: Value = serde_json::from_slice(&interop_bytes("sample-jwks.json")).unwrap();
    set["keys"][1] = ec_jwk_with_d();
    serde_json::to_vec(&set).unwrap()
}

fn json_bytes(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

fn pem_to_der(file: &str) -> Vec<u8> {
    let pem = String::from_utf8(interop_bytes(file)).unwrap();
    STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap()
}

/// One named test per rejection: `name: input, |data| how it is imported => exact code;`.
macro_rules! rejects {
    ($($(#[$doc:meta])* $name:ident: $data:expr, |$d:ident| $import:expr => $code:literal;)*) => {$(
        $(#[$doc])*
        #[test]
        fn $name() {
            let $d: Vec<u8> = $data;
            assert_rejected($import, $code, &SECRETS, &$d);
        }
    )*};
}

rejects! {
    // Passwords.
    pkcs12_wrong_store_password: interop_bytes("sample-rsa2048-keytool.p12"), |d| p12(&d, Some("wrong-store-pass"), None, None) => "wrong_password";
    jks_wrong_store_password: interop_bytes("sample-rsa2048.jks"), |d| jks(&d, Some("wrong-store-pass"), Some(KEYPASS), None) => "wrong_password";
    /// keytool refuses a different key password for PKCS#12, so a different one is a wrong one.
    pkcs12_key_password_different_from_store_password: interop_bytes("sample-rsa2048-keytool.p12"), |d| p12(&d, Some(STOREPASS), Some("other-key-pass"), None) => "wrong_key_password";
    pkcs12_without_password: interop_bytes("sample-rsa2048-keytool.p12"), |d| p12(&d, None, None, None) => "password_required";
    jks_without_password: interop_bytes("sample-rsa2048.jks"), |d| jks(&d, None, None, None) => "password_required";
    // Broken and altered files.
    truncated_pkcs12_is_broken: interop_bytes("sample-truncated.p12"), |d| p12(&d, Some(STOREPASS), None, None) => "broken_file";
    /// One byte flipped inside the protected key: the structure still parses, so only the
    /// integrity digest catches it, which cannot tell an altered file from a wrong password.
    tampered_jks_fails_the_integrity_check: interop_bytes("sample-tampered.jks"), |d| jks(&d, Some(STOREPASS), Some(KEYPASS), None) => "wrong_password";
    // Deterministic pseudo-random bytes, per format.
    random_bytes_as_pem: pseudo_random(1, 2048), |d| plain(Format::Pem, &d) => "unrecognized_format";
    random_bytes_as_der: pseudo_random(2, 2048), |d| plain(Format::Der, &d) => "unrecognized_format";
    random_bytes_as_jwk: pseudo_random(3, 2048), |d| plain(Format::Jwk, &d) => "unrecognized_format";
    random_bytes_as_jwks: pseudo_random(4, 2048), |d| plain(Format::Jwks, &d) => "unrecognized_format";
    random_bytes_as_pkcs12: pseudo_random(5, 2048), |d| p12(&d, Some(STOREPASS), None, None) => "broken_file";
    random_bytes_as_jks: pseudo_random(6, 2048), |d| jks(&d, Some(STOREPASS), Some(KEYPASS), None) => "unrecognized_format";
    // PEM.
    pem_with_garbage_inside_the_block: b"-----BEGIN CERTIFICATE-----\nnot !!! base64 @@@\n-----END CERTIFICATE-----\n".to_vec(), |d| plain(Format::Pem, &d) => "broken_file";
    pem_text_without_a_block: b"Please find our certificate attached.\nKind regards\n".to_vec(), |d| plain(Format::Pem, &d) => "unrecognized_format";
    private_key_pem: interop_bytes("sample-rsa2048-private.pem"), |d| plain(Format::Pem, &d) => "private_key_given";
    // Key types, sizes and curves: the same rules whatever the envelope.
    rsa1024_certificate_is_weak: interop_bytes("sample-rsa1024-cert.pem"), |d| plain(Format::Pem, &d) => "weak_key";
    rsa1024_certificate_der_is_weak: pem_to_der("sample-rsa1024-cert.pem"), |d| plain(Format::Der, &d) => "weak_key";
    dsa_pkcs12_is_unsupported: interop_bytes("sample-dsa.p12"), |d| p12(&d, Some(STOREPASS), None, None) => "unsupported_key_type";
    jwk_with_unsupported_curve: json_bytes(json!({"kty": "EC", "crv": "P-521", "x": "AQAB", "y": "AQAB"})), |d| plain(Format::Jwk, &d) => "unsupported_curve";
    jwk_with_unknown_key_type: json_bytes(json!({"kty": "DSA", "x": "AQAB"})), |d| plain(Format::Jwk, &d) => "unsupported_key_type";
    // JWK and JWK Set.
    jwk_with_private_member: json_bytes(ec_jwk_with_d()), |d| plain(Format::Jwk, &d) => "private_key_material";
    jwks_with_one_private_key: jwks_bytes_with_a_private_key(), |d| plain(Format::Jwks, &d) => "private_key_material";
    symmetric_jwk: json_bytes(json!({"kty": "oct", "k": SYMMETRIC_K})), |d| plain(Format::Jwk, &d) => "symmetric_key";
    jwks_without_keys: br#"{"keys": []}"#.to_vec(), |d| plain(Format::Jwks, &d) => "invalid_request";
    jwk_set_given_as_jwk: interop_bytes("sample-jwks.json"), |d| plain(Format::Jwk, &d) => "unrecognized_format";
}

#[test]
fn jks_wrong_key_password() {
    let data = interop_bytes("sample-rsa2048.jks");
    let result = jks(&data, Some(STOREPASS), Some("wrong"), None);
    let message = assert_rejected(result, "wrong_key_password", &SECRETS, &data).to_string();
    for quoted in ["'wrong'", "\"wrong\"", "`wrong`", ": wrong"] {
        assert!(
            !message.contains(quoted),
            "message repeats the key password: {message}"
        );
    }
}

#[test]
fn jks_unknown_alias() {
    let data = interop_bytes("sample-rsa2048.jks");
    let result = jks(&data, Some(STOREPASS), Some(KEYPASS), Some("missing"));
    let err = assert_rejected(result, "unknown_alias", &SECRETS, &data);
    assert!(err.to_string().contains("clientkey"), "{err}");
}

#[test]
fn pkcs12_unknown_alias() {
    let data = interop_bytes("sample-rsa2048-openssl-aes.p12");
    let result = p12(&data, Some(STOREPASS), None, Some("missing"));
    let err = assert_rejected(result, "unknown_alias", &SECRETS, &data);
    assert!(err.to_string().contains("clientkey"), "{err}");
}

#[test]
fn ec521_certificate_curve_is_unsupported() {
    let data = interop_bytes("sample-ec521-cert.pem");
    let err = assert_rejected(plain(Format::Pem, &data), "unsupported_curve", &SECRETS, &data);
    assert!(err.to_string().contains("P-521"), "{err}");
}

#[test]
fn input_over_one_mib_is_too_large_in_every_format() {
    let data = vec![b' '; MAX_INPUT_BYTES + 1];
    for format in [
        Format::Pem,
        Format::Der,
        Format::Jwk,
        Format::Jwks,
        Format::Pkcs12,
        Format::Jks,
    ] {
        let (store, key) = (pw(STOREPASS), pw(KEYPASS));
        let result = import(format, &data, opts(Some(&store), Some(&key), None));
        assert_rejected(result, "too_large", &SECRETS, b"");
    }
    // Exactly the limit is not "too large" (it fails for another reason).
    let data = vec![b' '; MAX_INPUT_BYTES];
    assert_ne!(plain(Format::Pem, &data).unwrap_err().code(), "too_large");
}

/// Expiry is the server's business (it has the clock); the importer reports the dates.
#[test]
fn expired_certificate_imports_with_its_dates() {
    let keys = plain(Format::Pem, &interop_bytes("sample-expired-cert.pem")).unwrap();
    assert_eq!(keys.len(), 1);
    let info = keys[0].certificate.as_ref().expect("certificate info");
    assert_eq!(info.not_after, datetime!(2021-01-01 00:00:00 UTC));
    assert_eq!(info.not_before, datetime!(2020-01-01 00:00:00 UTC));
    assert_eq!(info.serial, "224c2a6e4e285f5d6229e39ec3fd134d3d4e548a");
    assert_eq!(keys[0].jwk.kty(), "RSA");
}
