//! Entry points for the coverage-guided fuzz targets (`fuzz/`, through the `keyward-fuzz`
//! crate): the crate-private parsers of untrusted input, callable without a server. Not an API;
//! hidden from the documentation.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use keyward_types::{AuthMethod, Client, ClientId, Credential, GrantType, Scope, SigningAlg};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::{
    methods::{before_signature, read_assertion},
    Assertion, AssertionPolicy, AuthContext, AuthFailure, RemoteKeys, RemoteKeysError, ReplayError,
    ReplayGuard, SecretVault, VaultError, JWT_BEARER,
};

/// The `Authorization: Basic` decoder the token endpoint uses.
pub fn decode_basic(header: &str) -> Result<(String, Zeroizing<String>), AuthFailure> {
    crate::basic::decode_basic(header)
}

/// The issuer the fixed policy of [`assertion_rules`] expects as `aud`.
pub const ISSUER: &str = "https://keyward.example";
/// The fixed policy's largest `exp − (iat or now)`, in seconds.
pub const MAX_LIFETIME_SECS: i64 = 60;
/// The fixed policy's clock skew, in seconds.
pub const SKEW_SECS: i64 = 15;

/// A `client_assertion` read as the token endpoint reads it (type `jwt-bearer`, no `client_id`
/// parameter): the decoded assertion, or `None` where the endpoint refuses it.
pub fn read_jwt_bearer(token: &str) -> Option<Assertion> {
    read_assertion(Some(JWT_BEARER), Some(token), None)
        .ok()
        .map(|p| p.credentials)
}

/// Every assertion rule that runs before the signature (header, then claims), for a client
/// whose id is the assertion's `sub`, registered with `method` and pinned to no algorithm.
/// `None` when the `sub` is not a valid client id (the server stops there too: no such client
/// can exist).
pub fn assertion_rules(
    a: &Assertion,
    method: &AuthMethod,
    now: OffsetDateTime,
) -> Option<Result<SigningAlg, AuthFailure>> {
    let sub = a.claims.get("sub").and_then(serde_json::Value::as_str)?;
    let client_id = ClientId::parse(sub).ok()?;
    let client = Client {
        client_id,
        client_name: None,
        client_uri: None,
        token_endpoint_auth_method: method.clone(),
        token_endpoint_auth_signing_alg: None,
        legacy_token_endpoint_audience: true,
        max_assertion_lifetime: None,
        client_secret_lifetime: None,
        jwks_uri: None,
        grant_types: vec![GrantType::ClientCredentials],
        scope: Scope::default(),
        default_audience: None,
        allowed_audiences: Vec::new(),
        access_token_lifetime: 300,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        first_party: false,
        require_pushed_authorization_requests: false,
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    let policy = AssertionPolicy {
        issuer: ISSUER.to_owned(),
        token_endpoint: format!("{ISSUER}/token"),
        max_lifetime_secs: MAX_LIFETIME_SECS,
        skew_secs: SKEW_SECS,
        allowed_algs: SigningAlg::ALL.to_vec(),
    };
    let pepper = hmac::Key::new(hmac::HMAC_SHA256, &[0; 32]);
    let ctx = AuthContext {
        now,
        pepper: &pepper,
        policy: &policy,
        replay: &NotConsulted,
        vault: &NotConsulted,
        remote_keys: &NotConsulted,
    };
    Some(before_signature(a, &client, method, &ctx).map(|(alg, _)| alg))
}

/// The rules before the signature read only the policy and the time; the stores they never
/// consult refuse, so a rule that started consulting one would show as a failure.
struct NotConsulted;

#[async_trait]
impl ReplayGuard for NotConsulted {
    async fn first_use(
        &self,
        _: &ClientId,
        _: &str,
        _: OffsetDateTime,
        _: OffsetDateTime,
    ) -> Result<bool, ReplayError> {
        Err(ReplayError("no replay store while fuzzing".into()))
    }
}

impl SecretVault for NotConsulted {
    fn open(&self, _: &str, _: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        Err(VaultError("no vault while fuzzing".into()))
    }
}

#[async_trait]
impl RemoteKeys for NotConsulted {
    async fn keys(&self, _: &str, _: Option<&str>) -> Result<Arc<Vec<Credential>>, RemoteKeysError> {
        Err(RemoteKeysError("no key fetches while fuzzing".into()))
    }
}
