use std::fmt;

use serde::{Deserialize, Serialize};

use crate::TypeError;

/// A client identifier: 1–255 bytes of visible ASCII (no spaces or control characters), so it
/// is safe to log, to put in a URL path segment and to compare byte-wise.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 255;

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
    fn accepts_visible_ascii() {
        assert!(ClientId::parse("svc-a:b@c/d").is_ok());
    }

    #[test]
    fn rejects_empty_space_control_and_long() {
        for bad in ["", "a b", "a\tb", "é"] {
            assert_eq!(ClientId::parse(bad), Err(TypeError::InvalidClientId), "{bad:?}");
        }
        assert!(ClientId::parse("a".repeat(256)).is_err());
        assert!(ClientId::parse("a".repeat(255)).is_ok());
    }
}
