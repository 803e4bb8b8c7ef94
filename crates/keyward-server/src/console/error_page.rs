//! A whole page that says what went wrong (a failure that no form can show next to a field).

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use keyward_admin::AdminError;
use keyward_storage::StorageError;
use maud::html;

use super::{layout, problem::Problem};

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
