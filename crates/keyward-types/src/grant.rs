use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::TypeError;

/// A grant type the token endpoint implements. Registration of any other is rejected, so the
/// discovery document can list exactly what works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
#[non_exhaustive]
pub enum GrantType {
    ClientCredentials,
    /// RFC 6749 §4.1: a user signs in at `/authorize`, the client exchanges the code.
    AuthorizationCode,
    /// RFC 6749 §6. Registering it is the client policy that issues refresh tokens from a code
    /// exchange even without the `offline_access` scope.
    RefreshToken,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [
        GrantType::ClientCredentials,
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
        }
    }
}

impl FromStr for GrantType {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| TypeError::UnknownGrantType(s.to_owned()))
    }
}

impl TryFrom<String> for GrantType {
    type Error = TypeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<GrantType> for &'static str {
    fn from(value: GrantType) -> Self {
        value.as_str()
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
