//! Keys registered inline (`jwks` in the client metadata): each checked and turned into an entry
//! of the client's credential list, all or none.

use keyward_jose::credential_from_jwk;
use keyward_types::{AuthMethod, Client, Credential, PublicJwk};
use time::OffsetDateTime;

use crate::{error::FieldProblem, AdminError};

/// The inline `jwks` of a registration as credentials, every key checked; all or none.
pub(crate) fn credentials_from_jwks(
    jwks: Option<&serde_json::Value>,
    client: &Client,
    now: OffsetDateTime,
    max_credentials: usize,
) -> Result<Vec<Credential>, AdminError> {
    let Some(jwks) = jwks else {
        return Ok(Vec::new());
    };
    if client.token_endpoint_auth_method != AuthMethod::PrivateKeyJwt {
        return Err(AdminError::field(
            "jwks",
            "only private_key_jwt clients register public keys",
        ));
    }
    let keys: Vec<PublicJwk> = jwks
        .get("keys")
        .cloned()
        .and_then(|k| serde_json::from_value(k).ok())
        .ok_or_else(|| AdminError::field("jwks", "must be a JWK Set: {\"keys\": [...]}"))?;
    if keys.len() > max_credentials {
        return Err(AdminError::field(
            "jwks",
            format!("at most {max_credentials} keys per client (max_credentials_per_client)"),
        ));
    }
    let mut out: Vec<Credential> = Vec::new();
    for (index, mut jwk) in keys.into_iter().enumerate() {
        // An `x5c` sent with a JWK is not checked against the key, so it is not kept either.
        jwk.x5c = None;
        let id = crate::random_id()?;
        let c = credential_from_jwk(jwk, client.token_endpoint_auth_signing_alg, |_| id, now)
            .map_err(|source| AdminError::value("jwks", FieldProblem::InlineKey { index, source }))?;
        if out.iter().any(|o| o.thumbprint == c.thumbprint) {
            return Err(AdminError::field(
                "jwks",
                format!("key {index}: the same key is listed twice"),
            ));
        }
        if out.iter().any(|o| o.kid == c.kid) {
            return Err(AdminError::field(
                "jwks",
                format!("key {index}: kid '{}' is used twice", c.kid),
            ));
        }
        out.push(c);
    }
    Ok(out)
}
