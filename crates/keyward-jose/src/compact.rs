use serde::Deserialize;

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
}

/// A compact JWS split into its parts, header parsed, signature not yet verified. Holding one
/// proves nothing about who made it.
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
        // array field by field, so that is refused first; the derive itself refuses duplicate
        // members, which §4 allows us to reject.
        if header_bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(JoseError::BadJson("header"));
        }
        let header: JwsHeader =
            serde_json::from_slice(&header_bytes).map_err(|_| JoseError::BadJson("header"))?;
        let payload = b64_decode(p).ok_or(JoseError::BadBase64("payload"))?;
        let signature = b64_decode(s).ok_or(JoseError::BadBase64("signature"))?;
        let signing_input = token.get(..h.len() + 1 + p.len()).ok_or(JoseError::NotCompact)?;
        Ok(Self {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// The payload as JSON of the caller's type. Unverified until a [`crate::VerifyingKey`] said so.
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
}
