//! The structure of a PFX (RFC 7292 §4) read into typed parts without deriving any key: the MAC
//! to check, the SafeContents in the clear, the encrypted ones, and their bags.

use cms::{content_info::ContentInfo, encrypted_data::EncryptedData};
use der::{
    asn1::{ContextSpecific, OctetString},
    Any, Decode, Encode, Tag, Tagged,
};
use pkcs12::{pbe_params::EncryptedPrivateKeyInfo, CertBag, Pfx, SafeBag};
use zeroize::Zeroizing;

use super::{
    oid,
    protect::{MacCheck, Protection},
};
use crate::{
    budget::{self, MAX_CONTENT_INFOS},
    KeyError,
};

pub(super) struct Archive {
    pub mac: Option<MacCheck>,
    /// The authenticated safe's DER, which the MAC covers.
    pub authenticated: Vec<u8>,
    pub safes: Vec<Safe>,
}

pub(super) enum Safe {
    Plain(Vec<Bag>),
    Encrypted(Protection, Vec<u8>),
}

pub(super) struct Bag {
    pub friendly_name: Option<String>,
    pub local_key_id: Option<Vec<u8>>,
    pub kind: BagKind,
}

pub(super) enum BagKind {
    /// An unencrypted PKCS#8 key (keyBag).
    Key(Zeroizing<Vec<u8>>),
    /// An encrypted PKCS#8 key (pkcs8ShroudedKeyBag), decrypted only if chosen.
    ShroudedKey(Protection, Vec<u8>),
    /// An X.509 certificate's DER.
    Cert(Vec<u8>),
    /// CRLs, secrets, nested SafeContents, other certificate types: counted and skipped.
    Other,
}

impl BagKind {
    pub(super) fn is_key(&self) -> bool {
        matches!(self, BagKind::Key(_) | BagKind::ShroudedKey(..))
    }
}

fn truncated() -> KeyError {
    KeyError::Broken("not a complete PKCS#12 file (truncated or damaged)".into())
}

fn bad(part: &str) -> KeyError {
    KeyError::Broken(format!("the PKCS#12 file's {part} cannot be read"))
}

impl Archive {
    pub(super) fn parse(data: &[u8]) -> Result<Self, KeyError> {
        let pfx = Pfx::from_der(data).map_err(|_| truncated())?;
        if pfx.auth_safe.content_type != oid::DATA {
            return Err(KeyError::UnsupportedProtection(
                "public-key integrity mode (a signed PKCS#12 file)".into(),
            ));
        }
        let authenticated = pfx
            .auth_safe
            .content
            .decode_as::<OctetString>()
            .map_err(|_| truncated())?
            .into_bytes()
            .into_vec();
        let content_infos = Vec::<ContentInfo>::from_der(&authenticated).map_err(|_| truncated())?;
        budget::within(content_infos.len(), MAX_CONTENT_INFOS, "content infos")?;
        let safes = content_infos
            .iter()
            .map(parse_content_info)
            .collect::<Result<Vec<_>, _>>()?;
        let mac = pfx.mac_data.as_ref().map(MacCheck::parse).transpose()?;
        Ok(Self {
            mac,
            authenticated,
            safes,
        })
    }
}

fn parse_content_info(info: &ContentInfo) -> Result<Safe, KeyError> {
    match info.content_type {
        oid::DATA => {
            let contents = info
                .content
                .decode_as::<OctetString>()
                .map_err(|_| bad("contents"))?;
            Ok(Safe::Plain(parse_safe_contents(contents.as_bytes())?))
        }
        oid::ENCRYPTED_DATA => {
            let encrypted = info
                .content
                .decode_as::<EncryptedData>()
                .map_err(|_| bad("encrypted contents"))?;
            let content = encrypted.enc_content_info;
            let protection = Protection::parse(&content.content_enc_alg)?;
            let ciphertext = content
                .encrypted_content
                .map(|c| c.into_bytes().into_vec())
                .unwrap_or_default();
            Ok(Safe::Encrypted(protection, ciphertext))
        }
        other => Err(KeyError::UnsupportedProtection(format!(
            "content of type {other} (public-key privacy mode)"
        ))),
    }
}

/// The bags of one SafeContents (plaintext DER). Encrypted key bags stay encrypted.
pub(super) fn parse_safe_contents(der: &[u8]) -> Result<Vec<Bag>, KeyError> {
    let bags = Vec::<SafeBag>::from_der(der).map_err(|_| bad("bags"))?;
    bags.iter().map(parse_bag).collect()
}

fn parse_bag(bag: &SafeBag) -> Result<Bag, KeyError> {
    // `bag_value` is the whole `[0] EXPLICIT` element as read.
    let kind = match bag.bag_id {
        oid::KEY_BAG => {
            let value = ContextSpecific::<Any>::from_der(&bag.bag_value).map_err(|_| bad("key bag"))?;
            BagKind::Key(Zeroizing::new(value.value.to_der().map_err(|_| bad("key bag"))?))
        }
        oid::SHROUDED_KEY_BAG => {
            let value = ContextSpecific::<EncryptedPrivateKeyInfo>::from_der(&bag.bag_value)
                .map_err(|_| bad("encrypted key bag"))?
                .value;
            BagKind::ShroudedKey(
                Protection::parse(&value.encryption_algorithm)?,
                value.encrypted_data.into_bytes().into_vec(),
            )
        }
        oid::CERT_BAG => {
            let value = ContextSpecific::<CertBag>::from_der(&bag.bag_value)
                .map_err(|_| bad("certificate bag"))?
                .value;
            if value.cert_id == oid::X509_CERTIFICATE {
                BagKind::Cert(value.cert_value.into_bytes().into_vec())
            } else {
                BagKind::Other
            }
        }
        _ => BagKind::Other,
    };
    let attribute = |id| {
        bag.bag_attributes
            .iter()
            .flat_map(|attrs| attrs.iter())
            .find(|a| a.oid == id)
            .and_then(|a| a.values.iter().next())
    };
    Ok(Bag {
        friendly_name: attribute(oid::FRIENDLY_NAME).and_then(bmp_string),
        local_key_id: attribute(oid::LOCAL_KEY_ID)
            .and_then(|v| v.decode_as::<OctetString>().ok())
            .map(|o| o.into_bytes().into_vec()),
        kind,
    })
}

/// A BMPString as Java writes it: big-endian UTF-16, surrogate pairs included.
fn bmp_string(value: &Any) -> Option<String> {
    if value.tag() != Tag::BmpString {
        return None;
    }
    let units: Vec<u16> = value
        .value()
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]))
        .collect();
    String::from_utf16(&units).ok()
}
