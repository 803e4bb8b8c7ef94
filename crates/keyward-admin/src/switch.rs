//! Switching a client's authenticator (Keycloak's "Client Authenticator" select): any of the
//! four methods to any other with `PATCH token_endpoint_auth_method`.
//!
//! What a method does not use stays stored, unusable, so that switching back restores it: a
//! `private_key_jwt` client's credential list or `jwks_uri` while it uses a secret, a secret
//! while it signs with keys. A switch to a secret method generates a secret (returned once) only
//! when the client has none it could use: no valid secret at all, or, for `client_secret_jwt`,
//! a current secret the server kept only as a hash (it must compute HMACs with the secret
//! itself). That new secret replaces the stored ones; it works for the Basic and post methods
//! too. A switch to `private_key_jwt` keeps the keys (an empty list is allowed, as at
//! registration). A pinned `token_endpoint_auth_signing_alg` must fit the new method, checked
//! by the registration rules on the merged metadata. The change is one write with its audit
//! event; the directory and every other node drop the cached client, so the next request sees
//! the new method.

use keyward_types::{Client, StoredSecret};
use time::OffsetDateTime;

/// Whether switching `current` to `updated` needs a newly generated secret.
pub(crate) fn needs_new_secret(
    current: &Client,
    updated: &Client,
    secrets: &[StoredSecret],
    now: OffsetDateTime,
) -> bool {
    let (old, new) = (
        &current.token_endpoint_auth_method,
        &updated.token_endpoint_auth_method,
    );
    if old == new || !new.uses_secret() {
        return false;
    }
    let mut usable = secrets.iter().filter(|s| s.is_valid_at(now));
    if new.needs_clear_secret() {
        !usable.any(|s| s.is_current() && s.encrypted.is_some())
    } else {
        usable.next().is_none()
    }
}
