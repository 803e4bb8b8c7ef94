use std::fmt;

use serde::{Deserialize, Serialize};

use crate::TypeError;

/// A client identifier.
///
/// There are two ways in, because ids are born under one rule and looked up under another:
///
/// - [`ClientId::new_registration`] is the only way to name a client being registered. It
///   accepts the RFC 3986 §2.3 unreserved characters `A-Z a-z 0-9 . _ ~ -`, 1–255 bytes, not
///   starting with `.` and never containing `..`. An id ends up in URL path segments
///   (`/admin/clients/{id}`), in file names (keystore downloads), in headers (`Location`) and in
///   Basic credentials, where `/`, `\`, `:`, `..`, whitespace or a control character would each
///   change the meaning of the place it lands in; this set needs no escaping in any of them.
/// - [`ClientId::parse`] (and deserialization) accepts any id that could ever have been stored:
///   1–255 bytes of visible ASCII. Requests, paths, token claims and storage rows use it, so
///   clients registered before the set above was enforced still load, authenticate and can be
///   managed or deleted, while an id outside the set that was never registered is simply not
///   found.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 255;

    /// An id to look up: 1–255 bytes of visible ASCII (no spaces or control characters). Never
    /// use it to name a new client; see [`ClientId::new_registration`].
    pub fn parse(value: impl Into<String>) -> Result<Self, TypeError> {
        let value = value.into();
        let ok =
            !value.is_empty() && value.len() <= Self::MAX_LEN && value.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(value))
        } else {
            Err(TypeError::InvalidClientId)
        }
    }

    /// The id of a client being registered: only `A-Z a-z 0-9 . _ ~ -`, 1–255 bytes, not
    /// starting with `.` (a hidden file, or `.`/`..` as a path segment) and without `..`
    /// anywhere (a parent directory once it is part of a path).
    pub fn new_registration(value: impl Into<String>) -> Result<Self, TypeError> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= Self::MAX_LEN
            && value.bytes().all(Self::is_registration_byte)
            && !value.starts_with('.')
            && !value.contains("..");
        if ok {
            Ok(Self(value))
        } else {
            Err(TypeError::UnsafeClientId)
        }
    }

    /// Whether this id meets the registration rule (ids stored before it may not).
    pub fn is_registration_safe(&self) -> bool {
        Self::new_registration(self.0.as_str()).is_ok()
    }

    fn is_registration_byte(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = TypeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<ClientId> for String {
    fn from(value: ClientId) -> Self {
        value.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_accepts_visible_ascii() {
        assert!(ClientId::parse("svc-a:b@c/d").is_ok());
        assert!(ClientId::parse("../etc/passwd").is_ok());
    }

    #[test]
    fn lookup_rejects_empty_space_control_and_long() {
        for bad in ["", "a b", "a\tb", "é"] {
            assert_eq!(ClientId::parse(bad), Err(TypeError::InvalidClientId), "{bad:?}");
        }
        assert!(ClientId::parse("a".repeat(256)).is_err());
        assert!(ClientId::parse("a".repeat(255)).is_ok());
    }

    #[test]
    fn registration_accepts_unreserved_characters() {
        for good in [
            "svc",
            "Svc-1",
            "a.b",
            "a_b~c",
            "0",
            "8c0f8f0e-3a4b-4c5d-9e6f-0123456789ab",
            "x.",
            "keyward-admin",
        ] {
            assert!(ClientId::new_registration(good).is_ok(), "{good:?}");
        }
        assert!(ClientId::new_registration("a".repeat(255)).is_ok());
    }

    #[test]
    fn registration_rejects_path_header_and_invisible_characters() {
        for bad in [
            "",
            "a/b",
            "../etc/passwd",
            "a\\b",
            "a:b",
            "a..b",
            "..",
            ".",
            ".hidden",
            "a b",
            "a\tb",
            "a\nb",
            "a\0b",
            "é",
            "a%2Fb",
            "a@b",
            "a?b",
            "a#b",
            "a+b",
            "a,b",
            "a;b",
            "a\"b",
        ] {
            assert_eq!(
                ClientId::new_registration(bad),
                Err(TypeError::UnsafeClientId),
                "{bad:?}"
            );
        }
        assert!(ClientId::new_registration("a".repeat(256)).is_err());
    }

    #[test]
    fn stored_ids_outside_the_set_still_deserialize() {
        let id: Result<ClientId, _> = serde_json::from_str("\"urn:svc:a/b\"");
        assert!(id.as_ref().is_ok_and(|id| !id.is_registration_safe()), "{id:?}");
    }
}
