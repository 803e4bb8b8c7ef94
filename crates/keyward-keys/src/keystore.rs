//! What PKCS#12 and JKS imports share: choosing the entry, and turning it into a public key
//! whose private half (when the entry has one) is proven to belong to the certificate.

use zeroize::Zeroizing;

use crate::{certificate, pkcs8, ImportedKey, KeyError};

/// One entry of a keystore, reduced to what an import needs. `K` is the entry's private key as
/// the format holds it, still protected: only the chosen entry's key is ever decrypted.
pub(crate) struct StoreEntry<K> {
    pub alias: String,
    /// The entry's certificate (the leaf of a key entry's chain).
    pub cert: Option<Vec<u8>>,
    pub key: Option<K>,
}

/// The entry named by `alias` (case-insensitive, as keytool treats aliases), or without one the
/// only key entry, or else the only certificate. Several candidates are listed in the error.
pub(crate) fn choose<K>(entries: Vec<StoreEntry<K>>, alias: Option<&str>) -> Result<StoreEntry<K>, KeyError> {
    let available = || entries.iter().map(|e| e.alias.clone()).collect::<Vec<_>>();
    if let Some(wanted) = alias {
        let names = available();
        return entries
            .into_iter()
            .find(|e| e.alias.eq_ignore_ascii_case(wanted))
            .ok_or(KeyError::UnknownAlias {
                alias: wanted.to_owned(),
                available: names,
            });
    }
    let keys = entries.iter().filter(|e| e.key.is_some()).count();
    match (keys, entries.len()) {
        (_, 0) => Err(KeyError::Empty),
        (1, _) => entries
            .into_iter()
            .find(|e| e.key.is_some())
            .ok_or(KeyError::Empty),
        (0, 1) => entries.into_iter().next().ok_or(KeyError::Empty),
        _ => Err(KeyError::AliasRequired(available())),
    }
}

/// One keystore entry, opened: its public key and, for a key entry, the decrypted PKCS#8.
pub(crate) type OpenedEntry = (ImportedKey, Option<Zeroizing<Vec<u8>>>);

/// The chosen entry as a public key. A key entry's private key, when given, must match the
/// certificate; it is checked and dropped here (the caller's buffer zeroizes itself).
pub(crate) fn finish(
    alias: String,
    cert: Option<&[u8]>,
    private_key: Option<&Zeroizing<Vec<u8>>>,
) -> Result<ImportedKey, KeyError> {
    let mut imported = match (cert, private_key) {
        (Some(der), _) => certificate::import_der(der)?,
        (None, Some(key)) => ImportedKey {
            jwk: pkcs8::public_jwk(key)?,
            certificate: None,
            alias: None,
        },
        (None, None) => return Err(KeyError::Empty),
    };
    // Size, curve and type rules come before the private key is parsed, so a weak key is
    // reported as weak rather than as unreadable.
    keyward_jose::check_public_jwk(&imported.jwk, None)?;
    if let (Some(_), Some(key)) = (cert, private_key) {
        if pkcs8::public_jwk(key)?.thumbprint() != imported.jwk.thumbprint() {
            return Err(KeyError::KeyMismatch);
        }
    }
    imported.alias = Some(alias);
    Ok(imported)
}
