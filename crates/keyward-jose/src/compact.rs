use keyward_types::strict_json::{ensure_unique_members, StrictJsonError};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{b64_decode, JoseError};

/// The JOSE header fields keyward reads. Others are ignored; `jku`, `jwk`, `x5u` and `x5c` are
/// deliberately not even parsed, so nothing can follow them.
#[derive(Debug, Clone, Deserialize)]
pub struct JwsHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    /// `crit` (RFC 7515 §4.1.11) exactly as sent, `Some` whenever the member is present, even
    /// as `null`. keyward understands no extension (`b64` of RFC 7797 included), so a token
    /// carrying it must be refused by whoever verifies it; read it only to refuse it.
    #[serde(default, deserialize_with = "present")]
    pub crit: Option<Value>,
}

impl JwsHeader {
    /// Whether the header names extensions the verifier must understand (RFC 7515 §4.1.11:
    /// then it must refuse the JWS, as keyward understands none).
    pub fn has_crit(&self) -> bool {
        self.crit.is_some()
    }
}

/// `Some` for a member that is present, whatever its value (`null` included).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Refuses duplicate member names at any depth (RFC 7515 §4, RFC 7519 §4 allow a reader to
/// refuse them; keyward must, or `"aud":"http://evil", …, "aud":"<issuer>"` means one thing to
/// the check and another to anyone reading the token later).
fn strict(bytes: &[u8], part: &'static str) -> Result<(), JoseError> {
    match ensure_unique_members(bytes) {
        Ok(()) => Ok(()),
        Err(StrictJsonError::Syntax) => Err(JoseError::BadJson(part)),
        Err(e) => Err(JoseError::NotStrictJson(part, e)),
    }
}

/// A compact JWS with a JSON payload (a JWT) split into its parts, header parsed, header and
/// payload known to be strict JSON, signature not yet verified. Holding one proves nothing
/// about who made it.
#[derive(Debug)]
pub struct CompactJws<'a> {
    pub header: JwsHeader,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JoseError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::NotCompact);
        };
        let header_bytes = b64_decode(h).ok_or(JoseError::BadBase64("header"))?;
        // RFC 7515 §4: the header is a JSON object. A derived `Deserialize` would also take an
        // array field by field, so that is refused first; the derive alone would refuse
        // duplicates only of the members it knows, so every member is checked first.
        if header_bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(JoseError::BadJson("header"));
        }
        strict(&header_bytes, "header")?;
        let header: JwsHeader =
            serde_json::from_slice(&header_bytes).map_err(|_| JoseError::BadJson("header"))?;
        let payload = b64_decode(p).ok_or(JoseError::BadBase64("payload"))?;
        strict(&payload, "payload")?;
        let signature = b64_decode(s).ok_or(JoseError::BadBase64("signature"))?;
        let signing_input = token.get(..h.len() + 1 + p.len()).ok_or(JoseError::NotCompact)?;
        Ok(Self {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// The payload as JSON of the caller's type, its member names already known to be unique.
    /// Unverified until a [`crate::VerifyingKey`] said so.
    pub fn claims<T: serde::de::DeserializeOwned>(&self) -> Result<T, JoseError> {
        serde_json::from_slice(&self.payload).map_err(|_| JoseError::BadJson("payload"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_wrong_part_counts_and_encodings() {
        assert_eq!(CompactJws::parse("a.b").err(), Some(JoseError::NotCompact));
        assert_eq!(CompactJws::parse("a.b.c.d").err(), Some(JoseError::NotCompact));
        assert_eq!(
            CompactJws::parse("!!.e30.").err(),
            Some(JoseError::BadBase64("header"))
        );
        assert_eq!(
            CompactJws::parse("e30.e30.").err(),
            Some(JoseError::BadJson("header"))
        );
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.", crate::b64_encode(header), crate::b64_encode(payload))
    }

    #[test]
    fn rejects_duplicate_members_in_header_and_payload() {
        let dup = |part| {
            Some(JoseError::NotStrictJson(
                part,
                StrictJsonError::DuplicateMember("aud".into()),
            ))
        };
        let claims = r#"{"aud":"http://evil","iss":"c","aud":"http://issuer"}"#;
        assert_eq!(
            CompactJws::parse(&token(r#"{"alg":"ES256"}"#, claims)).err(),
            dup("payload")
        );
        // A member the header struct does not know (its derive would take the last one).
        let header = r#"{"alg":"ES256","aud":"a","aud":"b"}"#;
        assert_eq!(CompactJws::parse(&token(header, "{}")).err(), dup("header"));
        let nested = r#"{"cnf":{"jkt":"a","jkt":"b"}}"#;
        assert!(matches!(
            CompactJws::parse(&token(r#"{"alg":"ES256"}"#, nested)).err(),
            Some(JoseError::NotStrictJson("payload", _))
        ));
        assert_eq!(
            CompactJws::parse(&token(r#"{"alg":"ES256"}"#, "{")).err(),
            Some(JoseError::BadJson("payload"))
        );
    }

    #[test]
    fn crit_is_recorded_whatever_its_value() -> Result<(), JoseError> {
        for crit in [r#"["urn:x"]"#, r#"["b64"],"b64":false"#, "[]", "null", "7"] {
            let t = token(&format!(r#"{{"alg":"ES256","crit":{crit}}}"#), "{}");
            assert!(CompactJws::parse(&t)?.header.has_crit(), "{crit}");
        }
        assert!(!CompactJws::parse(&token(r#"{"alg":"ES256"}"#, "{}"))?
            .header
            .has_crit());
        Ok(())
    }
}
