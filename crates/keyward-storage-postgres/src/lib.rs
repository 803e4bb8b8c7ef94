//! The PostgreSQL backend: several keyward nodes behind one load balancer share one database,
//! so the replay store, signing keys, clients, secrets and credentials are the same on every
//! node. Migrations are compiled in and applied on open under sqlx's advisory lock, so nodes
//! may start at once. Every write announces itself with `NOTIFY` in its own transaction, and
//! [`ChangeFeed::subscribe`](keyward_storage::ChangeFeed::subscribe) turns those announcements
//! (and any gap in them) into cache invalidations.
//!
//! The connection has no TLS: the database is meant to be reached over loopback or a private
//! network. A URL asking for `sslmode=require` fails to connect rather than going out in clear.
#![forbid(unsafe_code)]

mod audit;
mod changes;
mod clients;
mod credentials;
mod grants;
mod listener;
mod open;
mod options;
mod replay;
mod secrets;
mod signing_keys;
mod time_col;
mod users;
mod write;

pub use open::{PostgresStorage, PostgresStorageError};
pub use options::PgOptions;
