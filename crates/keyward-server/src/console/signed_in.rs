//! The signed-in administrator a console handler works for: a proof that a live session was
//! found and its user may use the console. Only [`super::session`] makes one (its constructor is
//! visible to the console module alone, and only the session extractor calls it); pages read the
//! username and CSRF field, operations the actor.

use keyward_admin::Actor;
use subtle::ConstantTimeEq;

/// A signed-in administrator, as a handler sees one.
#[derive(Clone)]
pub(crate) struct SignedIn {
    username: String,
    /// The CSRF token every form of this session carries.
    csrf: String,
    /// The session's key in the database (SHA-256 of the cookie value).
    id_hash: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl SignedIn {
    pub(super) fn new(username: String, csrf: String, id_hash: String) -> Self {
        Self {
            username,
            csrf,
            id_hash,
        }
    }

    pub(crate) fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    pub(super) fn id_hash(&self) -> &str {
        &self.id_hash
    }

    /// Who the audit log names for this session's changes.
    pub(crate) fn actor(&self) -> Actor {
        Actor::new(format!("console:{}", self.username))
    }

    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub(crate) fn csrf_matches(&self, sent: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(sent.as_bytes()))
    }
}
