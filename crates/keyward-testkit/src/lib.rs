//! Everything the integration tests of keyward's crates share: a server in-process or as a
//! process, PostgreSQL test schemas and databases, admin tokens and client helpers, JWKS hosts,
//! signers, the interop fixtures, the Python and Node.js environments of the interop tests,
//! headless Chromium for the admin console's tests, and the storage conformance suite every
//! backend runs.
//!
//! Test-only code (`publish = false`): a helper that cannot do its job panics, which fails the
//! test that called it with the reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod browser;
pub mod cluster;
pub mod code_flow;
pub mod conformance;
pub mod connections;
pub mod console;
pub mod fixtures;
pub mod jose;
pub mod jwks_server;
pub mod logs;
pub mod node;
pub mod oauth;
pub mod pg;
pub mod process;
pub mod proxy;
pub mod python;
pub mod rate_limit;
pub mod remote;
pub mod server;
mod server_clients;
pub mod tls;
mod tools;

pub use keyward_client_auth::JWT_BEARER;
