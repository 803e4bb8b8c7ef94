//! The DER that keyward writes into PKCS#12 files (generation, and the test fixtures), built by
//! hand: a few fixed shapes, each a function, so that what is written reads like RFC 7292.

use der::asn1::ObjectIdentifier;

use super::oid;

/// One definite-length DER element.
pub(crate) fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len.saturating_add(6));
    out.push(tag);
    if len < 0x80 {
        out.extend(u8::try_from(len));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.extend(u8::try_from(significant.len()).map(|n| 0x80 | n));
        out.extend_from_slice(significant);
    }
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, parts)
}

/// A SET OF in DER order (elements sorted by their encodings, X.690 §11.6).
pub(crate) fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    let parts: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
    tlv(0x31, &parts)
}

pub(crate) fn oid(id: &ObjectIdentifier) -> Vec<u8> {
    tlv(0x06, &[id.as_bytes()])
}

pub(crate) fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, &[bytes])
}

/// A non-negative INTEGER, minimally encoded.
pub(crate) fn uint(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let significant = bytes.get(skip..).unwrap_or_default();
    let pad: &[u8] = if significant.first().is_some_and(|b| b & 0x80 != 0) {
        &[0]
    } else {
        &[]
    };
    tlv(0x02, &[pad, significant])
}

pub(crate) fn explicit(number: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xA0 | number, &[inner])
}

pub(crate) const NULL: [u8; 2] = [0x05, 0x00];

/// An `AlgorithmIdentifier` with parameters.
pub(crate) fn algorithm(id: &ObjectIdentifier, params: &[u8]) -> Vec<u8> {
    seq(&[&oid(id), params])
}

/// PBES2 parameters with PBKDF2 (RFC 8018 A.2, A.4) and AES-256-CBC.
pub(crate) fn pbes2_pbkdf2_aes256(
    prf: &ObjectIdentifier,
    salt: &[u8],
    iterations: u64,
    iv: &[u8; 16],
) -> Vec<u8> {
    let pbkdf2 = seq(&[&octets(salt), &uint(iterations), &algorithm(prf, &NULL)]);
    let kdf = algorithm(&oid::PBKDF2, &pbkdf2);
    let cipher = algorithm(&oid::AES_256_CBC, &octets(iv));
    algorithm(&oid::PBES2, &seq(&[&kdf, &cipher]))
}

/// A SafeBag (RFC 7292 §4.2) with a friendly name and a local key id when given.
pub(crate) fn safe_bag(
    bag_id: &ObjectIdentifier,
    value: &[u8],
    name: Option<&str>,
    local_key_id: Option<&[u8]>,
) -> Vec<u8> {
    let mut attributes = Vec::new();
    if let Some(name) = name {
        let bmp: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
        attributes.push(seq(&[
            &oid(&oid::FRIENDLY_NAME),
            &set_of(vec![tlv(0x1E, &[&bmp])]),
        ]));
    }
    if let Some(id) = local_key_id {
        attributes.push(seq(&[&oid(&oid::LOCAL_KEY_ID), &set_of(vec![octets(id)])]));
    }
    let attributes = if attributes.is_empty() {
        Vec::new()
    } else {
        set_of(attributes)
    };
    seq(&[&oid(bag_id), &explicit(0, value), &attributes])
}

/// A pkcs8ShroudedKeyBag's value: `EncryptedPrivateKeyInfo`.
pub(crate) fn encrypted_private_key_info(algorithm: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    seq(&[algorithm, &octets(ciphertext)])
}

/// A certBag's value holding an X.509 certificate.
pub(crate) fn cert_bag(cert_der: &[u8]) -> Vec<u8> {
    seq(&[&oid(&oid::X509_CERTIFICATE), &explicit(0, &octets(cert_der))])
}

/// A ContentInfo of type data around a SafeContents.
pub(crate) fn data_safe(bags: &[Vec<u8>]) -> Vec<u8> {
    let parts: Vec<&[u8]> = bags.iter().map(Vec::as_slice).collect();
    seq(&[&oid(&oid::DATA), &explicit(0, &octets(&seq(&parts)))])
}

/// A ContentInfo of type encryptedData (RFC 5652 §8) around an encrypted SafeContents.
pub(crate) fn encrypted_safe(algorithm: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let content_info = seq(&[&oid(&oid::DATA), algorithm, &tlv(0x80, &[ciphertext])]);
    let encrypted_data = seq(&[&uint(0), &content_info]);
    seq(&[&oid(&oid::ENCRYPTED_DATA), &explicit(0, &encrypted_data)])
}

/// The authenticated safe's contents: the DER that the MAC covers.
pub(crate) fn authenticated_safe(content_infos: &[Vec<u8>]) -> Vec<u8> {
    let parts: Vec<&[u8]> = content_infos.iter().map(Vec::as_slice).collect();
    seq(&parts)
}

/// The PFX (RFC 7292 §4) around `auth_safe`, with MAC data when given.
pub(crate) fn pfx(auth_safe: &[u8], mac_data: Option<&[u8]>) -> Vec<u8> {
    let content = seq(&[&oid(&oid::DATA), &explicit(0, &octets(auth_safe))]);
    seq(&[&uint(3), &content, mac_data.unwrap_or_default()])
}

/// `MacData` with HMAC over `digest_oid`.
pub(crate) fn mac_data(digest_oid: &ObjectIdentifier, mac: &[u8], salt: &[u8], iterations: u64) -> Vec<u8> {
    let digest_info = seq(&[&algorithm(digest_oid, &NULL), &octets(mac)]);
    seq(&[&digest_info, &octets(salt), &uint(iterations)])
}
