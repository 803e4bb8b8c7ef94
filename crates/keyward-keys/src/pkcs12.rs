//! PKCS#12 keystores, read and written through the `p12-keystore` crate: PBES2/AES as keytool
//! and OpenSSL 3 write them, and the legacy RC2-40/3DES with a SHA-1 MAC of older tools.
//!
//! The crate decrypts the key bags into its own buffers, which it frees but does not zeroize;
//! keyward holds the decrypted key only as long as it takes to check it against the certificate.

use p12_keystore::{
    error::Error as P12Error, Certificate, KeyStore, KeyStoreEntry, Pkcs12Archive, PrivateKey,
    PrivateKeyChain,
};
use zeroize::Zeroizing;

use crate::{
    keystore::{choose, finish, StoreEntry},
    ImportedKey, KeyError, Password,
};

pub(crate) fn import(
    data: &[u8],
    password: Option<&Password>,
    key_password: Option<&Password>,
    alias: Option<&str>,
) -> Result<ImportedKey, KeyError> {
    let password = password.ok_or(KeyError::PasswordRequired("password (the store password)"))?;
    let archive = Pkcs12Archive::from_pkcs12(data, password.expose()).map_err(map_error)?;
    // PKCS#12 protects the key with the store password (keytool refuses anything else), so a
    // different key password is a wrong one.
    if key_password.is_some_and(|k| k.expose() != password.expose()) {
        return Err(KeyError::WrongKeyPassword);
    }
    let mut entries = Vec::new();
    for (i, bag) in archive.keys.iter().enumerate() {
        let key_id = bag.local_key_id.as_ref().map(|k| k.0.as_slice());
        let cert = archive
            .certs
            .iter()
            .find(|c| c.local_key_id.is_some() && c.local_key_id.as_deref() == key_id)
            .or(match (archive.keys.len(), archive.certs.as_slice()) {
                (1, [only]) => Some(only),
                _ => None,
            });
        entries.push(StoreEntry {
            alias: bag
                .friendly_name
                .clone()
                .unwrap_or_else(|| format!("key-{}", i + 1)),
            cert: cert.map(|c| c.cert.as_der().to_vec()),
            key: Some(Zeroizing::new(bag.key.as_der().to_vec())),
        });
    }
    let paired =
        |c: &p12_keystore::CertificateBag| entries.iter().any(|e| e.cert.as_deref() == Some(c.cert.as_der()));
    let mut certs = Vec::new();
    for (i, c) in archive.certs.iter().enumerate() {
        if !paired(c) {
            certs.push(StoreEntry {
                alias: c
                    .friendly_name
                    .clone()
                    .unwrap_or_else(|| format!("certificate-{}", i + 1)),
                cert: Some(c.cert.as_der().to_vec()),
                key: None,
            });
        }
    }
    entries.extend(certs);
    drop(archive);
    let chosen = choose(entries, alias)?;
    finish(chosen.alias, chosen.cert.as_deref(), chosen.key.as_ref())
}

fn map_error(e: P12Error) -> KeyError {
    match e {
        P12Error::MacError(_) => KeyError::WrongPassword,
        P12Error::DerError(_) | P12Error::InvalidLength | P12Error::InvalidVersion => {
            KeyError::Broken("not a complete PKCS#12 file (truncated or damaged)".into())
        }
        P12Error::UnpadError | P12Error::Pkcs5Error(_) => KeyError::WrongKeyPassword,
        P12Error::UnsupportedEncryptionScheme | P12Error::UnsupportedMacAlgorithm => KeyError::Broken(
            "the PKCS#12 file uses an encryption or MAC algorithm keyward does not read".into(),
        ),
        P12Error::InvalidParameters => {
            KeyError::Broken("the PKCS#12 file's encryption parameters are invalid or too costly".into())
        }
        _ => KeyError::Broken("the PKCS#12 file cannot be read".into()),
    }
}

/// A PKCS#12 file with one key entry (PBES2 with AES-256-CBC, HMAC-SHA-256 MAC, as Java 17's
/// keytool writes them), protected by `password`.
pub(crate) fn write(
    alias: &str,
    pkcs8: &[u8],
    cert_der: &[u8],
    password: &Password,
) -> Result<Vec<u8>, KeyError> {
    let key = PrivateKey::from_der(pkcs8).map_err(|e| KeyError::Generation(e.to_string()))?;
    let cert = Certificate::from_der(cert_der).map_err(|e| KeyError::Generation(e.to_string()))?;
    let local_key_id = sha1_of(cert_der);
    let mut store = KeyStore::new();
    store.add_entry(
        alias,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, key, [cert])),
    );
    store
        .writer(password.expose())
        .write()
        .map_err(|e| KeyError::Generation(e.to_string()))
}

fn sha1_of(data: &[u8]) -> Vec<u8> {
    use sha1::Digest;
    sha1::Sha1::digest(data).to_vec()
}
