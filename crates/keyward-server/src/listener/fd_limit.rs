//! Each connection is a descriptor: with the common soft limit of 1,024, a few hundred slow
//! sockets plus the database pool would exhaust it long before `max_connections` is reached.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Linux refuses a soft limit above `fs.nr_open` (1,048,576 by default), even when the hard
/// limit is unlimited.
const UNLIMITED_CAP: u64 = 1 << 20;

/// Raises this process's soft limit of open files to its hard limit and returns the limit now
/// in force. An unprivileged process may always do this; it is not an error to be already there.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    let limit = getrlimit(Resource::Nofile);
    let target = limit.maximum.unwrap_or(UNLIMITED_CAP);
    match limit.current {
        None => return Ok(u64::MAX),
        Some(current) if current >= target => return Ok(current),
        Some(_) => {}
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(target),
            maximum: limit.maximum,
        },
    )?;
    Ok(target)
}
