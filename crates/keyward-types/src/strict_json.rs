//! JSON that means one thing to every reader.
//!
//! RFC 8259 §4 leaves duplicate member names undefined: serde_json keeps the last, other
//! parsers keep the first, a derived `Deserialize` refuses only the fields it knows, and a
//! `flatten` or a map silently takes the last. An attacker who can make two readers disagree
//! (`"aud":"http://evil", …, "aud":"<issuer>"`) gets a check to pass on one value and an
//! effect on the other. So every untrusted JSON document — JOSE headers and claims (RFC 7515 §4,
//! RFC 7519 §4), admin request bodies — is first checked here: any object, at any depth, with
//! two members of the same name is refused before the typed parse runs.

use std::{collections::HashSet, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use thiserror::Error;

use crate::Untrusted;

/// Deepest nesting accepted. serde_json stops at 128 on its own; keyward's documents are flat,
/// so a lower bound keeps the recursion here small and the refusal clear.
pub const MAX_DEPTH: usize = 32;

/// Why a document is not strict JSON.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StrictJsonError {
    /// The member name is kept (cut and escaped as [`Untrusted`]) so the caller can say which;
    /// it is not a secret (values are never kept).
    #[error("duplicate member \"{0}\" in a JSON object")]
    DuplicateMember(String),
    #[error("JSON nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("not valid JSON")]
    Syntax,
}

/// Refuses `bytes` unless they are one JSON value whose objects all have distinct member names.
/// Says nothing about the value's shape: run the typed parse afterwards.
pub fn ensure_unique_members(bytes: &[u8]) -> Result<(), StrictJsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut found = None;
    let seed = Unique {
        depth: 0,
        found: &mut found,
    };
    let parsed = seed.deserialize(&mut de).and_then(|()| de.end());
    match (found, parsed) {
        (Some(e), _) => Err(e),
        (None, Ok(())) => Ok(()),
        (None, Err(_)) => Err(StrictJsonError::Syntax),
    }
}

/// Walks one value; records the first strictness violation in `found` and aborts the parse.
struct Unique<'a> {
    depth: usize,
    found: &'a mut Option<StrictJsonError>,
}

impl Unique<'_> {
    fn child(&mut self) -> Result<Unique<'_>, StrictJsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(StrictJsonError::TooDeep);
        }
        Ok(Unique {
            depth: self.depth + 1,
            found: self.found,
        })
    }

    fn fail<E: de::Error>(&mut self, e: StrictJsonError) -> E {
        *self.found = Some(e);
        E::custom("strict JSON violation")
    }
}

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let child = match self.child() {
                Ok(c) => c,
                Err(e) => return Err(self.fail(e)),
            };
            if seq.next_element_seed(child)?.is_none() {
                return Ok(());
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !seen.insert(name.clone()) {
                let shown = Untrusted(&name).shown();
                return Err(self.fail(StrictJsonError::DuplicateMember(shown)));
            }
            let child = match self.child() {
                Ok(c) => c,
                Err(e) => return Err(self.fail(e)),
            };
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_distinct_members_at_every_depth() {
        let doc = br#"{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]},"d":"x"}"#;
        assert_eq!(ensure_unique_members(doc), Ok(()));
    }

    #[test]
    fn rejects_duplicate_top_level_member() {
        let doc = br#"{"aud":"http://evil","iss":"x","aud":"http://issuer"}"#;
        assert_eq!(
            ensure_unique_members(doc),
            Err(StrictJsonError::DuplicateMember("aud".into()))
        );
    }

    #[test]
    fn rejects_duplicate_nested_member() {
        let doc = br#"{"jwks":{"keys":[{"kty":"EC","kty":"RSA"}]}}"#;
        assert_eq!(
            ensure_unique_members(doc),
            Err(StrictJsonError::DuplicateMember("kty".into()))
        );
    }

    #[test]
    fn names_that_differ_only_by_escape_are_the_same_member() {
        // "\u0061ud" is "aud": a byte-wise comparison would miss it.
        let doc = br#"{"aud":"a","\u0061ud":"b"}"#;
        assert_eq!(
            ensure_unique_members(doc),
            Err(StrictJsonError::DuplicateMember("aud".into()))
        );
    }

    #[test]
    fn rejects_deep_nesting_and_bad_syntax() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert_eq!(
            ensure_unique_members(deep.as_bytes()),
            Err(StrictJsonError::TooDeep)
        );
        assert_eq!(ensure_unique_members(b"{\"a\":1"), Err(StrictJsonError::Syntax));
        assert_eq!(ensure_unique_members(b"{} {}"), Err(StrictJsonError::Syntax));
    }
}
