//! Java KeyStore (JKS) reading and writing, for keystores that admins upload on behalf of clients.
//!
//! Written here rather than taken from the `jks` crate because that crate allocates whatever its
//! untrusted length prefixes ask for (a crafted upload aborts the process) and never zeroizes key
//! material. Every length below is checked against the bytes that remain before anything is
//! allocated, and every buffer that holds a plaintext key or a password is wiped on drop.
//! JKS key protection is cheap, but a 1 MiB file could hold tens of thousands of entries: the
//! entry, key, certificate and chain counts are capped (crate::budget) as for PKCS#12.
//!
//! Not wiped: the internal block buffer of the `sha1` hasher, which `sha1` does not zeroize.

use std::collections::HashSet;

use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::budget::{MAX_CERTIFICATES, MAX_CHAIN_LENGTH, MAX_KEY_ENTRIES};

const MAGIC: u32 = 0xFEED_FEED;
const TAG_PRIVATE_KEY: usize = 1;
const TAG_TRUSTED_CERT: usize = 2;
/// The smallest entry any version can hold (tag, empty alias, date, one more u32), so that an
/// entry count can be bounded by the bytes left before the loop starts.
const MIN_ENTRY_LEN: usize = 4 + 2 + 8 + 4;
/// The smallest certificate (a version 1 length prefix), which bounds a chain's count.
const MIN_CERT_LEN: usize = 4;
const DIGEST_LEN: usize = 20;
/// Sun's proprietary key protector, 1.3.6.1.4.1.42.2.17.1.1: the only protection JKS has.
const KEY_PROTECTOR_OID: [u8; 10] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01];
/// Java keys the store digest with this phrase, after the password.
const WHITENER: &[u8] = b"Mighty Aphrodite";
const CERT_TYPE: &[u8] = b"X.509";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JksError {
    #[error("not a JKS keystore")]
    NotJks,
    #[error("the JKS keystore is malformed: {0}")]
    Malformed(&'static str),
    #[error("the store password is wrong, or the keystore was altered (integrity check failed)")]
    Integrity,
    #[error("the key password is wrong")]
    WrongKeyPassword,
    #[error("unsupported key protection algorithm")]
    UnsupportedProtection,
    /// More entries, key entries, certificates or chain links than one import reads.
    #[error("the keystore holds more {what} than keyward reads (at most {limit})")]
    TooMany { what: &'static str, limit: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JksEntry {
    pub alias: String,
    pub created_ms: u64,
    pub kind: JksEntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JksEntryKind {
    /// `protected_key` is the `EncryptedPrivateKeyInfo` DER, still encrypted, so that nothing
    /// secret exists until a caller asks for it with [`decrypt_key`]; `chain` is DER, leaf first.
    PrivateKey {
        protected_key: Vec<u8>,
        chain: Vec<Vec<u8>>,
    },
    TrustedCert {
        cert: Vec<u8>,
    },
}

/// One private key entry to export.
pub struct NewKeyEntry<'a> {
    pub alias: &'a str,
    pub pkcs8_der: &'a [u8],
    pub chain: &'a [Vec<u8>],
    pub created_ms: u64,
}

/// Reads a whole keystore. The integrity digest is checked before any entry is returned, so a
/// caller never sees entries from an altered file; structure is checked first so that a broken
/// file is reported as malformed rather than as a wrong password.
pub fn read(data: &[u8], store_password: &str) -> Result<Vec<JksEntry>, JksError> {
    let mut cur = Cursor(data);
    if cur.array("").ok() != Some(MAGIC.to_be_bytes()) {
        return Err(JksError::NotJks);
    }
    let version = cur.num(4, "truncated header")?;
    if version != 1 && version != 2 {
        return Err(JksError::Malformed("unsupported JKS version"));
    }
    let count = cur.num(4, "truncated header")?;
    if count > cur.0.len() / MIN_ENTRY_LEN {
        return Err(JksError::Malformed("entry count exceeds the file size"));
    }
    // Every entry is a key or a certificate, so the sum of both caps bounds the count before
    // any entry is read; the loop then holds each kind to its own cap.
    within(count, MAX_KEY_ENTRIES + MAX_CERTIFICATES, "entries")?;
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    let (mut keys, mut certs) = (0usize, 0usize);
    for _ in 0..count {
        let entry = read_entry(&mut cur, version)?;
        match &entry.kind {
            JksEntryKind::PrivateKey { chain, .. } => {
                keys += 1;
                certs = certs.saturating_add(chain.len());
            }
            JksEntryKind::TrustedCert { .. } => certs += 1,
        }
        within(keys, MAX_KEY_ENTRIES, "key entries")?;
        within(certs, MAX_CERTIFICATES, "certificates")?;
        // Java looks aliases up case-insensitively; two that collide would make an import by
        // alias ambiguous.
        if !seen.insert(entry.alias.to_lowercase()) {
            return Err(JksError::Malformed("duplicate alias"));
        }
        entries.push(entry);
    }
    // `cur` is a suffix of `data`, so the body is everything before it.
    let body = data
        .get(..data.len().saturating_sub(cur.0.len()))
        .unwrap_or_default();
    let digest: [u8; DIGEST_LEN] = cur.array("truncated integrity digest")?;
    if !cur.0.is_empty() {
        return Err(JksError::Malformed("trailing data after the integrity digest"));
    }
    if !ct_eq(
        &sha1_of(&[&password_bytes(store_password), WHITENER, body]),
        &digest,
    ) {
        return Err(JksError::Integrity);
    }
    Ok(entries)
}

fn read_entry(cur: &mut Cursor<'_>, version: usize) -> Result<JksEntry, JksError> {
    let tag = cur.num(4, "truncated entry")?;
    let alias_len = cur.num(2, "truncated alias")?;
    let alias = decode_java_utf(cur.take(alias_len, "truncated alias")?)?;
    let created_ms = u64::from_be_bytes(cur.array("truncated entry date")?);
    let kind = match tag {
        TAG_PRIVATE_KEY => {
            let key_len = cur.num(4, "truncated key")?;
            let protected_key = cur.take(key_len, "key length exceeds the file size")?.to_vec();
            let n = cur.num(4, "truncated certificate chain")?;
            if n > cur.0.len() / MIN_CERT_LEN {
                return Err(JksError::Malformed("certificate count exceeds the file size"));
            }
            within(n, MAX_CHAIN_LENGTH, "certificates in one chain")?;
            let chain = (0..n)
                .map(|_| read_cert(cur, version))
                .collect::<Result<_, _>>()?;
            JksEntryKind::PrivateKey { protected_key, chain }
        }
        TAG_TRUSTED_CERT => JksEntryKind::TrustedCert {
            cert: read_cert(cur, version)?,
        },
        _ => return Err(JksError::Malformed("unknown entry type")),
    };
    Ok(JksEntry {
        alias,
        created_ms,
        kind,
    })
}

fn read_cert(cur: &mut Cursor<'_>, version: usize) -> Result<Vec<u8>, JksError> {
    // Version 1 predates certificate types; version 2 names one, and only X.509 exists in practice.
    if version == 2 {
        let type_len = cur.num(2, "truncated certificate type")?;
        if cur.take(type_len, "truncated certificate type")? != CERT_TYPE {
            return Err(JksError::Malformed("certificate type is not X.509"));
        }
    }
    let len = cur.num(4, "truncated certificate")?;
    if len == 0 {
        return Err(JksError::Malformed("empty certificate"));
    }
    let cert = cur.take(len, "certificate length exceeds the file size")?;
    Ok(cert.to_vec())
}

/// Decrypts a protected key from [`read`]. A wrong password is detected by Sun's check digest,
/// never by a parse failure of garbage plaintext.
pub fn decrypt_key(protected_key: &[u8], key_password: &str) -> Result<Zeroizing<Vec<u8>>, JksError> {
    let mut outer = protected_key;
    let mut info = der_take(&mut outer, 0x30)?;
    let mut alg = der_take(&mut info, 0x30)?;
    if der_take(&mut alg, 0x06)? != KEY_PROTECTOR_OID {
        return Err(JksError::UnsupportedProtection);
    }
    // Java writes a NULL parameter, but AlgorithmIdentifier lets it be absent.
    if !alg.is_empty() && !der_take(&mut alg, 0x05)?.is_empty() {
        return Err(JksError::Malformed("key protector parameters are not NULL"));
    }
    let encrypted = der_take(&mut info, 0x04)?;
    if !outer.is_empty() || !info.is_empty() || !alg.is_empty() {
        return Err(JksError::Malformed("trailing data in the protected key"));
    }
    const SHORT: JksError = JksError::Malformed("protected key is too short");
    let (salt, rest) = encrypted.split_at_checked(DIGEST_LEN).ok_or(SHORT)?;
    let (ciphertext, check) = rest
        .split_at_checked(rest.len().saturating_sub(DIGEST_LEN))
        .ok_or(SHORT)?;
    if ciphertext.is_empty() {
        return Err(SHORT);
    }
    let password = password_bytes(key_password);
    let plaintext = key_stream_xor(&password, salt, ciphertext);
    if !ct_eq(&sha1_of(&[&password, &plaintext]), check) {
        return Err(JksError::WrongKeyPassword);
    }
    Ok(plaintext)
}

/// Writes a complete version 2 keystore holding one private key entry, as keytool would.
///
/// The salt is the caller's so that output is reproducible in tests; it must be random in use.
/// The format cannot hold an alias over 65535 bytes of modified UTF-8: a longer one is cut at a
/// character boundary (aliases are chosen by us, so this does not happen in practice).
pub fn write(entry: &NewKeyEntry<'_>, store_password: &str, key_password: &str, salt: [u8; 20]) -> Vec<u8> {
    let key_pw = password_bytes(key_password);
    let mut protected = Vec::with_capacity(entry.pkcs8_der.len() + 2 * DIGEST_LEN);
    protected.extend_from_slice(&salt);
    protected.extend_from_slice(&key_stream_xor(&key_pw, &salt, entry.pkcs8_der));
    protected.extend_from_slice(&sha1_of(&[&key_pw, entry.pkcs8_der]));
    let mut alg = der_tlv(0x06, &KEY_PROTECTOR_OID);
    alg.extend_from_slice(&[0x05, 0x00]);
    let mut info = der_tlv(0x30, &alg);
    info.extend_from_slice(&der_tlv(0x04, &protected));
    let info = der_tlv(0x30, &info);

    let mut out = Vec::new();
    for n in [MAGIC, 2, 1, 1] {
        out.extend_from_slice(&n.to_be_bytes()); // magic, version, entry count, private key tag
    }
    put_blob(&mut out, 2, &encode_java_utf(entry.alias));
    out.extend_from_slice(&entry.created_ms.to_be_bytes());
    put_blob(&mut out, 4, &info);
    put_num(&mut out, 4, entry.chain.len());
    for cert in entry.chain {
        put_blob(&mut out, 2, CERT_TYPE);
        put_blob(&mut out, 4, cert);
    }
    let digest = sha1_of(&[&password_bytes(store_password), WHITENER, &out]);
    out.extend_from_slice(&digest);
    out
}

/// A version 2 keystore of `count` trusted-certificate entries (`cert-1`, `cert-2`, …), each
/// holding `cert` unparsed, sealed with `store_password`: for tests of the entry caps.
#[cfg(feature = "fixtures")]
pub(crate) fn trusted_certificates(count: usize, cert: &[u8], store_password: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for n in [MAGIC, 2] {
        out.extend_from_slice(&n.to_be_bytes());
    }
    put_num(&mut out, 4, count);
    for i in 1..=count {
        put_num(&mut out, 4, TAG_TRUSTED_CERT);
        put_blob(&mut out, 2, &encode_java_utf(&format!("cert-{i}")));
        out.extend_from_slice(&0u64.to_be_bytes());
        put_blob(&mut out, 2, CERT_TYPE);
        put_blob(&mut out, 4, cert);
    }
    let digest = sha1_of(&[&password_bytes(store_password), WHITENER, &out]);
    out.extend_from_slice(&digest);
    out
}

/// Java hashes passwords as the big-endian bytes of their UTF-16 code units, not as UTF-8.
fn password_bytes(password: &str) -> Zeroizing<Vec<u8>> {
    // Sized up front so that no reallocation leaves an unwiped copy behind.
    let mut out = Zeroizing::new(Vec::with_capacity(password.len().saturating_mul(2)));
    out.extend(password.encode_utf16().flat_map(u16::to_be_bytes));
    out
}

fn sha1_of(parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Sun's key protector: the key stream is an iterated SHA-1 of password and salt, so encryption
/// and decryption are the same XOR.
fn key_stream_xor(password: &[u8], salt: &[u8], input: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len()));
    let mut block = Zeroizing::new([0u8; DIGEST_LEN]);
    let mut prev: &[u8] = salt;
    for chunk in input.chunks(DIGEST_LEN) {
        let mut hasher = Sha1::new();
        hasher.update(password);
        hasher.update(prev);
        hasher.finalize_into((&mut *block).into());
        out.extend(chunk.iter().zip(block.iter()).map(|(a, b)| a ^ b));
        prev = block.as_slice();
    }
    out
}

/// No early exit, so the comparison time says nothing about where the digests differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Java's `DataInput.readUTF` ("modified UTF-8": NUL as C0 80, supplementary characters as two
/// encoded surrogates), so that any alias keytool writes can be read.
fn decode_java_utf(bytes: &[u8]) -> Result<String, JksError> {
    const BAD: JksError = JksError::Malformed("alias is not valid modified UTF-8");
    fn cont(b: Option<u8>) -> Result<u16, JksError> {
        b.filter(|b| b & 0xC0 == 0x80)
            .map(|b| u16::from(b & 0x3F))
            .ok_or(BAD)
    }
    let mut units = Vec::with_capacity(bytes.len());
    let mut it = bytes.iter().copied();
    while let Some(b) = it.next() {
        units.push(match b >> 4 {
            0..=7 => u16::from(b),
            12 | 13 => (u16::from(b & 0x1F) << 6) | cont(it.next())?,
            14 => (u16::from(b & 0x0F) << 12) | (cont(it.next())? << 6) | cont(it.next())?,
            _ => return Err(BAD),
        });
    }
    String::from_utf16(&units).map_err(|_| BAD)
}

/// Java's `DataOutput.writeUTF`, cut at a character boundary to fit its u16 length.
fn encode_java_utf(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let before = out.len();
        for u in c.encode_utf16(&mut [0; 2]).iter().copied() {
            match u {
                0x0001..=0x007F => out.push(u as u8),
                0x0000 | 0x0080..=0x07FF => out.extend([0xC0 | (u >> 6) as u8, 0x80 | (u & 0x3F) as u8]),
                _ => out.extend([
                    0xE0 | (u >> 12) as u8,
                    0x80 | (u >> 6 & 0x3F) as u8,
                    0x80 | (u & 0x3F) as u8,
                ]),
            }
        }
        if out.len() > usize::from(u16::MAX) {
            out.truncate(before);
            break;
        }
    }
    out
}

/// Writes `n` as a big-endian number of `width` bytes. Lengths here come from our own small keys,
/// certificates and (already cut) aliases, so they fit; keeping `write` infallible is worth that.
fn put_num(out: &mut Vec<u8>, width: usize, n: usize) {
    let bytes = n.to_be_bytes();
    out.extend(bytes.iter().skip(bytes.len().saturating_sub(width)));
}

fn put_blob(out: &mut Vec<u8>, width: usize, blob: &[u8]) {
    put_num(out, width, blob.len());
    out.extend_from_slice(blob);
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// Takes one definite-length DER element with the expected tag and returns its content.
fn der_take<'a>(input: &mut &'a [u8], tag: u8) -> Result<&'a [u8], JksError> {
    const BAD: JksError = JksError::Malformed("invalid DER in the protected key");
    let (&found, rest) = input.split_first().ok_or(BAD)?;
    let (&first, mut rest) = rest.split_first().ok_or(BAD)?;
    if found != tag {
        return Err(BAD);
    }
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return Err(BAD);
        }
        let (len_bytes, after) = rest.split_at_checked(n).ok_or(BAD)?;
        rest = after;
        be_uint(len_bytes)
    };
    let (content, after) = rest.split_at_checked(len).ok_or(BAD)?;
    *input = after;
    Ok(content)
}

fn within(count: usize, limit: usize, what: &'static str) -> Result<(), JksError> {
    if count > limit {
        return Err(JksError::TooMany { what, limit });
    }
    Ok(())
}

/// A read position in untrusted input: every read is bounds-checked and fails as malformed.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], JksError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(JksError::Malformed(what))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], JksError> {
        self.take(N, what)?
            .try_into()
            .map_err(|_| JksError::Malformed(what))
    }

    /// A big-endian count or length of `bytes` (2 or 4) bytes.
    fn num(&mut self, bytes: usize, what: &'static str) -> Result<usize, JksError> {
        Ok(be_uint(self.take(bytes, what)?))
    }
}

/// Callers pass at most four bytes, so the result fits any usize Rust supports here.
fn be_uint(bytes: &[u8]) -> usize {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | usize::from(b))
}

// --- Import policy: which entry, which password, what is kept ---

/// The public key of one JKS entry. Only the chosen entry's key is decrypted (with the key
/// password, else the store password as keytool defaults), checked against its certificate and
/// zeroized.
pub(crate) fn import(
    data: &[u8],
    password: Option<&crate::Password>,
    key_password: Option<&crate::Password>,
    alias: Option<&str>,
) -> Result<crate::ImportedKey, crate::KeyError> {
    open(data, password, key_password, alias).map(|(key, _)| key)
}

/// [`import`], also handing back the chosen entry's decrypted PKCS#8 key (for a client that
/// signs with it; see [`crate::load_private_key`]).
pub(crate) fn open(
    data: &[u8],
    password: Option<&crate::Password>,
    key_password: Option<&crate::Password>,
    alias: Option<&str>,
) -> Result<crate::keystore::OpenedEntry, crate::KeyError> {
    use crate::keystore::{choose, finish, StoreEntry};
    let password = password.ok_or(crate::KeyError::PasswordRequired("password (the store password)"))?;
    let entries = read(data, password.expose())?
        .into_iter()
        .map(|e| match e.kind {
            JksEntryKind::PrivateKey { protected_key, chain } => StoreEntry {
                alias: e.alias,
                cert: chain.into_iter().next(),
                key: Some(protected_key),
            },
            JksEntryKind::TrustedCert { cert } => StoreEntry {
                alias: e.alias,
                cert: Some(cert),
                key: None,
            },
        })
        .collect();
    let chosen = choose(entries, alias)?;
    let key = match &chosen.key {
        Some(protected) => Some(decrypt_key(protected, key_password.unwrap_or(password).expose())?),
        None => None,
    };
    let imported = finish(chosen.alias, chosen.cert.as_deref(), key.as_ref())?;
    Ok((imported, key))
}

impl From<JksError> for crate::KeyError {
    fn from(e: JksError) -> Self {
        use crate::KeyError;
        match e {
            JksError::NotJks => KeyError::Unrecognized("not a JKS keystore".into()),
            JksError::Malformed(m) => KeyError::Broken(format!("the JKS keystore is malformed: {m}")),
            JksError::Integrity => KeyError::WrongPassword,
            JksError::WrongKeyPassword => KeyError::WrongKeyPassword,
            JksError::UnsupportedProtection => {
                KeyError::Broken("the JKS key uses a protection algorithm keyward does not read".into())
            }
            JksError::TooMany { what, limit } => KeyError::TooExpensive {
                what,
                limit: u64::try_from(limit).unwrap_or(u64::MAX),
            },
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests;
