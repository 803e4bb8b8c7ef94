//! Storage, split into one small trait per concern (clients, secrets, signing keys, audit, users, sessions, grants), so a
//! handler asks for exactly what it uses. Every backend runs the conformance suite in
//! `keyward-testkit`.
//!
//! Every write that an admin makes carries its [`AuditEvent`], and a backend stores both in one
//! transaction: an acknowledged change always has its audit record, and a failed one has neither.
#![forbid(unsafe_code)]

mod client_query;
mod client_rows;
mod error;
mod grants;
mod records;
mod traits;
mod users;

pub use client_query::ClientQuery;
pub use client_rows::{client_entry_from_rows, ClientRow};
pub use error::{BackendError, StorageError};
pub use grants::{CodeRecord, GrantRecord, GrantStore, PendingRequest, Redeemed, RefreshRecord, Rotation};
pub use records::{
    ActionFilter, AuditEvent, AuditQuery, AuditRecord, Change, SigningKeyAudit, SigningKeyRecord, TouchedKey,
};
pub use traits::{
    AuditStore, ChangeFeed, ClientStore, CredentialStore, ExpiringSecret, ReplayStore, SecretStore,
    SigningKeyStore, Storage,
};
pub use users::{SessionRecord, SessionStore, UserRecord, UserStore, USER_COLUMNS};
