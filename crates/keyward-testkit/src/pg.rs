//! PostgreSQL for tests, in the server named by `KEYWARD_TEST_DATABASE_URL`: a fresh schema per
//! test for the storage backend's own tests ([`Schema`]), a fresh database per test for whole
//! `keyward` processes ([`TestDb`]). Both are dropped when the test ends, also on panic.

use std::{process::Command, time::Duration};

use keyward_storage::Change;
use keyward_storage_postgres::{PgOptions, PostgresStorage};
use sqlx::{Connection, PgConnection};
use tokio::sync::mpsc::Receiver;

pub fn database_url() -> String {
    std::env::var("KEYWARD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Owns one test schema; dropping it drops the schema and everything in it.
pub struct Schema {
    pub name: String,
    url: String,
}

impl Default for Schema {
    fn default() -> Self {
        Self::new()
    }
}

impl Schema {
    pub fn new() -> Self {
        Self {
            name: format!("kw_test_{}", keyward_types::random::uuid().unwrap().simple()),
            url: database_url(),
        }
    }

    /// Options for one node on this schema; its connections are named `<schema>-<node>`
    /// (`<schema>-<node>:listen` for the change listener), so a test can terminate them.
    pub fn options(&self, node: &str) -> PgOptions {
        PgOptions {
            max_connections: 8,
            schema: Some(self.name.clone()),
            application_name: Some(self.app(node)),
            ..PgOptions::default()
        }
    }

    pub fn app(&self, node: &str) -> String {
        format!("{}-{node}", self.name)
    }

    pub async fn open(&self, node: &str) -> PostgresStorage {
        PostgresStorage::open(&self.url, self.options(node))
            .await
            .unwrap()
    }

    /// Terminates the server processes of connections with this application name; returns
    /// how many.
    pub async fn terminate(&self, application_name: &str) -> i64 {
        let mut conn = PgConnection::connect(&self.url).await.unwrap();
        sqlx::query_scalar(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(application_name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
    }
}

impl Drop for Schema {
    /// Drop cannot await, so the schema is dropped on a thread with a runtime of its own.
    /// The nodes on it lose their connections first.
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut conn = PgConnection::connect(&url).await?;
                // The test runtime is blocked in this drop, so a pooled connection whose
                // transaction was dropped has not sent its ROLLBACK yet and still holds locks.
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1",
                )
                .bind(format!("{name}-%"))
                .execute(&mut conn)
                .await?;
                sqlx::query("SET lock_timeout = '10s'").execute(&mut conn).await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .execute(&mut conn)
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

/// No wanted change came: what came instead, and whether the feed closed.
#[derive(Debug)]
pub struct NoChange {
    pub seen: Vec<Change>,
    pub closed: bool,
}

/// Waits up to `within` for a change that `wanted` accepts, skipping others (notifications are
/// per database, so tests running beside this one announce theirs too).
pub async fn expect_change(
    rx: &mut Receiver<Change>,
    within: Duration,
    wanted: impl Fn(&Change) -> bool,
) -> Result<Change, NoChange> {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(c)) if wanted(&c) => return Ok(c),
            Ok(Some(c)) => seen.push(c),
            Ok(None) => return Err(NoChange { seen, closed: true }),
            Err(_) => return Err(NoChange { seen, closed: false }),
        }
    }
}

/// `url` with its database name replaced by `name` (a query string is kept).
fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (url, String::new()),
    };
    let (server, _) = main.rsplit_once('/').expect("database URL without a path");
    format!("{server}/{name}{query}")
}

/// Runs `sql` with psql against `url`; returns the unaligned, tuples-only output.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed for `{sql}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// [`psql`] off the async workers, so a load running beside it is not stalled.
pub async fn psql_async(url: &str, sql: &str) -> String {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    tokio::task::spawn_blocking(move || psql(&url, &sql))
        .await
        .unwrap()
}

/// A database `kw_cluster_<random>`; dropping the guard drops it (connections terminated).
pub struct TestDb {
    pub name: String,
    pub url: String,
    /// The base database, for statements about this one (ALTER, terminate).
    pub admin_url: String,
}

impl TestDb {
    pub fn create() -> Self {
        let admin_url = database_url();
        let name = format!("kw_cluster_{}", keyward_types::random::uuid().unwrap().simple());
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        Self {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }

    /// Terminates every connection to this database; returns how many.
    pub async fn terminate_connections(&self) -> usize {
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            self.name
        );
        psql_async(&self.admin_url, &sql).await.lines().count()
    }

    pub async fn allow_connections(&self, allow: bool) {
        let sql = format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}", self.name);
        psql_async(&self.admin_url, &sql).await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE terminates what is still connected (nodes of a failed test, say).
        let out = Command::new("psql")
            .args([&self.admin_url, "-X", "-At", "-c"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .output();
        if !out.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("could not drop test database {}: {out:?}", self.name);
        }
    }
}
