//! JWK and JWK Set documents. Private and symmetric members are refused before the key is even
//! parsed, and no error repeats a member's value.

use keyward_types::{JwkError, PublicJwk};
use serde_json::Value;

use crate::{ImportedKey, KeyError};

pub(crate) fn import_jwk(data: &[u8]) -> Result<Vec<ImportedKey>, KeyError> {
    let value = parse(data)?;
    if value.get("keys").is_some() {
        return Err(KeyError::Unrecognized(
            "this is a JWK Set ({\"keys\": [...]}); use format jwks".into(),
        ));
    }
    Ok(vec![one(value)?])
}

/// Every key of the set, or the first problem: a set imports all or none.
pub(crate) fn import_jwks(data: &[u8]) -> Result<Vec<ImportedKey>, KeyError> {
    let keys = match parse(data)? {
        Value::Object(mut o) => match o.remove("keys") {
            Some(Value::Array(keys)) => keys,
            _ => return Err(not_a_set()),
        },
        _ => return Err(not_a_set()),
    };
    if keys.is_empty() {
        return Err(KeyError::InvalidRequest("the JWK Set has no keys".into()));
    }
    keys.into_iter().map(one).collect()
}

fn not_a_set() -> KeyError {
    KeyError::Unrecognized("a JWK Set is an object with a \"keys\" array".into())
}

fn parse(data: &[u8]) -> Result<Value, KeyError> {
    serde_json::from_slice(data)
        .map_err(|_| KeyError::Unrecognized("not JSON (a JWK or a JWK Set is a JSON object)".into()))
}

fn one(value: Value) -> Result<ImportedKey, KeyError> {
    if !value.is_object() {
        return Err(KeyError::Unrecognized("a JWK is a JSON object".into()));
    }
    let mut jwk = PublicJwk::from_json(value).map_err(|e| match e {
        JwkError::Symmetric => KeyError::SymmetricKey,
        JwkError::PrivateMaterial(member) => KeyError::PrivateMaterial(member),
        JwkError::Malformed(_) => {
            KeyError::Unrecognized("not a valid JWK (kty with n, e or crv, x, y as strings)".into())
        }
        other => KeyError::Check(other.into()),
    })?;
    // An `x5c` sent with a JWK is not checked against the key, so it is not kept either.
    jwk.x5c = None;
    Ok(ImportedKey {
        jwk,
        certificate: None,
        alias: None,
    })
}
