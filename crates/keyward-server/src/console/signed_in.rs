//! The signed-in administrator a console handler works for: made only by the session
//! extractor ([`super::session`]), read by pages (username, CSRF field) and operations (actor).

use keyward_admin::Actor;
use subtle::ConstantTimeEq;

/// A signed-in administrator, as a handler sees one.
#[derive(Clone)]
pub(crate) struct SignedIn {
    pub(crate) username: String,
    /// The CSRF token every form of this session carries.
    pub(crate) csrf: String,
    pub(super) id_hash: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl SignedIn {
    /// Who the audit log names for this session's changes.
    pub(crate) fn actor(&self) -> Actor {
        Actor::new(format!("console:{}", self.username))
    }

    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub(crate) fn csrf_matches(&self, sent: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(sent.as_bytes()))
    }
}
