//! The shared storage conformance suite, run against a fresh temp SQLite file per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyward_storage_sqlite::SqliteStorage;

async fn fresh() -> (SqliteStorage, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/test.db", dir.path().display());
    (SqliteStorage::open(&url).await.unwrap(), dir)
}

keyward_testkit::conformance_tests!(fresh());
