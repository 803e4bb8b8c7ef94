//! Every accepted format and key type, read from files made by keytool, OpenSSL and jwcrypto:
//! the same key must come out with the same RFC 7638 thumbprint whatever carried it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::{engine::general_purpose::STANDARD, Engine};
use common::{check_key, jwk_file_thumbprint, opts, pw, Expect};
use keyward_keys::{import, Format, ImportOptions, ImportedKey, KeyError};
use keyward_testkit::fixtures::{interop_bytes, KEYPASS, STOREPASS};
use time::macros::datetime;

const RSA_JWK: &str = "sample-rsa2048-public.jwk";
const EC256_JWK: &str = "sample-ec256-public.jwk";
const ED25519_JWK: &str = "sample-ed25519-public.jwk";

/// sample-ec256.jks holds a different P-256 key than sample-ec256-cert.pem / -public.jwk
/// (certificate serial 36b643113999fe1d, CN=sample-client): its thumbprint was computed outside
/// keyward, from `keytool -exportcert` and Python `cryptography`.
const EC256_JKS_THUMBPRINT: &str = "u89JOBCbRB97GSb5SPWeICCVyn9ZWqXKEXbpsk5tZJQ";
/// `second-key` of sample-multi.jks (CN=sample-second), computed the same way.
const MULTI_SECOND_KEY_THUMBPRINT: &str = "GeCe7o0rKxw3CKi61aygSxk6YyL4C2plOr44mTg14M4";
/// sample-ec384-cert.pem has no JWK file; computed the same way from the certificate.
const EC384_THUMBPRINT: &str = "DRyPKEAbTHetZc6LR5n9nCr4QW_BjDshtA0Pkl-WHXg";

fn one(format: Format, file: &str, options: ImportOptions<'_>) -> ImportedKey {
    let keys = import(format, &interop_bytes(file), options);
    let keys = keys.unwrap_or_else(|e| panic!("{file}: {} ({e})", e.code()));
    assert_eq!(keys.len(), 1, "{file}: one key expected");
    keys.into_iter().next().unwrap()
}

/// A file that needs no password.
fn plain(format: Format, file: &str) -> ImportedKey {
    one(format, file, ImportOptions::default())
}

fn p12(file: &str) -> ImportedKey {
    let store = pw(STOREPASS);
    one(Format::Pkcs12, file, opts(Some(&store), None, None))
}

fn jks(file: &str, alias: Option<&str>) -> Result<Vec<ImportedKey>, KeyError> {
    let (store, key) = (pw(STOREPASS), pw(KEYPASS));
    import(
        Format::Jks,
        &interop_bytes(file),
        opts(Some(&store), Some(&key), alias),
    )
}

fn jks_one(file: &str, alias: Option<&str>) -> ImportedKey {
    let keys = jks(file, alias).unwrap_or_else(|e| panic!("{file}: {} ({e})", e.code()));
    assert_eq!(keys.len(), 1, "{file}: one key expected");
    keys.into_iter().next().unwrap()
}

const CERT: bool = true;
const BARE: bool = false;

fn rsa(cert: bool) -> Expect<'static> {
    let want = Expect::new("RSA", None, jwk_file_thumbprint(RSA_JWK));
    match cert {
        CERT => want.cert(
            "CN=sample-client",
            "206fa40484e41af5",
            datetime!(2036-11-19 22:44:08 UTC),
        ),
        BARE => want,
    }
}

fn ec256(cert: bool) -> Expect<'static> {
    let want = Expect::new("EC", Some("P-256"), jwk_file_thumbprint(EC256_JWK));
    let serial = "a63575e3f842c2a5fac0673100cd2774b433846";
    match cert {
        CERT => want.cert("CN=sample-ec-client", serial, datetime!(2036-11-19 22:44:09 UTC)),
        BARE => want,
    }
}

fn ed25519(cert: bool) -> Expect<'static> {
    let want = Expect::new("OKP", Some("Ed25519"), jwk_file_thumbprint(ED25519_JWK));
    let serial = "4cb8a10f1a4553ce09b2398940edfdbfcbce5612";
    match cert {
        CERT => want.cert("CN=sample-ed-client", serial, datetime!(2036-11-19 22:44:09 UTC)),
        BARE => want,
    }
}

fn ec256_jks_key() -> Expect<'static> {
    Expect::new("EC", Some("P-256"), EC256_JKS_THUMBPRINT).cert(
        "CN=sample-client",
        "36b643113999fe1d",
        datetime!(2036-11-19 22:44:08 UTC),
    )
}

fn ec384() -> Expect<'static> {
    let serial = "4faff7998ae541fd591eb99d6233ec73b86c6d1f";
    Expect::new("EC", Some("P-384"), EC384_THUMBPRINT).cert(
        "CN=sample-p384",
        serial,
        datetime!(2036-11-20 07:52:31 UTC),
    )
}

fn multi_second_key() -> Expect<'static> {
    Expect::new("EC", Some("P-256"), MULTI_SECOND_KEY_THUMBPRINT).cert(
        "CN=sample-second",
        "f3754248e5948974",
        datetime!(2036-11-20 07:52:32 UTC),
    )
}

/// One named test per format and key type: the imported key, and what it must be.
macro_rules! imports {
    ($($name:ident: $key:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            check_key(&$key, &$want);
        }
    )*};
}

imports! {
    // RSA-2048: the same key in every format.
    rsa_certificate_pem: plain(Format::Pem, "sample-rsa2048-cert.pem") => rsa(CERT);
    rsa_certificate_der: plain(Format::Der, "sample-rsa2048-cert.der") => rsa(CERT);
    rsa_spki_pem: plain(Format::Pem, "sample-rsa2048-public-spki.pem") => rsa(BARE);
    rsa_pkcs1_pem: plain(Format::Pem, "sample-rsa2048-public-pkcs1.pem") => rsa(BARE);
    rsa_jwk: plain(Format::Jwk, RSA_JWK) => rsa(BARE);
    rsa_pkcs12_keytool: p12("sample-rsa2048-keytool.p12") => rsa(CERT).alias("clientkey");
    rsa_pkcs12_openssl_aes: p12("sample-rsa2048-openssl-aes.p12") => rsa(CERT).alias("clientkey");
    rsa_pkcs12_openssl_legacy: p12("sample-rsa2048-openssl-legacy.p12") => rsa(CERT).alias("clientkey");
    rsa_jks: jks_one("sample-rsa2048.jks", None) => rsa(CERT).alias("clientkey");
    // EC P-256, EC P-384, Ed25519.
    ec256_certificate_pem: plain(Format::Pem, "sample-ec256-cert.pem") => ec256(CERT);
    ec256_jwk: plain(Format::Jwk, EC256_JWK) => ec256(BARE);
    ec256_jks: jks_one("sample-ec256.jks", None) => ec256_jks_key().alias("clientkey-ec");
    ec384_certificate_pem: plain(Format::Pem, "sample-ec384-cert.pem") => ec384();
    ed25519_certificate_pem: plain(Format::Pem, "sample-ed25519-cert.pem") => ed25519(CERT);
    ed25519_jwk: plain(Format::Jwk, ED25519_JWK) => ed25519(BARE);
    // Choosing an entry of a keystore by alias, case-insensitively as keytool does.
    multi_jks_second_key: jks_one("sample-multi.jks", Some("second-key")) => multi_second_key().alias("second-key");
    multi_jks_clientkey: jks_one("sample-multi.jks", Some("clientkey")) => rsa(CERT).alias("clientkey");
    multi_jks_trusted_certificate: jks_one("sample-multi.jks", Some("partner-cert")) => ed25519(CERT).alias("partner-cert");
    jks_alias_is_case_insensitive: jks_one("sample-multi.jks", Some("Second-KEY")) => multi_second_key().alias("second-key");
    jks_single_entry_alias_is_case_insensitive: jks_one("sample-rsa2048.jks", Some("CLIENTKEY")) => rsa(CERT).alias("clientkey");
    pkcs12_alias_is_case_insensitive: one(Format::Pkcs12, "sample-rsa2048-keytool.p12", opts(Some(&pw(STOREPASS)), None, Some("ClientKey"))) => rsa(CERT).alias("clientkey");
}

/// An `x5c` sent beside a JWK is not checked against the key, so it is not kept.
#[test]
fn jwk_with_client_supplied_x5c_drops_it() {
    let mut jwk: serde_json::Value = serde_json::from_slice(&interop_bytes(RSA_JWK)).unwrap();
    jwk["x5c"] = serde_json::json!([STANDARD.encode(interop_bytes("sample-ec256-cert.pem"))]);
    let data = serde_json::to_vec(&jwk).unwrap();
    let keys = import(Format::Jwk, &data, ImportOptions::default()).unwrap();
    check_key(&keys[0], &rsa(BARE));
}

#[test]
fn jwks_gives_three_keys_in_order() {
    let keys = import(
        Format::Jwks,
        &interop_bytes("sample-jwks.json"),
        ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(keys.len(), 3);
    check_key(&keys[0], &rsa(BARE));
    check_key(&keys[1], &ec256(BARE));
    check_key(&keys[2], &ed25519(BARE));
}

#[test]
fn multi_jks_without_alias_requires_one() {
    let err = jks("sample-multi.jks", None).unwrap_err();
    assert_eq!(err.code(), "alias_required");
    let KeyError::AliasRequired(aliases) = &err else {
        panic!("{err:?}")
    };
    let mut aliases = aliases.clone();
    aliases.sort();
    assert_eq!(aliases, ["clientkey", "partner-cert", "second-key"]);
    for a in ["clientkey", "second-key", "partner-cert"] {
        assert!(err.to_string().contains(a), "{err}");
    }
}

#[test]
fn multi_jks_unknown_alias_lists_aliases() {
    let err = jks("sample-multi.jks", Some("nope")).unwrap_err();
    assert_eq!(err.code(), "unknown_alias");
    let KeyError::UnknownAlias { alias, available } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(alias, "nope");
    assert_eq!(available.len(), 3);
    for a in ["clientkey", "second-key", "partner-cert"] {
        assert!(err.to_string().contains(a), "{err}");
    }
}

#[test]
fn pkcs12_unknown_alias_lists_aliases() {
    let (store, data) = (pw(STOREPASS), interop_bytes("sample-rsa2048-keytool.p12"));
    let err = import(Format::Pkcs12, &data, opts(Some(&store), None, Some("other"))).unwrap_err();
    assert_eq!(err.code(), "unknown_alias");
    assert!(err.to_string().contains("clientkey"), "{err}");
}

#[test]
fn detect_each_interop_file() {
    let pem = [
        "sample-rsa2048-cert.pem",
        "sample-rsa2048-public-spki.pem",
        "sample-rsa2048-public-pkcs1.pem",
        "sample-rsa2048-private.pem",
        "sample-ec256-cert.pem",
        "sample-ec384-cert.pem",
        "sample-ec521-cert.pem",
        "sample-ed25519-cert.pem",
        "sample-rsa1024-cert.pem",
        "sample-expired-cert.pem",
    ];
    let p12 = [
        "sample-rsa2048-keytool.p12",
        "sample-rsa2048-openssl-aes.p12",
        "sample-rsa2048-openssl-legacy.p12",
        "sample-dsa.p12",
        "sample-truncated.p12",
    ];
    let jks = [
        "sample-rsa2048.jks",
        "sample-ec256.jks",
        "sample-multi.jks",
        "sample-tampered.jks",
    ];
    let table = (pem.iter().map(|f| (*f, Format::Pem)))
        .chain(p12.iter().map(|f| (*f, Format::Pkcs12)))
        .chain(jks.iter().map(|f| (*f, Format::Jks)))
        .chain([RSA_JWK, EC256_JWK, ED25519_JWK].map(|f| (f, Format::Jwk)))
        .chain([
            ("sample-rsa2048-cert.der", Format::Der),
            ("sample-jwks.json", Format::Jwks),
        ]);
    for (file, format) in table {
        assert_eq!(Format::detect(&interop_bytes(file)), Some(format), "{file}");
    }
    assert_eq!(Format::detect(b""), None);
    assert_eq!(Format::detect(b"hello"), None);
}
