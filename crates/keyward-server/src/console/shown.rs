//! What a client page shows besides the client: a notice after a change, a refused form's
//! problem (and which form it came from), a secret shown once.

use super::problem::Problem;

/// What a page shows besides the client: a notice, a refused form's problem, a secret shown
/// once.
#[derive(Default)]
pub(crate) struct Shown<'a> {
    pub(crate) notice: Option<&'a str>,
    pub(crate) problem: Option<&'a Problem>,
    /// (label, value) of a secret shown this once.
    pub(crate) once: Option<(&'a str, &'a str)>,
    /// Which form the problem came from (`authenticator`, `secret`, `generate`, …): a problem
    /// that names no field on it is shown above that form.
    pub(crate) origin: Option<&'a str>,
}

impl Shown<'_> {
    /// The problem, if it came from the form `origin`.
    pub(crate) fn problem_of(&self, origin: &str) -> Option<&Problem> {
        self.problem.filter(|_| self.origin == Some(origin))
    }
}
