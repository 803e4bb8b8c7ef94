//! Why an admin operation was refused or failed. One type for every operation; the server maps
//! it to HTTP in its error module, the console and CLI to their own words.
//!
//! Each variant's text is also what the audit log records for a failed change, so it names the
//! kind of refusal first (`invalid_client_metadata: scope: ...`), as the HTTP answer does.

use std::borrow::Cow;

use keyward_keys::KeyError;
use keyward_storage::StorageError;
use keyward_types::TypeError;
use thiserror::Error;

/// An error source that the operations carry without knowing its type (the server's sealing
/// key is the server's).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The request itself is malformed or asks for something that does not apply.
    #[error("invalid_request: {0}")]
    InvalidRequest(Cow<'static, str>),
    /// A JSON body that names a member twice or nests too deep, refused before any typed parse.
    #[error("invalid_request: {0}")]
    StrictJson(#[from] keyward_types::strict_json::StrictJsonError),
    /// A request body without a member it must have (serde's words name the member).
    #[error("invalid_request: {0}")]
    MissingMember(#[source] serde_json::Error),
    /// A metadata field (or a request field checked like one) breaks a rule.
    #[error("invalid_client_metadata: {field}: {problem}")]
    InvalidField {
        field: Cow<'static, str>,
        #[source]
        problem: FieldProblem,
    },
    /// A user field (or a request field checked like one) breaks a rule.
    #[error("invalid_request: {field}: {problem}")]
    InvalidUserField {
        field: Cow<'static, str>,
        #[source]
        problem: FieldProblem,
    },
    /// A sign-in with an unknown username, a wrong password or a disabled user: one answer for
    /// all three, so it does not tell which usernames exist.
    #[error("access_denied: wrong username or password")]
    WrongPassword,
    /// Key material the key readers refused.
    #[error("invalid_key: {code}: {0}", code = .0.code())]
    Key(#[from] KeyError),
    /// Key material refused by a rule of the credential list.
    #[error("invalid_key: {reason}: {0}", reason = .0.reason())]
    KeyRule(KeyRule),
    /// The key conflicts with the client's credential list.
    #[error("conflict: {reason}: {0}", reason = .0.reason())]
    KeyConflict(KeyConflict),
    #[error("not found: {0}")]
    NotFound(Cow<'static, str>),
    #[error("conflict: {0}")]
    Conflict(Cow<'static, str>),
    /// Every slot for keystore imports and key generation stayed taken.
    #[error("busy: {BUSY_MESSAGE}")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("internal error: RNG failure")]
    Rng,
    #[error("internal error: {0}")]
    Seal(#[source] BoxError),
    #[error("internal error: {0}")]
    GeneratedId(#[source] TypeError),
    #[error("internal error: cannot generate a {alg} signing key: {source}")]
    SigningKeyGeneration {
        alg: keyward_types::SigningAlg,
        #[source]
        source: keyward_jose::JoseError,
    },
    #[error("internal error: password hashing: {0}")]
    PasswordHash(#[source] argon2::password_hash::Error),
    #[error("internal error: password hashing panicked")]
    HashingPanicked,
    #[error("internal error: key generation panicked")]
    GenerationPanicked,
    #[error("internal error: {0}")]
    Encode(#[source] serde_json::Error),
}

/// What [`AdminError::Busy`] tells the caller.
pub const BUSY_MESSAGE: &str = "keystore imports and key generation are busy on this node; retry shortly";

/// What is wrong with one field.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FieldProblem {
    #[error("{0}")]
    Rule(Cow<'static, str>),
    #[error(transparent)]
    Value(#[from] TypeError),
    /// The body did not fit the field's type (serde's words, which name the type expected).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("'{value}' is not a URL: {source}")]
    NotUrl { value: String, source: url::ParseError },
    #[error("'{value}' is not an absolute URI: {source}")]
    NotAbsoluteUri { value: String, source: url::ParseError },
    #[error(transparent)]
    JwksUri(#[from] keyward_jwks_fetch::FetchError),
    #[error("key {index}: {source}")]
    InlineKey {
        index: usize,
        source: keyward_jose::KeyCheckError,
    },
    #[error("not an RFC 3339 time: {0}")]
    Time(#[from] time::error::Parse),
}

/// A credential-list rule that key material broke; [`KeyRule::reason`] is its stable code.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyRule {
    #[error("only private_key_jwt clients have keys; change token_endpoint_auth_method first")]
    NotAKeyClient,
    #[error(
        "the client publishes its keys at jwks_uri; a client has a jwks_uri or a credential list, not both"
    )]
    JwksUriClient,
    #[error("data must be standard base64 for format {0}")]
    InvalidBase64(keyward_keys::Format),
    #[error("the client only accepts {0} assertions")]
    AlgMismatch(keyward_types::SigningAlg),
    #[error("the certificate expired at {0}")]
    CertificateExpired(String),
    #[error("expires_at is later than the certificate's notAfter")]
    ExpiresAfterCertificate,
    #[error("expires_at must be in the future")]
    ExpiresAtInPast,
    #[error("the file is broken: keyward's reader failed on it; nothing was stored")]
    BrokenFile,
}

impl KeyRule {
    pub fn reason(&self) -> &'static str {
        match self {
            KeyRule::NotAKeyClient => "not_a_key_client",
            KeyRule::JwksUriClient => "jwks_uri_client",
            KeyRule::InvalidBase64(_) => "invalid_base64",
            KeyRule::AlgMismatch(_) => "alg_mismatch",
            KeyRule::CertificateExpired(_) => "certificate_expired",
            KeyRule::ExpiresAfterCertificate => "expires_after_certificate",
            KeyRule::ExpiresAtInPast => "expires_at_in_past",
            KeyRule::BrokenFile => "broken_file",
        }
    }
}

impl From<KeyRule> for AdminError {
    fn from(rule: KeyRule) -> Self {
        AdminError::KeyRule(rule)
    }
}

/// Why a key cannot join the client's credential list.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyConflict {
    #[error("this key (same thumbprint or kid) is already in the client's credential list")]
    Duplicate,
    #[error(
        "the client already has the most credentials allowed ({0}, max_credentials_per_client); delete one first"
    )]
    LimitReached(usize),
}

impl KeyConflict {
    pub fn reason(&self) -> &'static str {
        match self {
            KeyConflict::Duplicate => "duplicate_key",
            KeyConflict::LimitReached(_) => "credential_limit",
        }
    }
}

impl From<KeyConflict> for AdminError {
    fn from(conflict: KeyConflict) -> Self {
        AdminError::KeyConflict(conflict)
    }
}

impl AdminError {
    /// `field` breaks a rule stated in `message`.
    pub(crate) fn field(field: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        AdminError::InvalidField {
            field: field.into(),
            problem: FieldProblem::Rule(message.into()),
        }
    }

    /// The user field `field` breaks a rule stated in `message`.
    pub(crate) fn user_field(field: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        AdminError::InvalidUserField {
            field: field.into(),
            problem: FieldProblem::Rule(message.into()),
        }
    }

    /// `field` holds a value of the wrong kind.
    pub(crate) fn value(field: &'static str, problem: impl Into<FieldProblem>) -> Self {
        AdminError::InvalidField {
            field: field.into(),
            problem: problem.into(),
        }
    }
}
