//! File modes of what `keyward serve` keeps on disk: the data directory 0700 and every file in
//! it 0600 (the SQLite database and its `-wal` / `-shm` files, `pepper.key`, `kek.key`), checked
//! at every start: wider modes are narrowed with a warning naming the path; a mode that cannot
//! be narrowed refuses the start. Unix modes: Linux only (the refusal tests use `/proc`, whose
//! modes no one, not even root, can change).
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    os::unix::fs::PermissionsExt,
    path::Path,
    time::{Duration, Instant},
};

use keyward_testkit::{process::*, remote::*};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Waits (generously: two shared cores) until SQLite has made its `-wal` and `-shm` files.
fn wait_for_wal(db: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let side = |s: &str| db.with_file_name(format!("keyward.db{s}"));
    while !(side("-wal").is_file() && side("-shm").is_file()) {
        assert!(
            Instant::now() < deadline,
            "no -wal / -shm beside {}",
            db.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every file keyward made, and the directory, are its owner's only.
fn assert_owner_only(data: &Path) {
    assert_eq!(mode(data), 0o700, "{}", data.display());
    for name in [
        "keyward.db",
        "keyward.db-wal",
        "keyward.db-shm",
        "pepper.key",
        "kek.key",
    ] {
        let file = data.join(name);
        assert_eq!(
            mode(&file),
            0o600,
            "{} has mode {:o}",
            file.display(),
            mode(&file)
        );
    }
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path),
            0o600,
            "{} has mode {:o}",
            path.display(),
            mode(&path)
        );
    }
}

#[tokio::test]
async fn fresh_start_makes_an_owner_only_data_dir_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proc, base) = start(serve(dir.path()));
    let resp = http().get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let data = dir.path().join("keyward-data");
    wait_for_wal(&data.join("keyward.db"));
    assert_owner_only(&data);
    assert!(
        !proc.stderr_text().contains("accessible to other users"),
        "a fresh start warns about nothing:\n{}",
        proc.stderr_text()
    );
    proc.stop();
}

#[tokio::test]
async fn wide_modes_are_narrowed_at_start_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proc, _) = start(serve(dir.path()));
    proc.stop();
    let data = dir.path().join("keyward-data");
    let db = data.join("keyward.db");
    let stray = data.join("notes.txt");
    std::fs::write(&stray, "an operator's file").unwrap();
    set_mode(&data, 0o755);
    set_mode(&db, 0o644);
    set_mode(&data.join("pepper.key"), 0o640);
    set_mode(&stray, 0o666);

    let (mut proc, base) = start(serve(dir.path()));
    let resp = http().get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let log = proc.stderr_text();
    // The default data_dir is relative, and so are the paths the warnings name.
    for path in [
        "keyward-data ",
        "keyward-data/keyward.db ",
        "keyward-data/pepper.key ",
        "keyward-data/notes.txt ",
    ] {
        let line = log
            .lines()
            .find(|l| l.contains("accessible to other users") && l.contains(path))
            .unwrap_or_else(|| panic!("no warning naming {path}:\n{log}"));
        assert!(line.contains("WARN"), "{line}");
    }
    assert!(
        !log.lines()
            .any(|l| l.contains("accessible to other users") && l.contains("kek.key")),
        "kek.key was already 0600:\n{log}"
    );
    wait_for_wal(&db);
    assert_owner_only(&data);
    assert_eq!(std::fs::read_to_string(&stray).unwrap(), "an operator's file");
    proc.stop();
}

#[tokio::test]
async fn refuses_to_start_when_the_data_dir_mode_cannot_be_narrowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    // 0555, and /proc refuses every mode change, even root's.
    cmd.env("KEYWARD_DATA_DIR", "/proc/self/task");
    let mut proc = Proc::spawn(cmd);
    let status = proc.wait_exit(START_TIMEOUT);
    assert!(!status.success(), "started with a data dir it cannot protect");
    let log = proc.stderr_text();
    assert!(
        log.contains("files: cannot restrict to its owner /proc/self/task"),
        "{log}"
    );
    assert!(!log.contains(LISTENING), "{log}");
    // Refused before anything was made: no database.
    assert!(!dir.path().join("keyward-data").exists());
}

#[tokio::test]
async fn refuses_to_start_when_the_database_file_mode_cannot_be_narrowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    // 0444, and /proc refuses every mode change.
    cmd.env("KEYWARD_DATABASE_URL", "sqlite:///proc/self/cmdline");
    let mut proc = Proc::spawn(cmd);
    let status = proc.wait_exit(START_TIMEOUT);
    assert!(!status.success(), "started with a database it cannot protect");
    let log = proc.stderr_text();
    assert!(
        log.contains("files: cannot restrict to its owner /proc/self/cmdline"),
        "{log}"
    );
    assert!(!log.contains(LISTENING), "{log}");
}
