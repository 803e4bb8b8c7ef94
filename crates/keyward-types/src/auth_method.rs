use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::TypeError;

/// A `token_endpoint_auth_method` (RFC 7591 §2). Only methods the server really implements are
/// listed, so a registration naming anything else is rejected at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
#[non_exhaustive]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// RFC 7523 assertion signed with the client's shared secret (HS256/384/512).
    ClientSecretJwt,
    /// RFC 7523 assertion signed with one of the client's registered private keys.
    PrivateKeyJwt,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Whether the server keeps a shared secret for clients of this method.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
        )
    }

    /// Whether the server must be able to recover the secret in clear (to compute an HMAC),
    /// so it stores it encrypted rather than only hashed.
    pub fn needs_clear_secret(self) -> bool {
        matches!(self, AuthMethod::ClientSecretJwt)
    }

    /// Whether clients of this method authenticate with a signed JWT (RFC 7523).
    pub fn uses_assertion(self) -> bool {
        matches!(self, AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt)
    }
}

impl FromStr for AuthMethod {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| TypeError::UnknownAuthMethod(s.to_owned()))
    }
}

impl TryFrom<String> for AuthMethod {
    type Error = TypeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<AuthMethod> for &'static str {
    fn from(value: AuthMethod) -> Self {
        value.as_str()
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
