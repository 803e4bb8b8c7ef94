//! Uploads are untrusted: whatever the bytes, passwords and alias, `import` and `Format::detect`
//! return, never panic. Arbitrary bytes for every format, and damaged copies of real keystores
//! and certificates (which get much further into the parsers than random bytes do).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{opts, pw};
use keyward_keys::{import, Format};
use keyward_testkit::fixtures::{interop_bytes, KEYPASS, STOREPASS};
use proptest::{collection::vec, option, prelude::*};

const MAX_LEN: usize = 8 * 1024;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Passwords and aliases: short strings of any characters, sometimes a real password.
fn secret() -> impl Strategy<Value = Option<String>> {
    option::of(prop_oneof![
        3 => any::<String>().prop_map(|s| s.chars().take(64).collect()),
        1 => Just(STOREPASS.to_owned()),
        1 => Just(KEYPASS.to_owned()),
    ])
}

fn alias() -> impl Strategy<Value = Option<String>> {
    option::of(prop_oneof![
        any::<String>().prop_map(|s| s.chars().take(64).collect()),
        Just("clientkey".to_owned()),
        Just("second-key".to_owned()),
    ])
}

/// Imports, discarding the outcome: returning at all is the property.
fn try_import(
    format: Format,
    data: &[u8],
    password: Option<&str>,
    key_password: Option<&str>,
    alias: Option<&str>,
) {
    let (password, key_password) = (password.map(pw), key_password.map(pw));
    if let Err(e) = import(
        format,
        data,
        opts(password.as_ref(), key_password.as_ref(), alias),
    ) {
        assert!(!e.code().is_empty());
        assert!(!e.to_string().is_empty());
    }
    let _ = Format::detect(data);
}

macro_rules! arbitrary_bytes {
    ($($name:ident => $format:expr,)*) => {
        proptest! {
            #![proptest_config(config())]
            $(
                #[test]
                fn $name(
                    data in vec(any::<u8>(), 0..=MAX_LEN),
                    password in secret(),
                    key_password in secret(),
                    alias in alias(),
                ) {
                    try_import($format, &data, password.as_deref(), key_password.as_deref(), alias.as_deref());
                }
            )*
        }
    };
}

arbitrary_bytes! {
    arbitrary_bytes_as_pem => Format::Pem,
    arbitrary_bytes_as_der => Format::Der,
    arbitrary_bytes_as_jwk => Format::Jwk,
    arbitrary_bytes_as_jwks => Format::Jwks,
    arbitrary_bytes_as_pkcs12 => Format::Pkcs12,
    arbitrary_bytes_as_jks => Format::Jks,
}

/// A real file damaged once: a byte XORed with a non-zero value, or the file cut short.
#[derive(Debug, Clone)]
enum Damage {
    Flip { at: prop::sample::Index, xor: u8 },
    Truncate(prop::sample::Index),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(at, xor)| Damage::Flip { at, xor }),
        any::<prop::sample::Index>().prop_map(Damage::Truncate),
    ]
}

fn damaged(file: &str, damage: &Damage) -> Vec<u8> {
    let mut data = interop_bytes(file);
    match damage {
        Damage::Flip { at, xor } => {
            let i = at.index(data.len());
            data[i] ^= xor;
        }
        Damage::Truncate(at) => data.truncate(at.index(data.len())),
    }
    data
}

/// A JKS file whose body (everything before the 20-byte digest) is damaged, then sealed again.
fn resealed(file: &str, damage: &Damage) -> Vec<u8> {
    let mut body = interop_bytes(file);
    body.truncate(body.len() - 20);
    match damage {
        Damage::Flip { at, xor } => {
            let i = at.index(body.len());
            body[i] ^= xor;
        }
        Damage::Truncate(at) => body.truncate(at.index(body.len())),
    }
    seal(body)
}

/// Appends the digest Java computes: SHA-1 of the UTF-16BE password, "Mighty Aphrodite", the body.
fn seal(mut body: Vec<u8>) -> Vec<u8> {
    use sha1::Digest;
    let password: Vec<u8> = STOREPASS.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let digest = sha1::Sha1::new()
        .chain_update(&password)
        .chain_update(b"Mighty Aphrodite")
        .chain_update(&body)
        .finalize();
    body.extend_from_slice(&digest);
    body
}

#[test]
fn sealing_an_undamaged_jks_reproduces_it() {
    let file = interop_bytes("sample-rsa2048.jks");
    assert_eq!(seal(file[..file.len() - 20].to_vec()), file);
}

const P12_FILES: [&str; 3] = [
    "sample-rsa2048-keytool.p12",
    "sample-rsa2048-openssl-aes.p12",
    "sample-rsa2048-openssl-legacy.p12",
];
const JKS_FILES: [&str; 3] = ["sample-rsa2048.jks", "sample-ec256.jks", "sample-multi.jks"];

proptest! {
    #![proptest_config(config())]

    /// With the right password, so that a damaged file gets past the MAC as far as it can.
    #[test]
    fn damaged_pkcs12_never_panics(file in prop::sample::select(P12_FILES.as_slice()), damage in damage(), alias in alias()) {
        let data = damaged(file, &damage);
        try_import(Format::Pkcs12, &data, Some(STOREPASS), None, alias.as_deref());
        try_import(Format::Pkcs12, &data, None, None, None);
    }

    #[test]
    fn damaged_jks_never_panics(file in prop::sample::select(JKS_FILES.as_slice()), damage in damage(), alias in alias()) {
        let data = damaged(file, &damage);
        try_import(Format::Jks, &data, Some(STOREPASS), Some(KEYPASS), alias.as_deref());
        try_import(Format::Jks, &data, Some(STOREPASS), None, None);
    }

    /// Damage inside the body, then a fresh integrity digest, as an attacker who knows the store
    /// password could make: entry parsing, key decryption and certificate checks all run.
    #[test]
    fn damaged_and_resealed_jks_never_panics(file in prop::sample::select(JKS_FILES.as_slice()), damage in damage(), alias in alias()) {
        let data = resealed(file, &damage);
        try_import(Format::Jks, &data, Some(STOREPASS), Some(KEYPASS), alias.as_deref());
    }

    #[test]
    fn damaged_certificate_der_never_panics(damage in damage()) {
        let data = damaged("sample-rsa2048-cert.der", &damage);
        try_import(Format::Der, &data, None, None, None);
    }

    #[test]
    fn detect_never_panics(data in vec(any::<u8>(), 0..=MAX_LEN)) {
        let _ = Format::detect(&data);
    }

    /// Detection on text that starts like the formats it recognises, so its JSON and DER probes run.
    #[test]
    fn detect_never_panics_on_plausible_prefixes(
        prefix in prop::sample::select(vec![&b"-----BEGIN"[..], b"{", b"  {\"keys\":", &[0xfe, 0xed, 0xfe, 0xed], &[0x30, 0x82]]),
        rest in vec(any::<u8>(), 0..=MAX_LEN),
    ) {
        let data = [prefix, rest.as_slice()].concat();
        let _ = Format::detect(&data);
    }
}
