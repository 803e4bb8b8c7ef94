use std::{any::Any, fmt};

/// What one method read from a request: the client it claims to be, and the method's own
/// credentials, of whatever type the method chose ([`crate::ClientAuthMethod::Credentials`]).
pub struct Presentation<C> {
    /// Unverified: only used to find the client whose registration then verifies it.
    pub client_id: String,
    pub credentials: C,
}

/// What the client presented: exactly one mechanism, read by the method that owns it
/// ([`crate::Authenticator::extract`]). Its credentials are opaque to everyone but that method,
/// and only the authenticator that read them can verify them.
pub struct Presented {
    pub(crate) client_id: String,
    /// The index of the authenticator that read the request.
    pub(crate) by: usize,
    pub(crate) credentials: Box<dyn Any + Send + Sync>,
}

impl Presented {
    /// The client this request claims to be, before anything is verified.
    pub fn claimed_client_id(&self) -> &str {
        &self.client_id
    }
}

/// Never prints the credentials: they may hold a secret.
impl fmt::Debug for Presented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presented")
            .field("client_id", &self.client_id)
            .field("by", &self.by)
            .finish_non_exhaustive()
    }
}
