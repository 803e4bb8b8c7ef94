//! A fetched JWKS document becomes credentials, or is refused whole.

use keyward_jose::credential_from_jwk;
use keyward_types::{Credential, PublicJwk};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{FetchConfig, FetchError};

/// Every key checked. Private or symmetric material anywhere refuses the whole document (it
/// means the client published what it must keep secret); keys of a type or use keyward does not
/// verify with (encryption keys, other curves) are skipped.
pub(crate) fn parse(
    body: &[u8],
    config: &FetchConfig,
    now: OffsetDateTime,
) -> Result<Vec<Credential>, FetchError> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| FetchError::BadJson)?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(FetchError::BadJson)?;
    if keys.len() > config.max_keys {
        return Err(FetchError::TooManyKeys(config.max_keys));
    }
    let jwks: Vec<PublicJwk> = keys
        .iter()
        .map(|k| serde_json::from_value(k.clone()).map_err(|_| FetchError::BadJson))
        .collect::<Result<_, _>>()?;
    if jwks.iter().any(PublicJwk::has_private_material) {
        return Err(FetchError::PrivateKeyMaterial);
    }
    let mut out = Vec::new();
    for jwk in jwks {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            continue;
        }
        match credential_from_jwk(jwk, None, |thumbprint| format!("jwks:{thumbprint}"), now) {
            Ok(c) => out.push(c),
            Err(e) => tracing::debug!(error = %e, "skipping a JWKS key keyward cannot verify with"),
        }
    }
    Ok(out)
}
