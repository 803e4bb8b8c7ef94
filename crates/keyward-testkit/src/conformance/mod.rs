//! The behaviour every storage backend must have. A backend runs all of it with
//! [`conformance_tests!`](crate::conformance_tests), which makes one named test per check; a
//! check panics at the first thing its backend gets wrong.

mod clients;
mod grant_removal;
mod grants;
mod keys_audit_replay;
mod users;

pub use clients::*;
pub use grant_removal::*;
pub use grants::*;
pub use keys_audit_replay::*;
pub use users::*;

use keyward_storage::AuditEvent;
use keyward_types::{
    AuthMethod, Client, ClientId, Credential, GrantType, PublicJwk, Scope, SecretHash, SigningAlg,
    StoredSecret,
};
use time::{macros::datetime, OffsetDateTime};

/// The time every record of the suite is made at.
pub const T0: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

/// A `client_secret_basic` client `id` with scope `read write`, made at [`T0`].
pub fn sample_client(id: &str) -> Client {
    Client {
        client_id: ClientId::parse(id).unwrap(),
        client_name: Some(format!("name of {id}")),
        client_uri: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        token_endpoint_auth_signing_alg: None,
        legacy_token_endpoint_audience: false,
        max_assertion_lifetime: None,
        client_secret_lifetime: None,
        jwks_uri: None,
        grant_types: vec![GrantType::ClientCredentials],
        scope: Scope::parse("read write").unwrap(),
        default_audience: None,
        allowed_audiences: vec![],
        access_token_lifetime: 300,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        first_party: false,
        require_pushed_authorization_requests: false,
        enabled: true,
        created_at: T0,
        updated_at: T0,
    }
}

/// A stored secret `id` whose hash is 32 times `byte`.
pub fn secret(id: &str, byte: u8, expires_at: Option<OffsetDateTime>) -> StoredSecret {
    StoredSecret {
        id: id.to_owned(),
        hash: SecretHash::from_bytes(&[byte; 32]).unwrap(),
        created_at: T0,
        expires_at,
        not_after: None,
        encrypted: None,
    }
}

/// A successful audit event for `action` on `target`.
pub fn audit(action: &str, target: &str) -> AuditEvent {
    AuditEvent {
        at: T0,
        actor: "conformance".into(),
        action: action.into(),
        target: target.into(),
        outcome: "success".into(),
        detail: serde_json::json!({}),
    }
}

/// An enabled Ed25519 credential without expiry; `byte` makes the key (and its kid) unique.
pub fn key_credential(id: &str, byte: u8) -> Credential {
    let jwk = PublicJwk::ed25519(&[byte; 32]);
    Credential {
        id: id.into(),
        name: None,
        kid: format!("kid-{byte}"),
        alg: Some(SigningAlg::EdDSA),
        thumbprint: jwk.thumbprint(),
        jwk,
        created_at: T0,
        expires_at: None,
        enabled: true,
        certificate: None,
    }
}

/// Expands to one `#[tokio::test]` per conformance check. `$make` is an async expression that
/// returns `(backend, guard)`: a fresh, empty backend, and whatever must live as long as it
/// (a temp directory, a schema to drop).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            inserts_and_loads_client,
            rejects_duplicate_client_id_and_keeps_first,
            lists_clients_in_pages,
            client_search_matches_id_or_name_ignoring_case,
            client_search_takes_like_wildcards_literally,
            client_search_pages_in_key_order,
            updates_and_deletes_client_with_audit,
            rotation_keeps_at_most_two_secrets,
            secret_lifetime_round_trips_and_expiring_secrets_are_listed,
            switch_with_new_secret_replaces_every_secret_at_once,
            signing_keys_rotate_and_expire,
            signing_key_writes_are_audited,
            audit_log_pages_newest_first,
            audit_log_filters,
            stores_credentials_and_encrypted_secret_with_client,
            updates_and_deletes_credentials,
            adds_credentials_all_or_none_within_limit,
            restores_exported_client_and_signing_key,
            replay_store_accepts_each_jti_once,
            replay_store_is_atomic_under_concurrency,
            inserts_loads_and_counts_users,
            rejects_duplicate_username_and_keeps_first,
            lists_users_in_pages,
            updates_and_deletes_user_with_audit,
            sessions_round_trip_touch_and_delete,
            purges_expired_and_idle_sessions,
            user_changes_that_matter_end_sessions,
            user_debug_redacts_password_hash,
            pending_request_is_taken_once,
            expired_pending_request_is_not_returned,
            code_is_redeemed_once_and_names_its_grant_after,
            concurrent_code_redeems_have_one_winner,
            unknown_code_is_unknown,
            grant_is_stored_with_its_refresh_token_or_not_at_all,
            refresh_rotation_spends_the_old_token,
            reused_refresh_token_revokes_the_family,
            concurrent_rotations_have_one_winner,
            revoked_grant_refresh_is_unknown,
            revoked_access_tokens_are_remembered,
            consent_is_saved_and_replaced,
            purge_removes_only_what_has_ended,
            deleting_user_or_client_removes_their_grants
        );
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (store, _guard) = $make.await;
                $crate::conformance::$name(&store).await;
            }
        )*
    };
}
