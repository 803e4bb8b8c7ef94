use thiserror::Error;

/// Why keys could not be had from a JWKS URL. `reason()` is the stable code for logs and metrics.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchError {
    #[error("jwks_uri is not a valid absolute URL")]
    BadUrl,
    #[error("jwks_uri must use https")]
    NotHttps,
    #[error("jwks_uri points to a non-public address ({0})")]
    PrivateAddress(String),
    #[error("jwks_uri host could not be resolved")]
    Dns,
    #[error("connecting to the JWKS URL failed or timed out")]
    Connect,
    #[error("the JWKS URL answered too slowly")]
    Timeout,
    #[error("the JWKS URL answered with a redirect, which is not followed")]
    Redirect,
    #[error("the JWKS URL answered with HTTP status {0}")]
    Status(u16),
    #[error("the JWKS document is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the JWKS document is not valid JSON of the form {{\"keys\": [...]}}")]
    BadJson,
    #[error("the JWKS document has more than {0} keys")]
    TooManyKeys(usize),
    #[error("the JWKS document contains private or symmetric key material")]
    PrivateKeyMaterial,
    #[error("no keys are known for this URL and the last fetch failed")]
    Unavailable,
}

impl FetchError {
    pub fn reason(&self) -> &'static str {
        match self {
            FetchError::BadUrl => "jwks.bad_url",
            FetchError::NotHttps => "jwks.not_https",
            FetchError::PrivateAddress(_) => "jwks.private_address",
            FetchError::Dns => "jwks.dns",
            FetchError::Connect => "jwks.connect",
            FetchError::Timeout => "jwks.timeout",
            FetchError::Redirect => "jwks.redirect",
            FetchError::Status(_) => "jwks.http_status",
            FetchError::TooLarge(_) => "jwks.too_large",
            FetchError::BadJson => "jwks.bad_json",
            FetchError::TooManyKeys(_) => "jwks.too_many_keys",
            FetchError::PrivateKeyMaterial => "jwks.private_key_material",
            FetchError::Unavailable => "jwks.unavailable",
        }
    }
}
