//! Server-made key pairs (DESIGN.md "Client keys": generate). The private key exists only in
//! memory, long enough to sign its self-signed certificate and be written into the keystore the
//! caller returns once; every buffer that held it is zeroized.

use std::{fmt, str::FromStr};

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der},
    rand::SecureRandom,
    rsa::{KeyPair as RsaKeyPair, KeySize},
    signature::{
        EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
    },
};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, KeyPair, KeyUsagePurpose, SerialNumber, SignatureAlgorithm,
};
use rustls_pki_types::PrivatePkcs8KeyDer;
use time::{Duration, OffsetDateTime};
use zeroize::{Zeroize, Zeroizing};

use crate::{certificate, jks, pkcs12, ImportedKey, KeyError, Password};

/// Shortest store or key password accepted for a generated keystore.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest certificate validity a generated key gets.
pub const MAX_VALIDITY_DAYS: u32 = 3650;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcP256,
    EcP384,
    Ed25519,
}

impl KeyType {
    pub const ALL: [KeyType; 6] = [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::EcP256,
        KeyType::EcP384,
        KeyType::Ed25519,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "RSA-2048",
            KeyType::Rsa3072 => "RSA-3072",
            KeyType::Rsa4096 => "RSA-4096",
            KeyType::EcP256 => "EC-P256",
            KeyType::EcP384 => "EC-P384",
            KeyType::Ed25519 => "Ed25519",
        }
    }

    /// The certificate's signature: SHA-256 for RSA and P-256, SHA-384 for P-384 (the curve's
    /// own strength), and PureEdDSA for Ed25519, which has no separate hash.
    fn signature(self) -> &'static SignatureAlgorithm {
        match self {
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
            KeyType::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }

    fn generate_pkcs8(self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let failed = |_| KeyError::Generation("the key pair could not be generated".into());
        let rsa = |size| -> Result<Zeroizing<Vec<u8>>, KeyError> {
            let key = RsaKeyPair::generate(size).map_err(failed)?;
            let der: Pkcs8V1Der<'static> = key.as_der().map_err(failed)?;
            Ok(Zeroizing::new(der.as_ref().to_vec()))
        };
        let doc = match self {
            KeyType::Rsa2048 => return rsa(KeySize::Rsa2048),
            KeyType::Rsa3072 => return rsa(KeySize::Rsa3072),
            KeyType::Rsa4096 => return rsa(KeySize::Rsa4096),
            KeyType::EcP256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map_err(failed)?,
            KeyType::EcP384 => EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map_err(failed)?,
            KeyType::Ed25519 => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map_err(failed)?,
        };
        Ok(Zeroizing::new(doc.as_ref().to_vec()))
    }
}

impl FromStr for KeyType {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        KeyType::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| KeyError::UnknownKeyType(s.chars().take(40).collect()))
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeystoreFormat {
    Pkcs12,
    Jks,
}

impl KeystoreFormat {
    pub fn extension(self) -> &'static str {
        match self {
            KeystoreFormat::Pkcs12 => "p12",
            KeystoreFormat::Jks => "jks",
        }
    }
}

impl FromStr for KeystoreFormat {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s.to_ascii_lowercase().as_str() {
            "pkcs12" | "p12" => Ok(KeystoreFormat::Pkcs12),
            "jks" => Ok(KeystoreFormat::Jks),
            _ => Err(KeyError::UnknownKeystoreFormat(s.chars().take(40).collect())),
        }
    }
}

/// What to generate. `key_password` defaults to the store password; PKCS#12 accepts no other
/// (keytool ignores a different one, and OpenSSL has one password per file).
pub struct KeystoreSpec<'a> {
    pub key_type: KeyType,
    pub format: KeystoreFormat,
    pub alias: &'a str,
    pub store_password: &'a Password,
    pub key_password: Option<&'a Password>,
    /// The certificate's subject common name (keyward uses the client id).
    pub common_name: &'a str,
    pub validity_days: u32,
    pub now: OffsetDateTime,
}

/// A keystore to hand out once, and the public key to keep.
pub struct Generated {
    pub keystore: Zeroizing<Vec<u8>>,
    pub key: ImportedKey,
}

impl fmt::Debug for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generated")
            .field("keystore", &"<redacted>")
            .field("key", &self.key)
            .finish()
    }
}

/// Checks the request, then makes the key pair, its certificate and the keystore.
pub fn generate(spec: &KeystoreSpec<'_>) -> Result<Generated, KeyError> {
    check(spec)?;
    let pkcs8 = spec.key_type.generate_pkcs8()?;
    let cert_der = self_signed(spec, &pkcs8)?;
    let key_password = spec.key_password.unwrap_or(spec.store_password);
    let keystore = Zeroizing::new(match spec.format {
        KeystoreFormat::Pkcs12 => pkcs12::write(spec.alias, &pkcs8, &cert_der, spec.store_password)?,
        KeystoreFormat::Jks => {
            let mut salt = [0u8; 20];
            keyward_types::random::rng()
                .fill(&mut salt)
                .map_err(|_| KeyError::Generation("no randomness".into()))?;
            let entry = jks::NewKeyEntry {
                alias: spec.alias,
                pkcs8_der: &pkcs8,
                chain: std::slice::from_ref(&cert_der),
                created_ms: u64::try_from(spec.now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0),
            };
            jks::write(&entry, spec.store_password.expose(), key_password.expose(), salt)
        }
    });
    let mut key = certificate::import_der(&cert_der)?;
    key.alias = Some(spec.alias.to_owned());
    Ok(Generated { keystore, key })
}

fn check(spec: &KeystoreSpec<'_>) -> Result<(), KeyError> {
    if spec.store_password.char_count() < MIN_PASSWORD_CHARS {
        return Err(KeyError::PasswordTooShort {
            field: "store_password",
            min: MIN_PASSWORD_CHARS,
        });
    }
    if let Some(k) = spec.key_password {
        if k.char_count() < MIN_PASSWORD_CHARS {
            return Err(KeyError::PasswordTooShort {
                field: "key_password",
                min: MIN_PASSWORD_CHARS,
            });
        }
        if spec.format == KeystoreFormat::Pkcs12 && k.expose() != spec.store_password.expose() {
            return Err(KeyError::InvalidRequest(
                "a PKCS#12 keystore protects its key with the store password; omit key_password or make it equal"
                    .into(),
            ));
        }
    }
    let alias_ok = !spec.alias.is_empty()
        && spec.alias.chars().count() <= 64
        && !spec.alias.chars().any(char::is_control);
    if !alias_ok {
        return Err(KeyError::InvalidRequest(
            "alias must be 1 to 64 characters without control characters".into(),
        ));
    }
    if spec.validity_days == 0 || spec.validity_days > MAX_VALIDITY_DAYS {
        return Err(KeyError::InvalidRequest(format!(
            "validity_days must be between 1 and {MAX_VALIDITY_DAYS}"
        )));
    }
    Ok(())
}

/// An X.509 v3 certificate for the key, signed by itself: subject CN = `common_name`, a random
/// positive 128-bit serial, digital-signature key usage, valid from now for `validity_days`.
fn self_signed(spec: &KeystoreSpec<'_>, pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
    let failed = KeyError::Certificate;
    let mut key_pair =
        KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8), spec.key_type.signature())
            .map_err(failed)?;
    let mut serial = [0u8; 16];
    keyward_types::random::rng()
        .fill(&mut serial)
        .map_err(|_| KeyError::Generation("no randomness".into()))?;
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, spec.common_name);
    params.distinguished_name = dn;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = spec.now - Duration::minutes(1);
    params.not_after = spec.now + Duration::days(i64::from(spec.validity_days));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key_pair).map_err(failed);
    key_pair.zeroize();
    Ok(cert?.der().to_vec())
}
