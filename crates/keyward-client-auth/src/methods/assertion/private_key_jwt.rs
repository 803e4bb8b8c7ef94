//! `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): an assertion signed with one of the keys in
//! the client's credential list, or published at its `jwks_uri`.

use keyward_types::{ClientEntry, Credential, SigningAlg};
use time::OffsetDateTime;

use super::{prepared_keys::PreparedKeys, Assertion};
use crate::{AuthContext, AuthFailure};

/// Without a `kid`, at most this many keys of the algorithm are tried.
const MAX_KEYS_WITHOUT_KID: usize = 3;

pub(super) async fn verify_signature(
    prepared: &PreparedKeys,
    a: &Assertion,
    alg: SigningAlg,
    entry: &ClientEntry,
    ctx: &AuthContext<'_>,
) -> Result<(), AuthFailure> {
    let remote;
    let credentials: &[Credential] = match &entry.client.jwks_uri {
        Some(uri) => {
            // The server's implementation logs why; the client sees `key.jwks_unavailable`.
            remote = ctx
                .remote_keys
                .keys(uri, a.header.kid.as_deref())
                .await
                .map_err(|_| AuthFailure::JwksUnavailable)?;
            &remote
        }
        None => &entry.credentials,
    };
    let keys = select_keys(credentials, a.header.kid.as_deref(), alg, ctx.now)?;
    // A key that fails the key checks (an Ed25519 point of small order, an RSA key with e = 1,
    // stored before the check that refuses it) never verifies; when every candidate is such a
    // key the reason says so, rather than blaming the signature.
    let mut refused = 0;
    let verified = keys.iter().any(|c| match prepared.get(c, alg) {
        Ok(k) => k.verify(a.signing_input.as_bytes(), &a.signature).is_ok(),
        Err(_) => {
            refused += 1;
            false
        }
    });
    if verified {
        Ok(())
    } else if refused == keys.len() {
        Err(AuthFailure::KeyRefused)
    } else {
        Err(AuthFailure::SignatureInvalid)
    }
}

/// By `kid` when there is one; otherwise the client's usable keys that verify that algorithm (a
/// key registered with an `alg` only that one, a key without any of its type). Disabled or
/// expired credentials never verify.
fn select_keys<'a>(
    credentials: &'a [Credential],
    kid: Option<&str>,
    alg: SigningAlg,
    now: OffsetDateTime,
) -> Result<Vec<&'a Credential>, AuthFailure> {
    match kid {
        Some(kid) => {
            let c = credentials
                .iter()
                .find(|c| c.kid == kid)
                .ok_or(AuthFailure::UnknownKid)?;
            if !c.enabled {
                return Err(AuthFailure::CredentialDisabled);
            }
            if !c.is_usable_at(now) {
                return Err(AuthFailure::CredentialExpired);
            }
            if !c.verifies(alg) {
                return Err(AuthFailure::KeyAlgMismatch);
            }
            Ok(vec![c])
        }
        None => {
            let keys: Vec<_> = credentials
                .iter()
                .filter(|c| c.verifies(alg) && c.is_usable_at(now))
                .take(MAX_KEYS_WITHOUT_KID)
                .collect();
            if keys.is_empty() {
                Err(AuthFailure::NoKeyForAlg)
            } else {
                Ok(keys)
            }
        }
    }
}
