//! A fresh schema per test in the database named by `KEYWARD_TEST_DATABASE_URL`, dropped when
//! the test ends.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

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

impl Schema {
    pub fn new() -> Self {
        Self {
            name: format!("kw_test_{}", uuid::Uuid::new_v4().simple()),
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
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(application_name)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        n
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

/// Waits up to `within` for a change that `wanted` accepts, skipping others (notifications are
/// per database, so tests running beside this one announce theirs too).
pub async fn expect_change(
    rx: &mut Receiver<Change>,
    within: Duration,
    wanted: impl Fn(&Change) -> bool,
) -> Result<Change, String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(c)) if wanted(&c) => return Ok(c),
            Ok(Some(c)) => seen.push(c),
            Ok(None) => return Err(format!("feed closed; saw {seen:?}")),
            Err(_) => return Err(format!("nothing wanted within {within:?}; saw {seen:?}")),
        }
    }
}
