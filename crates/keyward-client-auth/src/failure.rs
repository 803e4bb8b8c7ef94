use thiserror::Error;

use crate::{DirectoryError, ReplayError};

/// Why a client failed to authenticate. The response never says which (it is always
/// `invalid_client`); the code goes to the log and to a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthFailure {
    #[error("no client credentials in the request")]
    NoCredentials,
    #[error("Authorization header uses a scheme other than Basic")]
    UnsupportedScheme,
    #[error("Basic credentials are not valid base64")]
    BasicBadBase64,
    #[error("Basic credentials have no ':' separator")]
    BasicNoColon,
    #[error("Basic credentials have invalid percent-encoding")]
    BasicBadEncoding,
    #[error("Basic credentials are not UTF-8")]
    BasicNotUtf8,
    #[error("unknown client")]
    UnknownClient,
    #[error("client is disabled")]
    ClientDisabled,
    #[error("presented method differs from the registered token_endpoint_auth_method")]
    MethodMismatch,
    #[error("no authenticator for the client's method")]
    MethodUnavailable,
    #[error("secret does not match")]
    SecretMismatch,
    #[error("the secret matches one whose lifetime or grace period is over")]
    SecretExpired,
    #[error("client_assertion_type is not urn:ietf:params:oauth:client-assertion-type:jwt-bearer")]
    AssertionType,
    #[error("client_assertion is not a compact JWS with a JSON header and claims")]
    AssertionMalformed,
    #[error("assertion has no sub")]
    SubMissing,
    #[error("assertion alg is none")]
    AlgNone,
    #[error("assertion alg is not allowed for this client")]
    AlgNotAllowed,
    #[error("assertion typ is not JWT or client-authentication+jwt")]
    TypInvalid,
    #[error("assertion header has crit: keyward understands no JWS extension (RFC 7515 §4.1.11)")]
    CritHeader,
    #[error("iss is not the client_id")]
    IssMismatch,
    #[error("sub is not the client_id")]
    SubMismatch,
    #[error("aud is missing")]
    AudMissing,
    #[error("aud is not exactly this server")]
    AudMismatch,
    #[error("exp is missing or not a number")]
    ExpMissing,
    #[error("assertion expired")]
    Expired,
    #[error("exp is further ahead than the maximum assertion lifetime")]
    LifetimeTooLong,
    #[error("iat is in the future")]
    IatFuture,
    #[error("nbf is in the future")]
    NbfFuture,
    #[error("jti is missing")]
    JtiMissing,
    #[error("jti is longer than 256 bytes")]
    JtiTooLong,
    #[error("no credential with the assertion's kid")]
    UnknownKid,
    #[error("the credential is disabled")]
    CredentialDisabled,
    #[error("the credential has expired")]
    CredentialExpired,
    #[error("the credential's algorithm differs from the assertion's")]
    KeyAlgMismatch,
    #[error("no usable credential for the assertion's algorithm")]
    NoKeyForAlg,
    #[error("signature does not verify")]
    SignatureInvalid,
    #[error("the credential's key fails the key checks (weak or malformed key material)")]
    KeyRefused,
    #[error("the client's secret is shorter than the assertion's HMAC algorithm needs (RFC 7518 §3.2)")]
    HmacKeyTooShort,
    #[error("the client has no usable secret")]
    NoUsableSecret,
    #[error("assertion already used")]
    Replayed,
    #[error("the client's jwks_uri has no usable keys")]
    JwksUnavailable,
    /// A refusal by a method from outside keyward, under that method's own stable code
    /// (e.g. `shared_header.proof_mismatch`), which it keeps to `[a-z0-9_.]`.
    #[error("refused by the client's method: {0}")]
    Method(&'static str),
}

impl AuthFailure {
    /// Stable reason code for logs and the `keyward_client_auth_failures_total{reason}` metric.
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::NoCredentials => "request.no_credentials",
            AuthFailure::UnsupportedScheme => "header.unsupported_scheme",
            AuthFailure::BasicBadBase64 => "basic.bad_base64",
            AuthFailure::BasicNoColon => "basic.no_colon",
            AuthFailure::BasicBadEncoding => "basic.bad_percent_encoding",
            AuthFailure::BasicNotUtf8 => "basic.not_utf8",
            AuthFailure::UnknownClient => "client.unknown",
            AuthFailure::ClientDisabled => "client.disabled",
            AuthFailure::MethodMismatch => "client.method_mismatch",
            AuthFailure::MethodUnavailable => "client.method_unavailable",
            AuthFailure::SecretMismatch => "secret.mismatch",
            AuthFailure::SecretExpired => "secret.expired",
            AuthFailure::AssertionType => "assertion.type_invalid",
            AuthFailure::AssertionMalformed => "assertion.malformed",
            AuthFailure::SubMissing => "assertion.sub_missing",
            AuthFailure::AlgNone => "assertion.alg_none",
            AuthFailure::AlgNotAllowed => "assertion.alg_not_allowed",
            AuthFailure::TypInvalid => "assertion.typ_invalid",
            AuthFailure::CritHeader => "assertion.crit",
            AuthFailure::IssMismatch => "assertion.iss_mismatch",
            AuthFailure::SubMismatch => "assertion.sub_mismatch",
            AuthFailure::AudMissing => "assertion.aud_missing",
            AuthFailure::AudMismatch => "assertion.aud_mismatch",
            AuthFailure::ExpMissing => "assertion.exp_missing",
            AuthFailure::Expired => "assertion.expired",
            AuthFailure::LifetimeTooLong => "assertion.lifetime_too_long",
            AuthFailure::IatFuture => "assertion.iat_future",
            AuthFailure::NbfFuture => "assertion.nbf_future",
            AuthFailure::JtiMissing => "assertion.jti_missing",
            AuthFailure::JtiTooLong => "assertion.jti_too_long",
            AuthFailure::UnknownKid => "key.unknown_kid",
            AuthFailure::CredentialDisabled => "key.credential_disabled",
            AuthFailure::CredentialExpired => "key.credential_expired",
            AuthFailure::KeyAlgMismatch => "key.alg_mismatch",
            AuthFailure::NoKeyForAlg => "key.none_for_alg",
            AuthFailure::SignatureInvalid => "signature.invalid",
            AuthFailure::KeyRefused => "key.refused",
            AuthFailure::HmacKeyTooShort => "assertion.hmac_key_too_short",
            AuthFailure::NoUsableSecret => "secret.none_usable",
            AuthFailure::Replayed => "assertion.replayed",
            AuthFailure::JwksUnavailable => "key.jwks_unavailable",
            AuthFailure::Method(code) => code,
        }
    }
}

/// Everything authentication can end in other than success.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `401 invalid_client`.
    #[error("client authentication failed: {}", .0.code())]
    Failed(AuthFailure),
    /// `400 invalid_request`: the request itself is malformed (e.g. two mechanisms at once).
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// `503`: the client could not be looked up; never treated as a failure or a success.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// `503`: the assertion could not be recorded, so it cannot be accepted.
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

impl From<AuthFailure> for AuthError {
    fn from(f: AuthFailure) -> Self {
        AuthError::Failed(f)
    }
}
