//! Generated keystores, for every key type in both formats, read back by the tools clients use
//! (`keytool`, OpenSSL 3) and by keyward's own importer, plus the requests `generate` refuses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::{path::Path, process::Command};

use common::{assert_clean_message, opts, pw};
use keyward_keys::{
    generate, import, Format, Generated, KeyError, KeyType, KeystoreFormat, KeystoreSpec, Password,
};
use time::{Duration, OffsetDateTime};

const STORE_PASS: &str = "store-pass-1";
const KEY_PASS: &str = "key-pass-22";
const ALIAS: &str = "client-key";

fn spec<'a>(
    key_type: KeyType,
    format: KeystoreFormat,
    store: &'a Password,
    key: Option<&'a Password>,
) -> KeystoreSpec<'a> {
    KeystoreSpec {
        key_type,
        format,
        alias: ALIAS,
        store_password: store,
        key_password: key,
        common_name: "billing",
        validity_days: 30,
        now: keyward_types::Clock::now(&keyward_types::SystemClock),
    }
}

/// Runs a command line (split at spaces; temporary paths have none), asserting exit 0; returns
/// stdout and stderr together (keytool and openssl split their reports between the two).
fn run(line: &str) -> String {
    let mut words = line.split(' ');
    let program = words.next().unwrap();
    let out = Command::new(program)
        .args(words)
        .output()
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{line}: exited {}:\n{stdout}\n{stderr}",
        out.status
    );
    format!("{stdout}\n{stderr}")
}

/// The base64 body of the first PEM block with this label, on one line.
fn pem_body(text: &str, label: &str) -> String {
    let begin = format!("-----BEGIN {label}-----");
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("no {label} block in:\n{text}"));
    text[start + begin.len()..]
        .lines()
        .take_while(|l| !l.starts_with("-----END"))
        .collect()
}

/// The thumbprint of the public half of the private key in OpenSSL's `pkcs12 -nodes` output,
/// derived by `openssl pkey -pubout`: equal to the certificate's, it proves the keystore's private
/// key belongs to its certificate.
fn private_key_thumbprint(dir: &Path, p12_output: &str) -> String {
    let key_file = dir.join("key.pem");
    std::fs::write(&key_file, p12_output).unwrap();
    let public = run(&format!("openssl pkey -pubout -in {}", key_file.display()));
    let imported = import(Format::Pem, public.as_bytes(), Default::default()).unwrap();
    imported[0].jwk.thumbprint()
}

fn expected_jwk_type(key_type: KeyType) -> (&'static str, Option<&'static str>) {
    match key_type {
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => ("RSA", None),
        KeyType::EcP256 => ("EC", Some("P-256")),
        KeyType::EcP384 => ("EC", Some("P-384")),
        KeyType::Ed25519 => ("OKP", Some("Ed25519")),
    }
}

fn check_generated(generated: &Generated, key_type: KeyType, now: OffsetDateTime) {
    let key = &generated.key;
    let (kty, crv) = expected_jwk_type(key_type);
    assert_eq!(key.jwk.kty(), kty);
    assert_eq!(key.jwk.crv(), crv);
    assert_eq!(key.alias.as_deref(), Some(ALIAS));
    let serialized = serde_json::to_value(&key.jwk).unwrap();
    for m in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(serialized.get(m).is_none(), "private member {m}");
    }
    assert_eq!(key.jwk.x5c.as_ref().map(Vec::len), Some(1), "x5c");
    let info = key.certificate.as_ref().expect("certificate info");
    assert!(info.subject.contains("CN=billing"), "{}", info.subject);
    assert_eq!(info.subject, info.issuer, "self-signed");
    assert!(!info.serial.is_empty());
    let validity = info.not_after - now;
    assert!(
        (validity - Duration::days(30)).abs() <= Duration::seconds(2),
        "not_after - now = {validity}"
    );
    assert!(
        info.not_before <= now,
        "not_before {} after now {now}",
        info.not_before
    );
}

fn round_trip(key_type: KeyType, format: KeystoreFormat) {
    let (store, key) = (pw(STORE_PASS), pw(KEY_PASS));
    let key_password = (format == KeystoreFormat::Jks).then_some(&key);
    let spec = spec(key_type, format, &store, key_password);
    let generated = generate(&spec).unwrap_or_else(|e| panic!("{key_type} {format:?}: {} ({e})", e.code()));
    check_generated(&generated, key_type, spec.now);
    let thumbprint = generated.key.jwk.thumbprint();
    let x5c = generated.key.jwk.x5c.as_ref().unwrap()[0].clone();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("generated.{}", format.extension()));
    std::fs::write(&file, generated.keystore.as_slice()).unwrap();
    let path = file.display();
    let storetype = match format {
        KeystoreFormat::Pkcs12 => "PKCS12",
        KeystoreFormat::Jks => "JKS",
    };
    let listing = run(&format!(
        "keytool -list -v -storetype {storetype} -storepass {STORE_PASS} -keystore {path}"
    ));
    assert!(listing.contains(ALIAS), "{listing}");
    assert!(listing.contains("CN=billing"), "{listing}");
    assert!(listing.contains("PrivateKeyEntry"), "{listing}");

    // OpenSSL shows the certificate, and decrypts a private key that belongs to it.
    let p12 = match format {
        KeystoreFormat::Pkcs12 => file.clone(),
        KeystoreFormat::Jks => {
            // OpenSSL cannot read JKS: keytool converts it, which needs the key password.
            let p12 = dir.path().join("converted.p12");
            run(&format!(
                "keytool -importkeystore -noprompt -srckeystore {path} -srcstoretype JKS -srcalias {ALIAS} \
                 -srcstorepass {STORE_PASS} -srckeypass {KEY_PASS} -destkeystore {} -deststoretype PKCS12 \
                 -deststorepass {STORE_PASS} -destkeypass {STORE_PASS}",
                p12.display()
            ));
            p12
        }
    };
    let info = run(&format!(
        "openssl pkcs12 -info -nodes -passin pass:{STORE_PASS} -in {}",
        p12.display()
    ));
    assert_eq!(
        pem_body(&info, "CERTIFICATE"),
        x5c,
        "openssl shows another certificate"
    );
    assert!(info.contains("billing"), "{info}");
    let key_thumbprint = private_key_thumbprint(dir.path(), &info);
    assert_eq!(
        key_thumbprint, thumbprint,
        "the keystore's private key does not match its certificate"
    );

    // keyward reads back what it wrote.
    let import_format = match format {
        KeystoreFormat::Pkcs12 => Format::Pkcs12,
        KeystoreFormat::Jks => Format::Jks,
    };
    let keys = import(
        import_format,
        &generated.keystore,
        opts(Some(&store), key_password, None),
    )
    .unwrap_or_else(|e| panic!("re-import: {} ({e})", e.code()));
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].jwk.thumbprint(), thumbprint);
    assert_eq!(keys[0].alias.as_deref(), Some(ALIAS));
    assert_eq!(keys[0].certificate, generated.key.certificate);
}

macro_rules! round_trips {
    ($($name:ident => $key_type:ident, $format:ident;)*) => {$(
        #[test]
        fn $name() {
            round_trip(KeyType::$key_type, KeystoreFormat::$format);
        }
    )*};
}

round_trips! {
    rsa2048_pkcs12 => Rsa2048, Pkcs12;
    rsa3072_pkcs12 => Rsa3072, Pkcs12;
    rsa4096_pkcs12 => Rsa4096, Pkcs12;
    ec_p256_pkcs12 => EcP256, Pkcs12;
    ec_p384_pkcs12 => EcP384, Pkcs12;
    ed25519_pkcs12 => Ed25519, Pkcs12;
    rsa2048_jks => Rsa2048, Jks;
    rsa3072_jks => Rsa3072, Jks;
    rsa4096_jks => Rsa4096, Jks;
    ec_p256_jks => EcP256, Jks;
    ec_p384_jks => EcP384, Jks;
    ed25519_jks => Ed25519, Jks;
}

/// The macro above names every key type: a new one fails here until it gets its round trips.
#[test]
fn every_key_type_is_round_tripped() {
    assert_eq!(KeyType::ALL.len(), 6);
    for k in KeyType::ALL {
        assert_eq!(k.as_str().parse::<KeyType>().unwrap(), k);
    }
}

// Refused requests.

fn refused(result: Result<Generated, KeyError>, code: &str, secrets: &[&str]) {
    let err = result.expect_err("generation should have been refused");
    assert_eq!(err.code(), code, "{err}");
    assert_clean_message(&err, secrets, b"");
}

#[test]
fn store_password_of_seven_characters_is_too_short() {
    let store = pw("seven-7");
    for format in [KeystoreFormat::Pkcs12, KeystoreFormat::Jks] {
        refused(
            generate(&spec(KeyType::EcP256, format, &store, None)),
            "password_too_short",
            &["seven-7"],
        );
    }
}

#[test]
fn unknown_key_type() {
    let err = "RSA-1024".parse::<KeyType>().unwrap_err();
    assert_eq!(err.code(), "unknown_key_type");
    assert!(err.to_string().contains("RSA-1024"), "{err}");
}

#[test]
fn pkcs12_with_a_different_key_password() {
    let (store, key) = (pw(STORE_PASS), pw(KEY_PASS));
    let result = generate(&spec(KeyType::EcP256, KeystoreFormat::Pkcs12, &store, Some(&key)));
    refused(result, "invalid_request", &[STORE_PASS, KEY_PASS]);
}

#[test]
fn validity_of_zero_days() {
    let store = pw(STORE_PASS);
    for format in [KeystoreFormat::Pkcs12, KeystoreFormat::Jks] {
        let spec = KeystoreSpec {
            validity_days: 0,
            ..spec(KeyType::EcP256, format, &store, None)
        };
        refused(generate(&spec), "invalid_request", &[STORE_PASS]);
    }
}
