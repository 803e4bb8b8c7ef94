//! The embedded SQLite backend: one file, WAL mode, migrations compiled into the binary and
//! applied on open. Reads run on a pool of connections; SQLite serialises writers itself.
#![forbid(unsafe_code)]

mod audit;
mod clients;
mod grants;
mod load_client;
mod open;
mod replay;
mod signing_keys;
mod time_col;
mod users;
mod write_tx;

pub use open::{database_file, SqliteStorage, SqliteStorageError};
