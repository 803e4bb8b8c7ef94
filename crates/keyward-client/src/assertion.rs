//! Client assertions (RFC 7523 §3, OIDC Core §9) as DESIGN.md's "Client assertion rules" check
//! them: `iss` = `sub` = client_id, `aud` = the issuer identifier (not the token endpoint URL,
//! which servers may refuse), a fresh random `jti` so the server's replay store accepts it once,
//! and a short lifetime (`token-expiration`, 10 s unless configured) so a leaked one soon dies.

use aws_lc_rs::hmac;
use keyward_jose::{b64_encode, JoseError};
use keyward_types::SigningAlg;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::{config::Credential, ClientConfig, ClientError};

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion's lifetime when the config names none (Keycloak's adapter default).
pub const DEFAULT_TOKEN_EXPIRATION: Duration = Duration::seconds(10);

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

/// A signed assertion for `config`'s client at `now`, or `None` when its method sends the
/// secret itself (`client_secret_basic`, `client_secret_post`).
pub fn client_assertion(config: &ClientConfig, now: OffsetDateTime) -> Result<Option<String>, ClientError> {
    let claims = Claims {
        iss: &config.client_id,
        sub: &config.client_id,
        aud: &config.issuer,
        jti: jti()?,
        iat: now.unix_timestamp(),
        exp: (now + config.token_expiration).unix_timestamp(),
    };
    match &config.credential {
        Credential::ClientSecretBasic(_) | Credential::ClientSecretPost(_) => Ok(None),
        Credential::PrivateKeyJwt { key, kid } => {
            let header = Header {
                alg: key.alg().as_str(),
                typ: "JWT",
                kid: Some(kid),
            };
            let input = signing_input(&header, &claims)?;
            let signature = key.sign(input.as_bytes()).map_err(ClientError::Signing)?;
            Ok(Some(finish(input, &signature)))
        }
        Credential::ClientSecretJwt { secret, alg } => {
            let header = Header {
                alg: alg.as_str(),
                typ: "JWT",
                kid: None,
            };
            let input = signing_input(&header, &claims)?;
            let key = hmac::Key::new(hmac_algorithm(*alg), secret.expose().as_bytes());
            let tag = hmac::sign(&key, input.as_bytes());
            Ok(Some(finish(input, tag.as_ref())))
        }
    }
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

fn finish(mut input: String, signature: &[u8]) -> String {
    input.push('.');
    input.push_str(&b64_encode(signature));
    input
}

fn hmac_algorithm(alg: SigningAlg) -> hmac::Algorithm {
    match alg {
        SigningAlg::HS384 => hmac::HMAC_SHA384,
        SigningAlg::HS512 => hmac::HMAC_SHA512,
        // The config admits only HS256/384/512 for client_secret_jwt.
        _ => hmac::HMAC_SHA256,
    }
}

#[cfg(test)]
mod tests;
