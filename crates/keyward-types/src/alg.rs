use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::TypeError;

/// A JWS algorithm (RFC 7518) keyward signs or verifies with. `none` has no variant, so it can
/// never be selected by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
#[non_exhaustive]
pub enum SigningAlg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
    HS256,
    HS384,
    HS512,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 12] = [
        SigningAlg::RS256,
        SigningAlg::RS384,
        SigningAlg::RS512,
        SigningAlg::PS256,
        SigningAlg::PS384,
        SigningAlg::PS512,
        SigningAlg::ES256,
        SigningAlg::ES384,
        SigningAlg::EdDSA,
        SigningAlg::HS256,
        SigningAlg::HS384,
        SigningAlg::HS512,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::RS384 => "RS384",
            SigningAlg::RS512 => "RS512",
            SigningAlg::PS256 => "PS256",
            SigningAlg::PS384 => "PS384",
            SigningAlg::PS512 => "PS512",
            SigningAlg::ES256 => "ES256",
            SigningAlg::ES384 => "ES384",
            SigningAlg::EdDSA => "EdDSA",
            SigningAlg::HS256 => "HS256",
            SigningAlg::HS384 => "HS384",
            SigningAlg::HS512 => "HS512",
        }
    }

    /// Symmetric (HMAC) algorithms: only ever valid with a shared client secret.
    pub fn is_symmetric(self) -> bool {
        matches!(self, SigningAlg::HS256 | SigningAlg::HS384 | SigningAlg::HS512)
    }
}

impl FromStr for SigningAlg {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| TypeError::UnknownAlg(s.chars().take(32).collect()))
    }
}

impl TryFrom<String> for SigningAlg {
    type Error = TypeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<SigningAlg> for &'static str {
    fn from(value: SigningAlg) -> Self {
        value.as_str()
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
