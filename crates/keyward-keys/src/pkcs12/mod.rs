//! PKCS#12 keystores (RFC 7292): PBES2/AES as keytool and OpenSSL 3 write them, and the legacy
//! RC2-40/3DES with a SHA-1 MAC of older tools.
//!
//! Read here, on the RustCrypto DER types, rather than through a keystore crate, so that the
//! work an upload causes is known before it is done. Every key derivation the file declares
//! (the MAC, each encrypted SafeContents, each shrouded key bag) is priced from its parameters
//! and charged to the [`WorkBudget`] before any of them runs; bags that only appear once an
//! encrypted SafeContents is opened are charged as soon as it is, before the next derivation.
//! Entries and certificates are counted against their caps the same way. Only the
//! chosen entry's key is decrypted, into a buffer that zeroizes itself.

mod bags;
pub(crate) mod encode;
pub(crate) mod oid;
pub(crate) mod protect;
mod write;

pub(crate) use write::write;

use self::bags::{Archive, Bag, BagKind, Safe};
use crate::{
    budget::{self, WorkBudget, MAX_CERTIFICATES, MAX_KEY_ENTRIES, MAX_OTHER_BAGS},
    keystore::{choose, finish, StoreEntry},
    ImportedKey, KeyError, Password,
};

pub(crate) fn import(
    data: &[u8],
    password: Option<&Password>,
    key_password: Option<&Password>,
    alias: Option<&str>,
    work: &WorkBudget,
) -> Result<ImportedKey, KeyError> {
    open(data, password, key_password, alias, work).map(|(key, _)| key)
}

/// [`import`], also handing back the chosen entry's decrypted PKCS#8 key (for a client that
/// signs with it; see [`crate::load_private_key`]).
pub(crate) fn open(
    data: &[u8],
    password: Option<&Password>,
    key_password: Option<&Password>,
    alias: Option<&str>,
    work: &WorkBudget,
) -> Result<crate::keystore::OpenedEntry, KeyError> {
    let password = password.ok_or(KeyError::PasswordRequired("password (the store password)"))?;
    let mut meter = work.meter();
    let archive = Archive::parse(data)?;

    let mut bags: Vec<Bag> = Vec::new();
    let mut sealed = Vec::new();
    let mut visible_cost = archive.mac.as_ref().map_or(0, |m| m.cost());
    for safe in archive.safes {
        match safe {
            Safe::Plain(found) => bags.extend(found),
            Safe::Encrypted(protection, ciphertext) => {
                visible_cost = visible_cost.saturating_add(protection.cost());
                sealed.push((protection, ciphertext));
            }
        }
    }
    meter.charge(visible_cost.saturating_add(shrouded_cost(&bags)))?;
    check_counts(&bags)?;

    if let Some(mac) = &archive.mac {
        meter.go_on()?;
        if !mac.verify(password, &archive.authenticated) {
            return Err(KeyError::WrongPassword);
        }
    }
    // PKCS#12 protects the key with the store password (keytool refuses anything else), so a
    // different key password is a wrong one.
    if key_password.is_some_and(|k| k.expose() != password.expose()) {
        return Err(KeyError::WrongKeyPassword);
    }

    for (protection, ciphertext) in &sealed {
        meter.go_on()?;
        let plaintext = protection
            .decrypt(password, ciphertext)?
            .ok_or(KeyError::WrongPassword)?;
        let hidden = bags::parse_safe_contents(&plaintext)?;
        meter.charge(shrouded_cost(&hidden))?;
        bags.extend(hidden);
        check_counts(&bags)?;
    }

    let chosen = choose(entries(&bags), alias)?;
    let key = match chosen.key {
        Some(BagKind::Key(plain)) => Some(plain.clone()),
        Some(BagKind::ShroudedKey(protection, ciphertext)) => {
            meter.go_on()?;
            Some(
                protection
                    .decrypt(password, ciphertext)?
                    .ok_or(KeyError::WrongKeyPassword)?,
            )
        }
        _ => None,
    };
    let imported = finish(chosen.alias, chosen.cert.as_deref(), key.as_ref())?;
    Ok((imported, key))
}

fn shrouded_cost(bags: &[Bag]) -> u64 {
    bags.iter()
        .filter_map(|b| match &b.kind {
            BagKind::ShroudedKey(protection, _) => Some(protection.cost()),
            _ => None,
        })
        .fold(0, u64::saturating_add)
}

fn check_counts(bags: &[Bag]) -> Result<(), KeyError> {
    let count = |f: fn(&BagKind) -> bool| bags.iter().filter(|b| f(&b.kind)).count();
    budget::within(count(BagKind::is_key), MAX_KEY_ENTRIES, "key entries")?;
    budget::within(
        count(|k| matches!(k, BagKind::Cert(_))),
        MAX_CERTIFICATES,
        "certificates",
    )?;
    budget::within(
        count(|k| matches!(k, BagKind::Other)),
        MAX_OTHER_BAGS,
        "bags of other types",
    )
}

/// Key entries (each with its certificate: same local key id, or the only certificate beside
/// the only key), then the certificates no key claimed. Names are the friendly names, else
/// `key-N` / `certificate-N`.
fn entries(bags: &[Bag]) -> Vec<StoreEntry<&BagKind>> {
    let keys: Vec<&Bag> = bags.iter().filter(|b| b.kind.is_key()).collect();
    let certs: Vec<(&Bag, &[u8])> = bags
        .iter()
        .filter_map(|b| match &b.kind {
            BagKind::Cert(der) => Some((b, der.as_slice())),
            _ => None,
        })
        .collect();
    let mut out: Vec<StoreEntry<&BagKind>> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let cert = certs
            .iter()
            .find(|(c, _)| c.local_key_id.is_some() && c.local_key_id == key.local_key_id)
            .or(match (keys.len(), certs.as_slice()) {
                (1, [only]) => Some(only),
                _ => None,
            });
        out.push(StoreEntry {
            alias: key
                .friendly_name
                .clone()
                .unwrap_or_else(|| format!("key-{}", i + 1)),
            cert: cert.map(|(_, der)| der.to_vec()),
            key: Some(&key.kind),
        });
    }
    let paired = |der: &[u8]| out.iter().any(|e| e.cert.as_deref() == Some(der));
    let unpaired: Vec<StoreEntry<&BagKind>> = certs
        .iter()
        .enumerate()
        .filter(|(_, (_, der))| !paired(der))
        .map(|(i, (bag, der))| StoreEntry {
            alias: bag
                .friendly_name
                .clone()
                .unwrap_or_else(|| format!("certificate-{}", i + 1)),
            cert: Some(der.to_vec()),
            key: None,
        })
        .collect();
    out.extend(unpaired);
    out
}
