use thiserror::Error;

/// Why a value from outside could not become one of our types.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeError {
    #[error("client_id must be 1 to 255 visible ASCII characters")]
    InvalidClientId,
    /// A new client's id is outside the registration set (see `ClientId::new_registration`).
    #[error(
        "client_id must be 1 to 255 characters from A-Z a-z 0-9 . _ ~ - (RFC 3986 unreserved), \
         must not start with '.' and must not contain '..'"
    )]
    UnsafeClientId,
    #[error("unknown token_endpoint_auth_method '{0}'")]
    UnknownAuthMethod(String),
    #[error("unknown grant type '{0}'")]
    UnknownGrantType(String),
    #[error("unknown or unsupported signing algorithm '{0}'")]
    UnknownAlg(String),
    #[error("scope token '{0}' is empty or has characters RFC 6749 section 3.3 does not allow")]
    InvalidScopeToken(String),
}
