use std::{fmt, str::FromStr, sync::Arc};

use serde::{Deserialize, Serialize, Serializer};

use crate::TypeError;

/// A `token_endpoint_auth_method` (RFC 7591 §2): one of the four methods keyward implements, or
/// the name of a method registered at start-up by code outside keyward's crates. Parsing accepts
/// any well-formed name, so a stored client of a custom method reads back; whether a method is
/// usable is the server's registry's question (`keyward_client_auth::Authenticator`), asked
/// when a client is registered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
#[non_exhaustive]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// RFC 7523 assertion signed with the client's shared secret (HS256/384/512).
    ClientSecretJwt,
    /// RFC 7523 assertion signed with one of the client's registered private keys.
    PrivateKeyJwt,
    /// A method keyward's crates do not implement; never one of the four names above.
    Custom(CustomMethod),
}

/// The name of a custom method: 1 to 64 characters from `a-z 0-9 _ : . -`, so it is safe in
/// discovery, logs and metric labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomMethod(Arc<str>);

const CUSTOM_MAX_LEN: usize = 64;

impl AuthMethod {
    pub const BUILT_IN: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
    ];

    /// A custom method's name. Refuses a built-in name, so one method never has two spellings.
    pub fn custom(name: &str) -> Result<Self, TypeError> {
        let well_formed = (1..=CUSTOM_MAX_LEN).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_:.-".contains(&b));
        let built_in = Self::BUILT_IN.iter().any(|m| m.as_str() == name);
        if well_formed && !built_in {
            Ok(AuthMethod::Custom(CustomMethod(name.into())))
        } else {
            Err(TypeError::UnknownAuthMethod(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::Custom(CustomMethod(name)) => name,
        }
    }

    /// Whether the server keeps a shared secret for clients of this method. A custom method
    /// keeps whatever it verifies with itself.
    pub fn uses_secret(&self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
        )
    }

    /// Whether the server must be able to recover the secret in clear (to compute an HMAC),
    /// so it stores it encrypted rather than only hashed.
    pub fn needs_clear_secret(&self) -> bool {
        matches!(self, AuthMethod::ClientSecretJwt)
    }

    /// Whether clients of this method authenticate with a signed JWT (RFC 7523).
    pub fn uses_assertion(&self) -> bool {
        matches!(self, AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt)
    }
}

impl FromStr for AuthMethod {
    type Err = TypeError;
    /// A built-in name is that method; any other well-formed name is a custom method.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Self::BUILT_IN.into_iter().find(|m| m.as_str() == s) {
            Some(m) => Ok(m),
            None => Self::custom(s),
        }
    }
}

impl TryFrom<String> for AuthMethod {
    type Error = TypeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl Serialize for AuthMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_names_parse_to_built_in_methods() {
        for m in AuthMethod::BUILT_IN {
            assert_eq!(m.as_str().parse::<AuthMethod>(), Ok(m.clone()));
        }
    }

    #[test]
    fn other_well_formed_names_are_custom_and_round_trip() {
        let m: AuthMethod = "x-test:shared.header_1".parse().unwrap();
        assert!(matches!(m, AuthMethod::Custom(_)));
        assert_eq!(m.as_str(), "x-test:shared.header_1");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "\"x-test:shared.header_1\"");
        assert_eq!(serde_json::from_str::<AuthMethod>(&json).unwrap(), m);
    }

    #[test]
    fn refuses_malformed_and_built_in_custom_names() {
        for bad in ["", "Upper", "with space", "é", &"a".repeat(65)] {
            assert_eq!(
                bad.parse::<AuthMethod>(),
                Err(TypeError::UnknownAuthMethod(bad.to_owned()))
            );
        }
        assert!(AuthMethod::custom("client_secret_post").is_err());
    }
}
