//! `client_secret_jwt` (RFC 7523 §2.2, OIDC Core §9): an assertion MACed with the client's
//! secret (the octets of its UTF-8 text, OIDC Core §10.1). During a rotation's grace period
//! both secrets verify.
//!
//! A secret verifies only algorithms whose hash is no longer than the secret (RFC 7518 §3.2):
//! secrets generated today are 86 bytes and fit HS256, HS384 and HS512; a 43-byte secret
//! verifies HS256 only. When no usable secret is long enough for the assertion's algorithm the
//! reason is `assertion.hmac_key_too_short`, so an operator can tell the client to rotate its
//! secret or sign with HS256.

use keyward_jose::{hmac_min_key_len, verify_hmac};
use keyward_types::{ClientEntry, SigningAlg};

use super::Assertion;
use crate::{AuthContext, AuthFailure};

pub(super) fn verify_signature(
    a: &Assertion,
    alg: SigningAlg,
    entry: &ClientEntry,
    ctx: &AuthContext<'_>,
) -> Result<(), AuthFailure> {
    let min_len = hmac_min_key_len(alg).ok_or(AuthFailure::AlgNotAllowed)?;
    let mut usable = false;
    let mut long_enough = false;
    let mut verified = false;
    for s in entry.secrets.iter().filter(|s| s.is_valid_at(ctx.now)) {
        let Some(secret) = s
            .encrypted
            .as_deref()
            .and_then(|sealed| ctx.vault.open(&s.id, sealed).ok())
        else {
            continue;
        };
        usable = true;
        if secret.len() < min_len {
            continue;
        }
        long_enough = true;
        verified |= verify_hmac(alg, &secret, a.signing_input.as_bytes(), &a.signature).is_ok();
    }
    if !usable {
        return Err(if signed_with_expired_secret(a, alg, entry, ctx) {
            AuthFailure::SecretExpired
        } else {
            AuthFailure::NoUsableSecret
        });
    }
    if !long_enough {
        return Err(AuthFailure::HmacKeyTooShort);
    }
    if !verified {
        return Err(if signed_with_expired_secret(a, alg, entry, ctx) {
            AuthFailure::SecretExpired
        } else {
            AuthFailure::SignatureInvalid
        });
    }
    Ok(())
}

/// Whether the assertion verifies with a secret whose lifetime or grace period is over: an
/// operator then reads `secret.expired` rather than a bad signature. Runs only for assertions
/// already refused, so it costs the token path nothing.
fn signed_with_expired_secret(
    a: &Assertion,
    alg: SigningAlg,
    entry: &ClientEntry,
    ctx: &AuthContext<'_>,
) -> bool {
    entry
        .secrets
        .iter()
        .filter(|s| !s.is_valid_at(ctx.now))
        .filter_map(|s| {
            let sealed = s.encrypted.as_deref()?;
            ctx.vault.open(&s.id, sealed).ok()
        })
        .any(|secret| verify_hmac(alg, &secret, a.signing_input.as_bytes(), &a.signature).is_ok())
}
