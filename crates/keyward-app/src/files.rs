//! Owner-only modes for what keyward keeps on disk: the data directory 0700 and every file in it
//! 0600, and the SQLite database with its `-wal` and `-shm` files 0600 wherever they live.
//! The database holds secret hashes, sealed keys and the audit log; another local user who
//! can read it has every client's secret hash and, with the key files, the keys themselves.
//!
//! Checked at every start: a wider mode found is logged as a warning naming the path and
//! narrowed; when it cannot be narrowed, keyward refuses to start. New files are created with
//! the narrow mode from the start, whatever the umask, so there is no moment they are open.

use std::path::{Path, PathBuf};

use keyward_server::Config;

use crate::StartupError;

/// Owner read and write; owner read, write and search for directories.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// The data directory: created 0700 when keyward writes key files into it, else left alone
/// when absent; when present, narrowed to 0700 and each regular file in it to 0600.
pub(crate) fn secure_data_dir(config: &Config) -> Result<(), StartupError> {
    let dir = Path::new(&config.data_dir);
    let holds_keys = config.pepper.is_none() || config.key_encryption_key.is_none();
    if !dir.exists() {
        return if holds_keys { create_dir(dir) } else { Ok(()) };
    }
    narrow(dir, DirOrFile::Dir)?;
    let entries = std::fs::read_dir(dir).map_err(failed("list", dir))?;
    for entry in entries {
        let path = entry.map_err(failed("list", dir))?.path();
        // Not following links: a link may point at a file that is not keyward's to change.
        let meta = std::fs::symlink_metadata(&path).map_err(failed("read the mode of", &path))?;
        if meta.is_file() {
            narrow(&path, DirOrFile::File)?;
        }
    }
    Ok(())
}

/// For a `sqlite://PATH` database: its directory created 0700 if missing, the database file
/// created 0600 before SQLite opens it (SQLite gives `-wal` and `-shm` the database file's
/// mode), and existing `-wal` / `-shm` files narrowed. A directory that exists is not changed:
/// the database may sit beside files that are not keyward's.
pub(crate) fn secure_database(url: &str) -> Result<(), StartupError> {
    let file = keyward_storage_sqlite::database_file(url)?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            create_dir(dir)?;
        }
    }
    if file.exists() {
        narrow(&file, DirOrFile::File)?;
    } else {
        create_file(&file)?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut name = file.clone().into_os_string();
        name.push(suffix);
        let side = PathBuf::from(name);
        if side.exists() {
            narrow(&side, DirOrFile::File)?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum DirOrFile {
    Dir,
    File,
}

fn failed(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StartupError {
    let path = path.to_path_buf();
    move |source| StartupError::Files { action, path, source }
}

fn create_dir(dir: &Path) -> Result<(), StartupError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir).map_err(failed("create", dir))
}

/// An empty file is a valid empty SQLite database; another process creating it first is fine.
fn create_file(file: &Path) -> Result<(), StartupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => narrow(file, DirOrFile::File),
        Err(e) => Err(failed("create", file)(e)),
    }
}

/// Removes every group and other permission bit from `path`, with a warning when there were any.
#[cfg(unix)]
fn narrow(path: &Path, kind: DirOrFile) -> Result<(), StartupError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(failed("read the mode of", path))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let wanted = match kind {
        DirOrFile::Dir => DIR_MODE,
        DirOrFile::File => FILE_MODE,
    };
    tracing::warn!(
        path = %path.display(),
        mode = format_args!("{mode:04o}"),
        fixed = format_args!("{wanted:04o}"),
        "{} is accessible to other users; restricting it to its owner",
        path.display()
    );
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))
        .map_err(failed("restrict to its owner", path))
}

/// Modes are a Unix notion; elsewhere the operating system's own access rules apply.
#[cfg(not(unix))]
fn narrow(_path: &Path, _kind: DirOrFile) -> Result<(), StartupError> {
    Ok(())
}
