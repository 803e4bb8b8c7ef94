//! What the console shows when something fails: a refused change as plain words next to the
//! field it concerns (or above the form), anything else as an error page. The status comes from
//! the same mapping as the admin API's ([`crate::error::admin_status`]).

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use keyward_admin::{AdminError, FieldProblem};
use keyward_storage::StorageError;
use maud::html;

use super::layout;

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

/// A whole page that says what went wrong.
#[derive(Debug)]
pub(crate) struct ErrorPage {
    status: StatusCode,
    message: String,
}

impl ErrorPage {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn internal(message: &str) -> Self {
        tracing::error!(error = message, "console: internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "something went wrong on the server; it was logged",
        )
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<&AdminError> for ErrorPage {
    fn from(e: &AdminError) -> Self {
        let p = Problem::from(e);
        Self::new(p.status, p.message)
    }
}

impl From<AdminError> for ErrorPage {
    fn from(e: AdminError) -> Self {
        Self::from(&e)
    }
}

impl From<StorageError> for ErrorPage {
    fn from(e: StorageError) -> Self {
        Self::from(AdminError::Storage(e))
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = html! {
            h1 { (title) }
            p.error role="alert" { (self.message) }
            p { a href="/console/clients" { "Back to the clients" } }
        };
        (self.status, layout::bare(title, body)).into_response()
    }
}
