use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

fn b64_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A public JWK (RFC 7517) of a type keyward uses: RSA, EC P-256/P-384, OKP Ed25519. Unknown
/// members are ignored on input; private members (`d`, `p`, `q`, …) and `k` are captured only so
/// that their presence can be refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// The certificate chain (standard base64 DER, RFC 7517 §4.7). keyward sets it only from a
    /// certificate it parsed itself; importers drop a client-supplied one, which nothing checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    /// Private or symmetric members, kept only to refuse documents that carry them.
    #[serde(flatten, skip_serializing)]
    pub other: std::collections::BTreeMap<String, Value>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

impl PublicJwk {
    pub fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self::bare("RSA", None, Some(b64_encode(n)), Some(b64_encode(e)), None, None)
    }

    pub fn ec(crv: &str, x: &[u8], y: &[u8]) -> Self {
        Self::bare(
            "EC",
            Some(crv),
            None,
            None,
            Some(b64_encode(x)),
            Some(b64_encode(y)),
        )
    }

    pub fn ed25519(x: &[u8]) -> Self {
        Self::bare("OKP", Some("Ed25519"), None, None, Some(b64_encode(x)), None)
    }

    fn bare(
        kty: &str,
        crv: Option<&str>,
        n: Option<String>,
        e: Option<String>,
        x: Option<String>,
        y: Option<String>,
    ) -> Self {
        Self {
            kty: kty.to_owned(),
            kid: None,
            use_: None,
            alg: None,
            n,
            e,
            crv: crv.map(str::to_owned),
            x,
            y,
            x5c: None,
            other: Default::default(),
        }
    }

    /// Whether the JWK carries private (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`) or symmetric
    /// (`k`) key material.
    pub fn has_private_material(&self) -> bool {
        ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
            .iter()
            .any(|m| self.other.contains_key(*m))
            || self.kty == "oct"
    }

    /// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order with no
    /// whitespace, base64url. Stable across `kid`, `use`, `alg` and member order.
    pub fn thumbprint(&self) -> String {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let canonical = match self.kty.as_str() {
            "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s(&self.e), s(&self.n)),
            "EC" => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                s(&self.crv),
                s(&self.x),
                s(&self.y)
            ),
            other => format!(
                r#"{{"crv":"{}","kty":"{}","x":"{}"}}"#,
                s(&self.crv),
                other,
                s(&self.x)
            ),
        };
        b64_encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of RFC 7638 §3.1.
    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let jwk: PublicJwk = serde_json::from_str(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap_or_else(|_| PublicJwk::rsa(b"", b""));
        assert_eq!(jwk.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
