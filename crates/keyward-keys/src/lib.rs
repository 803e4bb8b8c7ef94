//! Client key material in and out (DESIGN.md "Client keys (credentials)").
//!
//! In: certificates (PEM, DER), public keys (SPKI, PKCS#1), JWK and JWK Sets, PKCS#12 and JKS
//! keystores become public JWKs, with the certificate's facts when there is one. Whatever
//! private key a keystore holds is checked against its certificate and dropped; nothing private
//! leaves this crate. Out: [`generate`] makes a key pair, a self-signed certificate and a
//! keystore to hand out once.
//!
//! Every importer reads untrusted uploads: it must return an error, never panic, on any input
//! (property-tested), and never allocate from a length it has not checked. Keystores also have
//! a work bound ([`WorkBudget`]): key-derivation work, entries and certificates are capped and
//! charged before the expensive part runs.
#![forbid(unsafe_code)]

mod budget;
mod certificate;
mod error;
#[cfg(feature = "fixtures")]
pub mod fixtures;
mod generate;
mod jks;
mod jwk;
mod keystore;
mod password;
mod pem;
mod pkcs12;
mod pkcs8;
mod private_key;
mod spki;

use std::{fmt, str::FromStr};

pub use budget::{
    WorkBudget, MAX_CERTIFICATES, MAX_CHAIN_LENGTH, MAX_KDF_ITERATIONS, MAX_KDF_WORK, MAX_KEY_ENTRIES,
};
pub use error::KeyError;
pub use generate::{
    generate, Generated, KeyType, KeystoreFormat, KeystoreSpec, MAX_VALIDITY_DAYS, MIN_PASSWORD_CHARS,
};
use keyward_jose::KeyCheckError;
use keyward_types::{CertificateInfo, PublicJwk};
pub use password::Password;
pub use private_key::{load_private_key, PrivateKey};

/// Largest key material accepted, decoded (1 MiB): far above any real certificate or keystore.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// A public key read from an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedKey {
    /// Public members only, plus `x5c` when the key came in a certificate.
    pub jwk: PublicJwk,
    pub certificate: Option<CertificateInfo>,
    /// The keystore entry it came from.
    pub alias: Option<String>,
}

impl ImportedKey {
    pub(crate) fn bare(jwk: PublicJwk) -> Self {
        Self {
            jwk,
            certificate: None,
            alias: None,
        }
    }
}

/// The formats of the import API's `format` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pem,
    Der,
    Jwk,
    Jwks,
    Pkcs12,
    Jks,
}

impl Format {
    /// Every format, in the order forms offer them.
    pub const ALL: [Format; 6] = [
        Format::Pem,
        Format::Der,
        Format::Jwk,
        Format::Jwks,
        Format::Pkcs12,
        Format::Jks,
    ];

    /// Whether the admin API carries this format's data base64-encoded.
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Der | Format::Pkcs12 | Format::Jks)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pem => "pem",
            Format::Der => "der",
            Format::Jwk => "jwk",
            Format::Jwks => "jwks",
            Format::Pkcs12 => "pkcs12",
            Format::Jks => "jks",
        }
    }

    /// A best guess from the bytes, for tools that are handed a file (`keyward keys inspect`).
    pub fn detect(data: &[u8]) -> Option<Format> {
        let text = data.trim_ascii_start();
        if text.starts_with(b"-----BEGIN") {
            return Some(Format::Pem);
        }
        if text.starts_with(b"{") {
            let keys = serde_json::from_slice::<serde_json::Value>(text)
                .ok()
                .is_some_and(|v| v.get("keys").is_some());
            return Some(if keys { Format::Jwks } else { Format::Jwk });
        }
        if data.starts_with(&[0xfe, 0xed, 0xfe, 0xed]) {
            return Some(Format::Jks);
        }
        if data.first() == Some(&0x30) {
            let der = certificate::is_certificate(data) || spki::jwk_from_spki_der(data).is_ok();
            return Some(if der { Format::Der } else { Format::Pkcs12 });
        }
        None
    }
}

impl FromStr for Format {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s.to_ascii_lowercase().as_str() {
            "pem" => Ok(Format::Pem),
            "der" => Ok(Format::Der),
            "jwk" => Ok(Format::Jwk),
            "jwks" => Ok(Format::Jwks),
            "pkcs12" | "p12" => Ok(Format::Pkcs12),
            "jks" => Ok(Format::Jks),
            _ => Err(KeyError::UnknownFormat(s.chars().take(40).collect())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Passwords and alias for keystore formats; ignored by the others.
#[derive(Debug, Default, Clone, Copy)]
pub struct ImportOptions<'a> {
    pub password: Option<&'a Password>,
    pub key_password: Option<&'a Password>,
    pub alias: Option<&'a str>,
}

/// The public keys in `data`: one, except for a JWK Set (all its keys, or an error). Keystores
/// get the standard [`WorkBudget`].
pub fn import(format: Format, data: &[u8], options: ImportOptions<'_>) -> Result<Vec<ImportedKey>, KeyError> {
    import_within(format, data, options, &WorkBudget::new())
}

/// [`import`] under `work`: the caller keeps a clone of the budget to cancel the import (an
/// abandoned upload), which then stops before its next key derivation.
pub fn import_within(
    format: Format,
    data: &[u8],
    options: ImportOptions<'_>,
    work: &WorkBudget,
) -> Result<Vec<ImportedKey>, KeyError> {
    if data.len() > MAX_INPUT_BYTES {
        return Err(KeyError::TooLarge {
            limit: MAX_INPUT_BYTES,
        });
    }
    let keys = match format {
        Format::Pem => pem::import(data).map(|k| vec![k]),
        Format::Der => pem::import_der(data).map(|k| vec![k]),
        Format::Jwk => jwk::import_jwk(data),
        Format::Jwks => jwk::import_jwks(data),
        Format::Pkcs12 => {
            pkcs12::import(data, options.password, options.key_password, options.alias, work).map(|k| vec![k])
        }
        Format::Jks => {
            jks::import(data, options.password, options.key_password, options.alias).map(|k| vec![k])
        }
    }?;
    // The same size, curve and type rules for every format (keystores already ran them).
    for key in &keys {
        keyward_jose::check_public_jwk(&key.jwk, None)?;
    }
    Ok(keys)
}

impl From<KeyCheckError> for KeyError {
    fn from(e: KeyCheckError) -> Self {
        KeyError::Check(e)
    }
}
