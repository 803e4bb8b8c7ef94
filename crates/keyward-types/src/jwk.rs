//! Public JWKs (RFC 7517) of the types keyward verifies with: RSA, EC P-256/P-384, OKP Ed25519.
//!
//! A JWK becomes a [`PublicJwk`] or a [`JwkError`] at the edge. Private (`d`, `p`, …) and
//! symmetric (`kty: oct`, `k`) material, other key types and other curves are refused while
//! parsing, so a `PublicJwk` always holds the public half of a key type keyward knows.
//! Parsing is hand-written rather than a derived `#[serde(tag = "kty")]`: a derived enum
//! reports an unknown type or curve as text, and the callers need to tell them apart (a JWKS
//! document skips an unknown key type but refuses private material).

use std::{borrow::Cow, collections::BTreeMap, fmt};

use aws_lc_rs::digest;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;

use crate::SigningAlg;

/// Members that carry private key material (RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// A base64url member of a JWK (RFC 7518 §6), kept as it was sent: the RFC 7638 thumbprint is
/// computed over the text, and re-encoding decoded bytes could change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Url(String);

impl Base64Url {
    pub fn encode(bytes: impl AsRef<[u8]>) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The octets, or `None` unless the text is unpadded base64url: one key, one encoding.
    pub fn decode(&self) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(&self.0).ok()
    }
}

impl fmt::Display for Base64Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The NIST curves keyward verifies ECDSA signatures on (`crv`, RFC 7518 §6.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
}

impl EcCurve {
    pub fn as_str(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
        }
    }
}

/// The Edwards curves keyward verifies signatures on (`crv`, RFC 8037 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OkpCurve {
    Ed25519,
}

impl OkpCurve {
    pub fn as_str(self) -> &'static str {
        match self {
            OkpCurve::Ed25519 => "Ed25519",
        }
    }
}

/// The key material of a public JWK, by key type (`kty`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwkParams {
    Rsa {
        n: Base64Url,
        e: Base64Url,
    },
    Ec {
        crv: EcCurve,
        x: Base64Url,
        y: Base64Url,
    },
    Okp {
        crv: OkpCurve,
        x: Base64Url,
    },
}

impl JwkParams {
    /// Whether a key of this type can verify `alg` at all: RSA keys RS*/PS*, P-256 ES256,
    /// P-384 ES384, Ed25519 EdDSA (a key's "family" in DESIGN.md's assertion rules).
    pub fn fits(&self, alg: SigningAlg) -> bool {
        use SigningAlg::*;
        match self {
            JwkParams::Rsa { .. } => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            JwkParams::Ec {
                crv: EcCurve::P256, ..
            } => alg == ES256,
            JwkParams::Ec {
                crv: EcCurve::P384, ..
            } => alg == ES384,
            JwkParams::Okp {
                crv: OkpCurve::Ed25519,
                ..
            } => alg == EdDSA,
        }
    }

    /// The one algorithm a key of this type can verify, when there is only one (EC and
    /// Ed25519 keys); `None` for RSA, which verifies six.
    pub fn only_alg(&self) -> Option<SigningAlg> {
        match self {
            JwkParams::Rsa { .. } => None,
            JwkParams::Ec {
                crv: EcCurve::P256, ..
            } => Some(SigningAlg::ES256),
            JwkParams::Ec {
                crv: EcCurve::P384, ..
            } => Some(SigningAlg::ES384),
            JwkParams::Okp {
                crv: OkpCurve::Ed25519,
                ..
            } => Some(SigningAlg::EdDSA),
        }
    }

    /// The `kty` member.
    pub fn kty(&self) -> &'static str {
        match self {
            JwkParams::Rsa { .. } => "RSA",
            JwkParams::Ec { .. } => "EC",
            JwkParams::Okp { .. } => "OKP",
        }
    }

    /// The `crv` member, for the key types that have one.
    pub fn crv(&self) -> Option<&'static str> {
        match self {
            JwkParams::Rsa { .. } => None,
            JwkParams::Ec { crv, .. } => Some(crv.as_str()),
            JwkParams::Okp { crv, .. } => Some(crv.as_str()),
        }
    }
}

/// A public JWK: key material by type plus the members keyward reads or sets. Other members
/// are ignored on input and not written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub params: JwkParams,
    pub kid: Option<String>,
    pub use_: Option<String>,
    pub alg: Option<String>,
    /// The certificate chain (standard base64 DER, RFC 7517 §4.7). keyward sets it only from a
    /// certificate it parsed itself; importers drop a client-supplied one, which nothing checks.
    pub x5c: Option<Vec<String>>,
}

/// Why a JSON value is not a [`PublicJwk`]. No variant repeats a member's value except the
/// names of an unsupported type or curve.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum JwkError {
    /// Not an object, or a member keyward reads is not a string.
    #[error("not a valid JWK (kty with n, e or crv, x, y as strings)")]
    Malformed(#[source] serde_json::Error),
    #[error("the key contains private key material ({0})")]
    PrivateMaterial(&'static str),
    #[error("the key is a symmetric key")]
    Symmetric,
    #[error("key type {0} is not supported")]
    UnsupportedType(String),
    /// The curve named, or `(none)` when `crv` is missing.
    #[error("curve {0} is not supported")]
    UnsupportedCurve(String),
    #[error("the {kty} key lacks the member {member}")]
    MissingMember { kty: &'static str, member: &'static str },
}

/// A JWK as JSON: every member keyward knows, as text, plus the rest. Borrowed when writing.
#[derive(Serialize, Deserialize)]
struct Raw<'a> {
    kty: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<Cow<'a, str>>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    use_: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5c: Option<Cow<'a, [String]>>,
    #[serde(flatten, skip_serializing)]
    other: BTreeMap<String, Value>,
}

/// Symmetric or private material named by the members present, in the order keyward reports it.
fn refuse_secrets(kty: Option<&str>, has: impl Fn(&str) -> bool) -> Result<(), JwkError> {
    if kty == Some("oct") || has("k") {
        return Err(JwkError::Symmetric);
    }
    match PRIVATE_MEMBERS.iter().find(|m| has(m)) {
        Some(m) => Err(JwkError::PrivateMaterial(m)),
        None => Ok(()),
    }
}

impl PublicJwk {
    pub fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self::bare(JwkParams::Rsa {
            n: Base64Url::encode(n),
            e: Base64Url::encode(e),
        })
    }

    pub fn ec(crv: EcCurve, x: &[u8], y: &[u8]) -> Self {
        Self::bare(JwkParams::Ec {
            crv,
            x: Base64Url::encode(x),
            y: Base64Url::encode(y),
        })
    }

    pub fn ed25519(x: &[u8]) -> Self {
        Self::bare(JwkParams::Okp {
            crv: OkpCurve::Ed25519,
            x: Base64Url::encode(x),
        })
    }

    /// Key material with no `kid`, `use`, `alg` or `x5c`.
    pub fn bare(params: JwkParams) -> Self {
        Self {
            params,
            kid: None,
            use_: None,
            alg: None,
            x5c: None,
        }
    }

    pub fn kty(&self) -> &'static str {
        self.params.kty()
    }

    pub fn crv(&self) -> Option<&'static str> {
        self.params.crv()
    }

    /// A JWK someone sent. Symmetric and private material are refused before the members are
    /// read as text, so a key with a secret in it is always refused as such.
    pub fn from_json(value: Value) -> Result<Self, JwkError> {
        if let Value::Object(members) = &value {
            let kty = members.get("kty").and_then(Value::as_str);
            refuse_secrets(kty, |m| members.contains_key(m))?;
        }
        let raw: Raw<'static> = serde_json::from_value(value).map_err(JwkError::Malformed)?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: Raw<'_>) -> Result<Self, JwkError> {
        refuse_secrets(Some(&raw.kty), |m| raw.other.contains_key(m))?;
        let b64 = |v: Option<Cow<'_, str>>, kty, member| {
            v.map(|s| Base64Url(s.into_owned()))
                .ok_or(JwkError::MissingMember { kty, member })
        };
        let crv = raw.crv.as_deref().unwrap_or("(none)");
        let params = match &*raw.kty {
            "RSA" => JwkParams::Rsa {
                n: b64(raw.n, "RSA", "n")?,
                e: b64(raw.e, "RSA", "e")?,
            },
            "EC" => {
                let crv = match crv {
                    "P-256" => EcCurve::P256,
                    "P-384" => EcCurve::P384,
                    other => return Err(JwkError::UnsupportedCurve(other.to_owned())),
                };
                JwkParams::Ec {
                    crv,
                    x: b64(raw.x, "EC", "x")?,
                    y: b64(raw.y, "EC", "y")?,
                }
            }
            "OKP" => match crv {
                "Ed25519" => JwkParams::Okp {
                    crv: OkpCurve::Ed25519,
                    x: b64(raw.x, "OKP", "x")?,
                },
                other => return Err(JwkError::UnsupportedCurve(other.to_owned())),
            },
            other => return Err(JwkError::UnsupportedType(other.to_owned())),
        };
        Ok(Self {
            params,
            kid: raw.kid.map(Cow::into_owned),
            use_: raw.use_.map(Cow::into_owned),
            alg: raw.alg.map(Cow::into_owned),
            x5c: raw.x5c.map(Cow::into_owned),
        })
    }

    fn to_raw(&self) -> Raw<'_> {
        fn text(v: &Base64Url) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(v.as_str()))
        }
        let (mut n, mut e, mut x, mut y) = (None, None, None, None);
        match &self.params {
            JwkParams::Rsa { n: kn, e: ke } => (n, e) = (text(kn), text(ke)),
            JwkParams::Ec { x: kx, y: ky, .. } => (x, y) = (text(kx), text(ky)),
            JwkParams::Okp { x: kx, .. } => x = text(kx),
        }
        Raw {
            kty: Cow::Borrowed(self.kty()),
            kid: self.kid.as_deref().map(Cow::Borrowed),
            use_: self.use_.as_deref().map(Cow::Borrowed),
            alg: self.alg.as_deref().map(Cow::Borrowed),
            n,
            e,
            crv: self.crv().map(Cow::Borrowed),
            x,
            y,
            x5c: self.x5c.as_deref().map(Cow::Borrowed),
            other: BTreeMap::new(),
        }
    }

    /// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order with no
    /// whitespace, base64url. Stable across `kid`, `use`, `alg` and member order.
    pub fn thumbprint(&self) -> String {
        let canonical = match &self.params {
            JwkParams::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            JwkParams::Ec { crv, x, y } => {
                format!(r#"{{"crv":"{}","kty":"EC","x":"{x}","y":"{y}"}}"#, crv.as_str())
            }
            JwkParams::Okp { crv, x } => {
                format!(r#"{{"crv":"{}","kty":"OKP","x":"{x}"}}"#, crv.as_str())
            }
        };
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    }
}

impl Serialize for PublicJwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_raw().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PublicJwk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Raw::deserialize(deserializer)?;
        Self::from_raw(raw).map_err(serde::de::Error::custom)
    }
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    /// The example of RFC 7638 §3.1.
    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let jwk: PublicJwk = serde_json::from_str(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        assert_eq!(jwk.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    /// Members come out in the order they always have, and unknown ones are dropped.
    #[test]
    fn round_trips_the_members_keyward_knows() {
        let text = r#"{"kty":"EC","kid":"k1","use":"sig","alg":"ES256","crv":"P-256","x":"AQ","y":"Ag","x5c":["MA"]}"#;
        let mut with_extra: Value = serde_json::from_str(text).unwrap();
        with_extra["key_ops"] = json!(["verify"]);
        let jwk = PublicJwk::from_json(with_extra).unwrap();
        assert_eq!(serde_json::to_string(&jwk).unwrap(), text);
        assert_eq!(jwk.crv(), Some("P-256"));
    }

    #[test]
    fn refuses_what_is_not_a_public_key_keyward_knows() {
        let refused = |v: Value| PublicJwk::from_json(v).err().map(|e| e.to_string());
        let expect = |v: Value, want: &str| assert_eq!(refused(v).as_deref(), Some(want));
        expect(json!({"kty": "oct", "k": "AQ"}), "the key is a symmetric key");
        expect(json!({"kty": "DSA", "k": "AQ"}), "the key is a symmetric key");
        expect(
            json!({"kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ", "d": "AQ"}),
            "the key contains private key material (d)",
        );
        expect(json!({"kty": "DSA", "x": "AQ"}), "key type DSA is not supported");
        expect(
            json!({"kty": "EC", "crv": "P-521"}),
            "curve P-521 is not supported",
        );
        expect(json!({"kty": "EC", "x": "AQ"}), "curve (none) is not supported");
        expect(
            json!({"kty": "OKP", "crv": "X25519"}),
            "curve X25519 is not supported",
        );
        expect(
            json!({"kty": "RSA", "e": "AQAB"}),
            "the RSA key lacks the member n",
        );
        assert!(matches!(
            PublicJwk::from_json(json!({"kty": 5})),
            Err(JwkError::Malformed(_))
        ));
        assert!(serde_json::from_value::<PublicJwk>(json!({"kty": "oct", "k": "AQ"})).is_err());
    }
}
