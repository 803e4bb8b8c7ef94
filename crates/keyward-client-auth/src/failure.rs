use thiserror::Error;

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
    #[error("client directory unavailable: {0}")]
    Unavailable(String),
}

impl From<AuthFailure> for AuthError {
    fn from(f: AuthFailure) -> Self {
        AuthError::Failed(f)
    }
}
