//! Schemas that exist only for the API description: the error body every refusal carries, the
//! fixed sets a field takes its value from, and the shapes of answers built as plain JSON.
//! Nothing here is read or written by a handler; the document points the fields of the request
//! and answer types at these (see `openapi.rs`, `ENUM_FIELDS`).
#![allow(dead_code)]

use std::borrow::Cow;

use serde::Serialize;
use utoipa::{
    openapi::{
        schema::{ObjectBuilder, SchemaType, Type},
        RefOr, Schema,
    },
    PartialSchema, ToSchema,
};

/// Every error answer of the token endpoint and the admin API (RFC 6749 §5.2, RFC 7591 §3.2.2):
/// `error` is the code a program matches, `error_description` the words a person reads.
#[derive(ToSchema)]
#[schema(examples(json!({"error": "not_found", "error_description": "no client 'billing'"}),
    json!({"error": "invalid_key", "reason": "wrong_password", "error_description": "the keystore password is wrong"}),
    json!({"error": "invalid_client_metadata", "field": "scope", "error_description": "scope: 'a b' is not a valid scope token"})))]
pub(crate) struct ErrorBody {
    /// `invalid_request`, `invalid_client`, `unauthorized_client`, `unsupported_grant_type`,
    /// `invalid_grant`, `invalid_scope`, `invalid_target`, `invalid_client_metadata`, `invalid_key`,
    /// `invalid_token`, `insufficient_scope`, `not_found`, `conflict`, `slow_down`,
    /// `temporarily_unavailable` or `server_error`.
    error: ErrorCode,
    error_description: String,
    /// `invalid_key` and key conflicts: a stable code for what was wrong with the key
    /// (`wrong_password`, `duplicate_key`, `credential_limit`, …).
    #[schema(nullable = false)]
    reason: Option<String>,
    /// `invalid_client_metadata`, or `invalid_request` about a user: the field at fault.
    #[schema(nullable = false)]
    field: Option<String>,
}

/// The `error` codes keyward answers with.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidGrant,
    InvalidScope,
    InvalidTarget,
    InvalidClientMetadata,
    InvalidKey,
    InvalidToken,
    InsufficientScope,
    NotFound,
    Conflict,
    SlowDown,
    TemporarilyUnavailable,
    ServerError,
}

/// The `format` of key material to import.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ImportFormat {
    Pem,
    Der,
    Jwk,
    Jwks,
    Pkcs12,
    Jks,
}

/// The `format` of a generated keystore.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KeystoreFormat {
    Pkcs12,
    Jks,
}

/// The key to generate.
#[derive(Serialize, ToSchema)]
pub(crate) enum KeyType {
    #[serde(rename = "RSA-2048")]
    Rsa2048,
    #[serde(rename = "RSA-3072")]
    Rsa3072,
    #[serde(rename = "RSA-4096")]
    Rsa4096,
    #[serde(rename = "EC-P256")]
    EcP256,
    #[serde(rename = "EC-P384")]
    EcP384,
    Ed25519,
}

/// A JWS algorithm keyward verifies (RFC 7518); the server's configuration may allow fewer
/// (discovery lists those). Its values are `keyward_types::SigningAlg::ALL`, so the document
/// cannot drift from the type.
pub(crate) struct SigningAlg;

/// The algorithm of a client's public key: the asymmetric [`SigningAlg`]s.
pub(crate) struct KeyAlg;

/// A string schema whose values are the algorithms `keep` accepts, in `ALL`'s order.
fn alg_enum(description: &str, keep: fn(&keyward_types::SigningAlg) -> bool) -> RefOr<Schema> {
    let values: Vec<&'static str> = keyward_types::SigningAlg::ALL
        .into_iter()
        .filter(keep)
        .map(keyward_types::SigningAlg::as_str)
        .collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

impl PartialSchema for SigningAlg {
    fn schema() -> RefOr<Schema> {
        alg_enum(
            "A JWS algorithm keyward verifies (RFC 7518); the server's configuration may allow fewer (discovery lists those).",
            |_| true,
        )
    }
}

impl ToSchema for SigningAlg {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SigningAlg")
    }
}

impl PartialSchema for KeyAlg {
    fn schema() -> RefOr<Schema> {
        alg_enum(
            "The algorithm of a client's public key: the asymmetric SigningAlgs.",
            |alg| !alg.is_symmetric(),
        )
    }
}

impl ToSchema for KeyAlg {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("KeyAlg")
    }
}

/// An algorithm the server signs its tokens with: the ones it can generate a key for.
pub(crate) struct TokenSigningAlg;

impl PartialSchema for TokenSigningAlg {
    fn schema() -> RefOr<Schema> {
        alg_enum(
            "An algorithm the server signs its tokens with (`token_signing_alg`).",
            |alg| keyward_jose::SigningKey::SUPPORTED.contains(alg),
        )
    }
}

impl ToSchema for TokenSigningAlg {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TokenSigningAlg")
    }
}

/// A grant type the token endpoint implements.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GrantType {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
}

/// Whether an audited action succeeded.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AuditOutcome {
    Success,
    Failure,
}

/// One entry of the audit log.
#[derive(ToSchema)]
pub(crate) struct AuditEvent {
    /// Position in the log; larger is newer.
    #[schema(format = Int64)]
    id: i64,
    /// RFC 3339.
    at: String,
    /// Who acted: an admin client's id, `anonymous` for a refused token, `keyward-cli`,
    /// `keyward-serve`.
    actor: String,
    /// What was done: `client.create`, `client.update`, `client.delete`,
    /// `client.secret.rotate`, `credential.create`, `credential.update`, `credential.delete`,
    /// `keys_cache.clear`, `signing_key.create`, `admin.auth.reject`, …
    action: String,
    /// The client the action was about, `-` or `*` when none or all.
    target: String,
    outcome: AuditOutcome,
    /// What changed (ids, names, thumbprints; never a secret), or why it was refused.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
}

/// What this node holds for a client's `jwks_uri`.
#[derive(ToSchema)]
pub(crate) struct CachedJwks {
    jwks_uri: String,
    /// Whether this node holds keys for the URL; the other members are absent when not.
    cached: bool,
    #[schema(value_type = Option<Vec<Object>>, nullable = false)]
    keys: Option<Vec<serde_json::Value>>,
    /// RFC 3339.
    #[schema(nullable = false)]
    fetched_at: Option<String>,
    /// RFC 3339; null when no fetch has succeeded yet.
    last_success_at: Option<String>,
    /// RFC 3339.
    #[schema(nullable = false)]
    expires_at: Option<String>,
    /// Why the last fetch failed (a reason code); null when it did not.
    last_error: Option<String>,
}
