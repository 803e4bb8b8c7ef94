//! Helpers shared by the integration tests: the interop files, passwords, and the checks every
//! imported key and every error must pass.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use keyward_keys::{ImportOptions, ImportedKey, KeyError, Password};
use keyward_types::PublicJwk;
use time::OffsetDateTime;

use keyward_testkit::fixtures::interop_bytes;

/// The RFC 7638 thumbprint of an interop `*-public.jwk` file.
pub fn jwk_file_thumbprint(name: &str) -> String {
    let jwk: PublicJwk = serde_json::from_slice(&interop_bytes(name)).unwrap();
    jwk.thumbprint()
}

pub fn pw(s: &str) -> Password {
    Password::new(s)
}

pub fn opts<'a>(
    password: Option<&'a Password>,
    key_password: Option<&'a Password>,
    alias: Option<&'a str>,
) -> ImportOptions<'a> {
    ImportOptions {
        password,
        key_password,
        alias,
    }
}

/// What an imported key must look like.
pub struct Expect<'a> {
    pub kty: &'a str,
    pub crv: Option<&'a str>,
    pub thumbprint: String,
    /// Subject fragment, lower-case hex serial and not_after, when the input had a certificate.
    pub cert: Option<(&'a str, &'a str, OffsetDateTime)>,
    pub alias: Option<&'a str>,
}

const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl<'a> Expect<'a> {
    pub fn new(kty: &'a str, crv: Option<&'a str>, thumbprint: impl Into<String>) -> Self {
        Self {
            kty,
            crv,
            thumbprint: thumbprint.into(),
            cert: None,
            alias: None,
        }
    }

    pub fn cert(self, subject: &'a str, serial: &'a str, not_after: OffsetDateTime) -> Self {
        Self {
            cert: Some((subject, serial, not_after)),
            ..self
        }
    }

    pub fn alias(self, alias: &'a str) -> Self {
        Self {
            alias: Some(alias),
            ..self
        }
    }
}

pub fn check_key(key: &ImportedKey, want: &Expect<'_>) {
    let jwk = &key.jwk;
    assert_eq!(jwk.kty(), want.kty, "kty");
    assert_eq!(jwk.crv(), want.crv, "crv");
    assert_eq!(jwk.thumbprint(), want.thumbprint, "thumbprint");
    let serialized = serde_json::to_value(jwk).unwrap();
    for m in PRIVATE_MEMBERS {
        assert!(serialized.get(m).is_none(), "private member {m} serialized");
    }
    assert_eq!(key.alias.as_deref(), want.alias, "alias");
    match (&key.certificate, &want.cert) {
        (Some(info), Some((subject, serial, not_after))) => {
            assert!(
                info.subject.contains(subject),
                "subject {:?} lacks {subject}",
                info.subject
            );
            assert!(!info.issuer.is_empty(), "issuer empty");
            assert!(!info.serial.is_empty(), "serial empty");
            assert_eq!(info.serial, *serial, "serial");
            assert_eq!(info.not_after, *not_after, "not_after");
            assert!(info.not_before < info.not_after);
            let chain = jwk.x5c.as_ref().expect("x5c missing for a certificate input");
            assert_eq!(chain.len(), 1, "x5c holds the one certificate");
            let der = STANDARD.decode(&chain[0]).unwrap();
            assert_eq!(der.first(), Some(&0x30), "x5c holds DER");
        }
        (None, None) => {
            assert!(jwk.x5c.is_none(), "x5c present without a certificate");
            assert!(
                serialized.get("x5c").is_none(),
                "x5c present without a certificate"
            );
        }
        (got, want) => panic!(
            "certificate info present: {}, expected: {}",
            got.is_some(),
            want.is_some()
        ),
    }
}

/// The error's code is `code`, and its message is non-empty and leaks neither a secret nor any
/// base64 of the input.
pub fn assert_rejected(
    result: Result<Vec<ImportedKey>, KeyError>,
    code: &str,
    secrets: &[&str],
    data: &[u8],
) -> KeyError {
    let err = match result {
        Ok(keys) => panic!(
            "expected {code}, got {} key(s): {:?}",
            keys.len(),
            keys.first().map(|k| &k.jwk)
        ),
        Err(e) => e,
    };
    assert_eq!(err.code(), code, "wrong code; message: {err}");
    assert_clean_message(&err, secrets, data);
    err
}

pub fn assert_clean_message(err: &KeyError, secrets: &[&str], data: &[u8]) {
    let message = err.to_string();
    assert!(!message.trim().is_empty(), "empty message for {}", err.code());
    for s in secrets {
        assert!(!message.contains(s), "message leaks secret {s:?}: {message}");
    }
    // No run of base64 characters long enough to be key material.
    let longest = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || "+/=_-".contains(c)))
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest < 24, "message holds a base64-like run: {message}");
    // Nor any 16-character window of the input's base64 (standard or URL-safe).
    for encoded in [STANDARD.encode(data), URL_SAFE_NO_PAD.encode(data)] {
        let bytes = encoded.as_bytes();
        for w in bytes.windows(16).step_by(4) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(
                !message.contains(w),
                "message leaks input base64 {w:?}: {message}"
            );
        }
    }
}
