use std::{collections::BTreeSet, fmt};

use serde::{Deserialize, Serialize};

use crate::TypeError;

/// The scopes about a user that any client of the authorization code flow may ask for (the
/// user consents to them): OpenID Connect Core §5.4 and §11. Other scopes must be registered
/// for the client.
pub const USER_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A set of scope tokens (RFC 6749 §3.3): space-delimited, each token made of `%x21 / %x23-5B /
/// %x5D-7E`. Kept sorted and deduplicated so that equality and subset checks are set checks.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(BTreeSet<String>);

impl Scope {
    pub fn parse(value: &str) -> Result<Self, TypeError> {
        let mut set = BTreeSet::new();
        // Split on single spaces: an empty token (double space, leading space) is malformed.
        if value.is_empty() {
            return Ok(Self(set));
        }
        for token in value.split(' ') {
            let valid = !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !valid {
                return Err(TypeError::InvalidScopeToken(token.chars().take(64).collect()));
            }
            set.insert(token.to_owned());
        }
        Ok(Self(set))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for token in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(token)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

impl TryFrom<String> for Scope {
    type Error = TypeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(value: Scope) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let s = Scope::parse("b a b").unwrap_or_default();
        assert_eq!(s.to_string(), "a b");
        assert!(Scope::parse("a").unwrap_or_default().is_subset_of(&s));
    }

    #[test]
    fn rejects_bad_tokens() {
        for bad in ["a  b", " a", "a\"b", "a\\b", "é"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }
}
