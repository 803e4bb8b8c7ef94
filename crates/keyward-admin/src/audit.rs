//! The audit log: the event every change is written with, the record of a refused change, and
//! reading the log back.

use std::future::Future;

use keyward_storage::{AuditEvent, AuditRecord};
use serde_json::{json, Value};

use crate::{
    audit_query::{encode_cursor, AuditFilter},
    Actor, AdminError, AdminOps,
};

/// The changes the audit log records, by the names it records them under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ClientCreate,
    ClientUpdate,
    ClientDelete,
    SecretRotate,
    CredentialCreate,
    CredentialUpdate,
    CredentialDelete,
    KeysCacheClear,
    /// A signing-key rotation (a successful one is recorded by the storage with the key).
    SigningKeyRotate,
    UserCreate,
    UserUpdate,
    UserDelete,
    /// A user signed in to the console (successes only: failures are limited and logged).
    UserSignIn,
    /// A request to the admin API whose bearer token was refused.
    AdminAuthReject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ClientCreate => "client.create",
            Action::ClientUpdate => "client.update",
            Action::ClientDelete => "client.delete",
            Action::SecretRotate => "client.secret.rotate",
            Action::CredentialCreate => "credential.create",
            Action::CredentialUpdate => "credential.update",
            Action::CredentialDelete => "credential.delete",
            Action::KeysCacheClear => "keys_cache.clear",
            Action::SigningKeyRotate => "signing_key.rotate",
            Action::UserCreate => "user.create",
            Action::UserUpdate => "user.update",
            Action::UserDelete => "user.delete",
            Action::UserSignIn => "user.sign_in",
            Action::AdminAuthReject => "admin.auth.reject",
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug)]
pub struct AuditPage {
    pub events: Vec<AuditRecord>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The same position as an event id (pass as `before`); absent on the last page.
    pub next_before: Option<i64>,
}

/// Who sent an admin request whose bearer token was refused, and why: recorded as
/// `admin.auth.reject` by [`AdminOps::record_rejected_token`].
#[derive(Debug, Clone)]
pub struct RejectedToken<'a> {
    /// A stable reason code (`missing`, `bad_signature`, `expired`, …).
    pub reason: &'a str,
    /// The peer address the request came from, as the server saw it.
    pub source: Option<String>,
    pub method: &'a str,
    pub path: &'a str,
}

impl AdminOps {
    /// The successful `action` on `target`, to be written in the same transaction as the change.
    pub(crate) fn event(&self, actor: &Actor, action: Action, target: &str, detail: Value) -> AuditEvent {
        AuditEvent {
            at: self.clock.now(),
            actor: actor.as_str().to_owned(),
            action: action.as_str().to_owned(),
            target: target.to_owned(),
            outcome: "success".to_owned(),
            detail,
        }
    }

    /// Runs one change; if it fails, the failure is recorded as `action` on `target` and the
    /// error returned as it was.
    pub(crate) async fn audited<T>(
        &self,
        actor: &Actor,
        action: Action,
        target: &str,
        change: impl Future<Output = Result<T, AdminError>>,
    ) -> Result<T, AdminError> {
        match change.await {
            Ok(done) => Ok(done),
            Err(e) => Err(self.refused(actor, action, target, e).await),
        }
    }

    /// Records a refused change (including one whose request could not even be read) and
    /// returns the refusal, which is what the caller sees.
    pub async fn refused(&self, actor: &Actor, action: Action, target: &str, err: AdminError) -> AdminError {
        let mut event = self.event(actor, action, target, json!({"error": err.to_string()}));
        event.outcome = "failure".to_owned();
        if let Err(store_err) = self.storage.append_audit(&event).await {
            tracing::warn!(error = %store_err, "could not record failed admin action");
        }
        err
    }

    /// Records a refused admin bearer token. The caller bounds how often (an attacker must not
    /// be able to fill the database); a failed write is logged, not raised, since the request
    /// is refused either way.
    /// Records a successful sign-in of `username` from `source` (the client address as the
    /// server resolved it). Failed attempts are not written: they are rate-limited and logged,
    /// and a flood of them must not fill the database.
    pub async fn record_sign_in(&self, username: &str, source: Option<String>) {
        let actor = Actor::new(username);
        let event = self.event(&actor, Action::UserSignIn, username, json!({ "source": source }));
        if let Err(store_err) = self.storage.append_audit(&event).await {
            tracing::warn!(error = %store_err, "could not record a sign-in");
        }
    }

    pub async fn record_rejected_token(&self, rejected: &RejectedToken<'_>) {
        let detail = json!({
            "reason": rejected.reason,
            "source": rejected.source,
            "method": rejected.method,
            "path": rejected.path,
        });
        let mut event = self.event(
            &Actor::new("anonymous"),
            Action::AdminAuthReject,
            rejected.path,
            detail,
        );
        event.outcome = "failure".to_owned();
        if let Err(store_err) = self.storage.append_audit(&event).await {
            tracing::warn!(error = %store_err, "could not record a rejected admin token");
        }
    }

    /// The audit log, newest first, filtered; a page of `limit` (1–500, default 100) events,
    /// and a cursor to the next page when this one is full.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<AuditPage, AdminError> {
        let query = filter.parse()?;
        let events = self.storage.list_audit(&query).await?;
        let next_before = (events.len() == query.limit as usize)
            .then(|| events.last().map(|e| e.id))
            .flatten();
        Ok(AuditPage {
            events,
            next_cursor: next_before.map(encode_cursor),
            next_before,
        })
    }
}
