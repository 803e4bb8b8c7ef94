//! Admin requests as JSON documents, read alike by every face: a member sent twice is refused
//! before the typed parse, and a refusal names the member at fault, decided from serde's path
//! and error category, never from the wording of its message.

use std::fmt;

use keyward_types::{
    strict_json::{ensure_unique_members, StrictJsonError},
    Untrusted,
};
use serde::{
    de::{self, DeserializeOwned, Visitor},
    forward_to_deserialize_any,
};
use serde_path_to_error::Segment;

use crate::{error::FieldProblem, AdminError};

/// Client metadata (and the small bodies checked like it): a refusal is
/// `invalid_client_metadata` naming the field serde was at, or `body` for the document itself,
/// with serde's message.
pub fn metadata_document<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    refuse_duplicate_members(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // A refusal inside a member names the member's path; one of the document itself (not an
        // object, or not JSON) names the body.
        let field = match e.path().iter().next() {
            Some(Segment::Map { .. }) => Untrusted(&e.path().to_string()).shown(),
            _ => "body".to_owned(),
        };
        AdminError::InvalidField {
            field: field.into(),
            problem: FieldProblem::Json(e.into_inner()),
        }
    })
}

/// A request that may carry secrets (passwords, key material): a refusal names the member but
/// never repeats a value, which serde's message for a wrongly typed member would.
pub fn request_document<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    refuse_duplicate_members(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if !e.inner().is_data() {
            return AdminError::InvalidRequest("the body is not valid JSON".into());
        }
        let path = e.path().to_string();
        let mut segments = e.path().iter();
        let unknown = match (segments.next(), segments.next()) {
            (Some(Segment::Map { key }), None) if !members::<T>().contains(&key.as_str()) => {
                Some(key.clone())
            }
            _ => None,
        };
        let at_root = e.path().iter().next().is_none();
        if let Some(key) = unknown {
            AdminError::InvalidRequest(format!("unknown field '{}'", Untrusted(&key)).into())
        } else if at_root && is_object(bytes) {
            // A well-formed object refused at its root lacks a member (duplicates and unknown
            // members are refused above).
            AdminError::MissingMember(e.into_inner())
        } else {
            AdminError::InvalidRequest(format!("field '{}' has the wrong type", Untrusted(&path)).into())
        }
    })
}

/// Refuses a body with two members of the same name in any object, before the typed parse.
///
/// A derived `Deserialize` refuses duplicates of the fields it knows, but a body read as a
/// map (a PATCH) keeps the last one silently, and serde's refusal is worded per field; so two
/// requests could read one body differently. A body that is not JSON at all passes through to
/// the typed parse, which says so in its own words.
fn refuse_duplicate_members(bytes: &[u8]) -> Result<(), AdminError> {
    match ensure_unique_members(bytes) {
        Ok(()) | Err(StrictJsonError::Syntax) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn is_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The member names a derived `Deserialize` struct accepts: the list it hands to
/// `deserialize_struct`, read by a deserializer that stops right there. Empty for anything
/// that is not a struct.
fn members<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Members(&mut names));
    names
}

struct Members<'a>(&'a mut &'static [&'static str]);

/// The end of a [`Members`] read; it never leaves this module.
#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("members read")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for Members<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Upload {
        format: String,
        password: Option<String>,
    }

    fn refusal(body: &str) -> String {
        request_document::<Upload>(body.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn members_are_read_from_the_derive() {
        assert_eq!(members::<Upload>(), &["format", "password"]);
        assert!(members::<serde_json::Map<String, serde_json::Value>>().is_empty());
    }

    #[test]
    fn request_refusals_name_the_member_and_never_the_value() {
        assert_eq!(
            refusal(r#"{"format":"pem","extra":1}"#),
            "invalid_request: unknown field 'extra'"
        );
        assert_eq!(
            refusal(r#"{"format":"pem","password":12345678}"#),
            "invalid_request: field 'password' has the wrong type"
        );
        assert!(refusal(r#"{"password":"x"}"#).starts_with("invalid_request: missing field `format`"));
        assert_eq!(
            refusal(r#""hunter22""#),
            "invalid_request: field '.' has the wrong type"
        );
        assert_eq!(refusal("{"), "invalid_request: the body is not valid JSON");
        assert!(refusal(r#"{"format":"a","format":"b"}"#).contains("duplicate member"));
    }

    #[test]
    fn metadata_refusals_name_the_field_or_the_body() {
        let field = |body: &str| match metadata_document::<Upload>(body.as_bytes()) {
            Err(AdminError::InvalidField { field, .. }) => field.into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(r#"{"format":"pem","extra":1}"#), "extra");
        assert_eq!(field(r#"{"format":7}"#), "format");
        assert_eq!(field("[]"), "body");
        assert_eq!(field("{"), "body");
    }
}
