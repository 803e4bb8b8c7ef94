//! A refused change as the console shows it: plain words next to the field it concerns, or
//! above the form. The status comes from the same mapping as the admin API's
//! ([`crate::error::admin_status`]).

use axum::http::StatusCode;
use keyward_admin::{AdminError, FieldProblem};
use keyward_storage::StorageError;

/// A refused change, in words for the page that shows it again.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) status: StatusCode,
    /// The form field it concerns (the admin API's field name), if one.
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

impl Problem {
    /// A problem with one field, found by the console itself (e.g. a number that is not one).
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// The message if it concerns `field`.
    pub(crate) fn for_field(problem: Option<&Problem>, field: &str) -> Option<String> {
        problem
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.message.clone())
    }

    /// The message if it concerns no field shown on the form (`fields`).
    pub(crate) fn general(problem: Option<&Problem>, fields: &[&str]) -> Option<String> {
        problem
            .filter(|p| p.field.as_deref().is_none_or(|f| !fields.contains(&f)))
            .map(|p| match &p.field {
                Some(f) => format!("{f}: {}", p.message),
                None => p.message.clone(),
            })
    }
}

impl From<&AdminError> for Problem {
    fn from(e: &AdminError) -> Self {
        let status = crate::error::admin_status(e);
        let (field, message) = match e {
            AdminError::InvalidField { field, problem } => (Some(field.to_string()), words(problem)),
            AdminError::InvalidUserField { field, problem } => (Some(field.to_string()), words(problem)),
            AdminError::WrongPassword => (None, "Wrong username or password.".to_owned()),
            AdminError::InvalidRequest(m) | AdminError::NotFound(m) | AdminError::Conflict(m) => {
                (None, m.to_string())
            }
            AdminError::Key(k) => (None, k.to_string()),
            AdminError::KeyRule(r) => (None, r.to_string()),
            AdminError::KeyConflict(c) => (None, c.to_string()),
            AdminError::StrictJson(j) => (None, j.to_string()),
            AdminError::MissingMember(j) => (None, j.to_string()),
            AdminError::Busy { .. } => (None, keyward_admin::BUSY_MESSAGE.to_owned()),
            AdminError::Storage(StorageError::Unavailable(_)) => {
                (None, "the database is unavailable; try again shortly".to_owned())
            }
            other => {
                tracing::error!(error = %other, "console: admin operation failed");
                (
                    None,
                    "something went wrong on the server; it was logged".to_owned(),
                )
            }
        };
        Self {
            status,
            field,
            message,
        }
    }
}

/// A field problem in plain words (serde's type words are already plain enough).
fn words(problem: &FieldProblem) -> String {
    let s = problem.to_string();
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => s,
    }
}
