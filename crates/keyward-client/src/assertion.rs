//! Client assertions (RFC 7523 §3, OIDC Core §9) as DESIGN.md's "Client assertion rules" check
//! them: `iss` = `sub` = client_id, `aud` = the issuer identifier (not the token endpoint URL,
//! which servers may refuse), a fresh random `jti` so the server's replay store accepts it once,
//! and a short lifetime (`token-expiration`, 10 s unless configured) so a leaked one soon dies.

use aws_lc_rs::hmac;
use keyward_jose::{b64_encode, JoseError, SigningKey};
use keyward_types::SigningAlg;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::ClientError;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion's lifetime when the config names none (Keycloak's adapter default).
pub const DEFAULT_TOKEN_EXPIRATION: Duration = Duration::seconds(10);

/// What signs: the client's private key (sent with its `kid`), or an HMAC key made from the
/// client secret (no `kid`: the server knows the client's one secret).
pub(crate) enum Signer<'a> {
    Key(&'a SigningKey, &'a str),
    Hmac(SigningAlg, &'a hmac::Key),
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: String,
    iat: i64,
    exp: i64,
}

/// A signed assertion for `client_id`, addressed to `audience`, valid from `now` for `lifetime`.
pub(crate) fn sign(
    signer: Signer<'_>,
    client_id: &str,
    audience: &str,
    lifetime: Duration,
    now: OffsetDateTime,
) -> Result<String, ClientError> {
    let claims = Claims {
        iss: client_id,
        sub: client_id,
        aud: audience,
        jti: jti()?,
        iat: now.unix_timestamp(),
        exp: (now + lifetime).unix_timestamp(),
    };
    let header = match &signer {
        Signer::Key(key, kid) => Header {
            alg: key.alg().as_str(),
            typ: "JWT",
            kid: Some(*kid),
        },
        Signer::Hmac(alg, _) => Header {
            alg: alg.as_str(),
            typ: "JWT",
            kid: None,
        },
    };
    let mut input = signing_input(&header, &claims)?;
    let signature = match signer {
        Signer::Key(key, _) => key.sign(input.as_bytes()).map_err(ClientError::Signing)?,
        Signer::Hmac(_, key) => hmac::sign(key, input.as_bytes()).as_ref().to_vec(),
    };
    input.push('.');
    input.push_str(&b64_encode(signature));
    Ok(input)
}

/// 128 random bits from the OS CSPRNG: unguessable and, in practice, never repeated.
fn jti() -> Result<String, ClientError> {
    let mut bytes = [0u8; 16];
    keyward_types::random::fill(&mut bytes).map_err(|_| ClientError::Random)?;
    Ok(b64_encode(bytes))
}

fn signing_input(header: &Header<'_>, claims: &Claims<'_>) -> Result<String, ClientError> {
    let header = serde_json::to_vec(header).map_err(|_| ClientError::Signing(JoseError::SigningFailed))?;
    let claims = serde_json::to_vec(claims).map_err(|_| ClientError::Signing(JoseError::SigningFailed))?;
    Ok(format!("{}.{}", b64_encode(header), b64_encode(claims)))
}

#[cfg(test)]
mod tests;
