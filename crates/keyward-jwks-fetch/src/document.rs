//! A fetched JWKS document becomes credentials, or is refused whole.

use keyward_jose::{credential_from_jwk, KeyCheckError};
use keyward_types::{strict_json::ensure_unique_members, Credential, JwkError, PublicJwk};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{FetchConfig, FetchError};

/// Every key checked. Private or symmetric material anywhere refuses the whole document (it
/// means the client published what it must keep secret); keys of a type or use keyward does not
/// verify with (encryption keys, other curves) are skipped, and so are keys that fail the key
/// checks of `check_public_jwk` (an Ed25519 point of small order, RSA with `e = 1`, an even or
/// short `n`): such a key is a broken key of the client, not a secret it leaked, so its other
/// keys keep working while it verifies nothing.
pub(crate) fn parse(
    body: &[u8],
    config: &FetchConfig,
    now: OffsetDateTime,
) -> Result<Vec<Credential>, FetchError> {
    // RFC 7517 §4 lets a reader take the last of two same-named members; another reader takes
    // the first, so a key could mean one thing here and another to the client's own tooling.
    ensure_unique_members(body).map_err(|_| FetchError::BadJson)?;
    let doc: Value = serde_json::from_slice(body).map_err(|_| FetchError::BadJson)?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(FetchError::BadJson)?;
    if keys.len() > config.max_keys {
        return Err(FetchError::TooManyKeys(config.max_keys));
    }
    let parsed: Vec<Result<PublicJwk, JwkError>> =
        keys.iter().map(|k| PublicJwk::from_json(k.clone())).collect();
    if parsed.iter().any(|k| matches!(k, Err(JwkError::Malformed(_)))) {
        return Err(FetchError::BadJson);
    }
    if parsed
        .iter()
        .any(|k| matches!(k, Err(JwkError::PrivateMaterial(_) | JwkError::Symmetric)))
    {
        return Err(FetchError::PrivateKeyMaterial);
    }
    let mut out = Vec::new();
    for jwk in parsed {
        let checked = jwk.map_err(KeyCheckError::from).and_then(|jwk| {
            if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
                return Ok(None);
            }
            credential_from_jwk(jwk, None, |thumbprint| format!("jwks:{thumbprint}"), now).map(Some)
        });
        match checked {
            Ok(Some(c)) => out.push(c),
            Ok(None) => {}
            Err(
                e @ (KeyCheckError::UnsupportedType(_)
                | KeyCheckError::UnsupportedCurve(_)
                | KeyCheckError::AlgMismatch { .. }),
            ) => tracing::debug!(error = %e, "skipping a JWKS key keyward cannot verify with"),
            // A key that anyone could forge with, or that is no key at all, is worth a warning:
            // the client's owner should replace it.
            Err(e) => tracing::warn!(error = %e, "skipping a JWKS key that fails the key checks"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use keyward_jose::{b64_encode, SigningKey};
    use keyward_types::SigningAlg;
    use serde_json::json;

    use super::*;

    fn parse_doc(doc: &Value) -> Result<Vec<Credential>, FetchError> {
        parse(
            doc.to_string().as_bytes(),
            &FetchConfig::default(),
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    /// A key that fails the key checks is skipped like a key of another type: the document's
    /// good keys still verify, the bad one is never a credential.
    #[test]
    fn skips_keys_that_fail_the_key_checks() {
        let good = SigningKey::generate(SigningAlg::ES256).unwrap();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut n = vec![0xc5u8; 256];
        n[255] = 0x01;
        let doc = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "small", "x": b64_encode(identity)},
            {"kty": "RSA", "kid": "e1", "n": b64_encode(&n), "e": b64_encode([1])},
            good.public_jwk(),
        ]});
        let creds = parse_doc(&doc).unwrap();
        assert_eq!(creds.len(), 1);
        assert_eq!(creds[0].kid, good.kid());
    }

    #[test]
    fn refuses_a_document_with_duplicate_members() {
        let body = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQ","x":"AQ"}]}"#;
        let r = parse(body, &FetchConfig::default(), OffsetDateTime::UNIX_EPOCH);
        assert!(matches!(r, Err(FetchError::BadJson)));
    }
}
