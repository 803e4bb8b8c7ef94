//! The checks of DESIGN.md "Client assertion rules", one function each, in the order they run.
//! Cheap checks come first; nothing is written before the signature has been verified.

use keyward_jose::JwsHeader;
use keyward_types::{AuthMethod, Client, SigningAlg};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::Assertion;
use crate::{AssertionPolicy, AuthContext, AuthFailure};

/// Every rule that runs before the signature, in order: the header, then the claims. Both JWT
/// methods start with this; they differ only in where the verifying key comes from.
pub(crate) fn before_signature(
    a: &Assertion,
    client: &Client,
    method: &AuthMethod,
    ctx: &AuthContext<'_>,
) -> Result<(SigningAlg, Checked), AuthFailure> {
    let alg = check_header(&a.header, client, method, ctx.policy)?;
    let checked = check_claims(&a.claims, client, ctx.policy, ctx.now)?;
    Ok((alg, checked))
}

/// Header: no `crit` (RFC 7515 §4.1.11: a JWS naming an extension the verifier does not
/// understand must be refused, and keyward understands none, `b64` included); `alg` allowed for
/// this client and method, never `none`; HMAC algorithms only for `client_secret_jwt` and never
/// for `private_key_jwt` (so a public key can never be used as an HMAC secret); `typ` absent,
/// `JWT` or `client-authentication+jwt`. `jku`, `jwk`, `x5u` are not read at all. Duplicate
/// member names never get here: the JWS parser refuses them in the header and the claims.
fn check_header(
    header: &JwsHeader,
    client: &Client,
    method: &AuthMethod,
    policy: &AssertionPolicy,
) -> Result<SigningAlg, AuthFailure> {
    if header.has_crit() {
        return Err(AuthFailure::CritHeader);
    }
    if header.alg.eq_ignore_ascii_case("none") {
        return Err(AuthFailure::AlgNone);
    }
    let alg: SigningAlg = header.alg.parse().map_err(|_| AuthFailure::AlgNotAllowed)?;
    let fits_method = match method {
        AuthMethod::ClientSecretJwt => alg.is_symmetric(),
        AuthMethod::PrivateKeyJwt => !alg.is_symmetric(),
        _ => false,
    };
    let allowed = match client.token_endpoint_auth_signing_alg {
        Some(pinned) => pinned == alg,
        None => policy.allowed_algs.contains(&alg),
    };
    if !fits_method || !allowed {
        return Err(AuthFailure::AlgNotAllowed);
    }
    if let Some(typ) = &header.typ {
        let typ = typ.strip_prefix("application/").unwrap_or(typ);
        if !typ.eq_ignore_ascii_case("JWT") && !typ.eq_ignore_ascii_case("client-authentication+jwt") {
            return Err(AuthFailure::TypInvalid);
        }
    }
    Ok(alg)
}

/// What the claims check hands on: the replay key and how long to keep it.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) jti: String,
    pub(crate) exp: i64,
}

/// Claims: `iss` = `sub` = client_id; `aud`; `exp` present and future; lifetime bounded (by the
/// client's `max_assertion_lifetime`, else the server's);
/// `iat`/`nbf` not in the future beyond the skew; `jti` present and at most 256 bytes.
fn check_claims(
    claims: &Map<String, Value>,
    client: &Client,
    policy: &AssertionPolicy,
    now: OffsetDateTime,
) -> Result<Checked, AuthFailure> {
    let id = client.client_id.as_str();
    if claims.get("iss").and_then(Value::as_str) != Some(id) {
        return Err(AuthFailure::IssMismatch);
    }
    if claims.get("sub").and_then(Value::as_str) != Some(id) {
        return Err(AuthFailure::SubMismatch);
    }
    check_audience(claims.get("aud"), client, policy)?;
    let now = now.unix_timestamp();
    let exp = claims
        .get("exp")
        .map(numeric_date)
        .ok_or(AuthFailure::ExpMissing)?
        .ok_or(AuthFailure::ExpMissing)?;
    if exp <= now {
        return Err(AuthFailure::Expired);
    }
    let iat = optional_date(claims, "iat")?;
    // A client may be allowed a longer lifetime than the server's (capped when registered).
    let max_lifetime = client
        .max_assertion_lifetime
        .map_or(policy.max_lifetime_secs, i64::from);
    if exp.saturating_sub(iat.unwrap_or(now)) > max_lifetime {
        return Err(AuthFailure::LifetimeTooLong);
    }
    if iat.is_some_and(|t| t > now.saturating_add(policy.skew_secs)) {
        return Err(AuthFailure::IatFuture);
    }
    if optional_date(claims, "nbf")?.is_some_and(|t| t > now.saturating_add(policy.skew_secs)) {
        return Err(AuthFailure::NbfFuture);
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or(AuthFailure::JtiMissing)?;
    if jti.len() > 256 {
        return Err(AuthFailure::JtiTooLong);
    }
    Ok(Checked {
        jti: jti.to_owned(),
        exp,
    })
}

/// `aud` must be this server's issuer, as a string or a one-element array (RFC 7523 §3 item 3
/// allows the token endpoint URL too; keyward accepts that only where the client's
/// `legacy_token_endpoint_audience` flag is on). Any other or extra value is refused: an
/// assertion made for another server must not work here.
fn check_audience(aud: Option<&Value>, client: &Client, policy: &AssertionPolicy) -> Result<(), AuthFailure> {
    let value = match aud {
        None | Some(Value::Null) => return Err(AuthFailure::AudMissing),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(list)) => match list.as_slice() {
            [Value::String(s)] => s.as_str(),
            [] => return Err(AuthFailure::AudMissing),
            _ => return Err(AuthFailure::AudMismatch),
        },
        Some(_) => return Err(AuthFailure::AudMismatch),
    };
    let ok =
        value == policy.issuer || (client.legacy_token_endpoint_audience && value == policy.token_endpoint);
    if ok {
        Ok(())
    } else {
        Err(AuthFailure::AudMismatch)
    }
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional, truncated to whole seconds.
fn numeric_date(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
}

fn optional_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, AuthFailure> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => numeric_date(v).map(Some).ok_or(match name {
            "nbf" => AuthFailure::NbfFuture,
            _ => AuthFailure::IatFuture,
        }),
    }
}
