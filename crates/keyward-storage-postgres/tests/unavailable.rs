//! A database that cannot be reached makes calls fail fast; the node recovers by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyward_testkit::pg;
use std::time::{Duration, Instant};

use keyward_storage::{Change, ChangeFeed, ReplayStore, Storage, StorageError};
use keyward_storage_postgres::{PgOptions, PostgresStorage};
use keyward_types::ClientId;
use time::macros::datetime;
use tokio::net::{TcpListener, TcpStream};

const NOW: time::OffsetDateTime = datetime!(2030-01-01 00:00 UTC);
const EXP: time::OffsetDateTime = datetime!(2030-01-01 00:01 UTC);

/// Retries `ping` until it succeeds; returns how many calls failed first.
async fn ping_until_ok(s: &PostgresStorage, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    let mut failures = 0;
    loop {
        match s.ping().await {
            Ok(()) => return failures,
            Err(e) => {
                assert!(Instant::now() < deadline, "no recovery within {within:?}: {e}");
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
async fn opening_where_nothing_listens_fails_fast_with_a_clear_error() {
    let started = Instant::now();
    let r = PostgresStorage::open("postgres://postgres@127.0.0.1:1/test", PgOptions::default()).await;
    let e = r.expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let msg = e.to_string();
    eprintln!("open error: {msg}");
    assert!(
        msg.contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_bad_schema_name_is_refused_before_connecting() {
    let options = PgOptions {
        schema: Some("x; DROP TABLE clients".into()),
        ..PgOptions::default()
    };
    let e = PostgresStorage::open(&pg::database_url(), options)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("invalid schema name"), "{e}");
}

/// The crate has no TLS: a URL asking for it must not silently connect in clear.
#[tokio::test]
async fn a_url_requiring_tls_is_refused_rather_than_sent_in_clear() {
    let mut url = url::Url::parse(&pg::database_url()).unwrap();
    url.query_pairs_mut().append_pair("sslmode", "require");
    let e = PostgresStorage::open(url.as_str(), PgOptions::default())
        .await
        .unwrap_err();
    eprintln!("sslmode=require: {e}");
    assert!(e.to_string().contains("cannot connect"), "{e}");
}

#[tokio::test]
async fn a_node_recovers_after_its_connections_are_terminated() {
    let schema = pg::Schema::new();
    let node = schema.open("a").await;
    let client = ClientId::parse("c").unwrap();
    // Several pooled connections, all of which are about to die.
    let warm: Vec<_> = (0..8)
        .map(|i| {
            let (node, client) = (node.clone(), client.clone());
            tokio::spawn(async move { node.insert_once(&client, &format!("w{i}"), EXP, NOW).await })
        })
        .collect();
    for w in warm {
        assert!(w.await.unwrap().unwrap());
    }
    assert!(schema.terminate(&schema.app("a")).await >= 1);
    let failures = ping_until_ok(&node, Duration::from_secs(5)).await;
    eprintln!("{failures} failed pings before recovery");
    assert!(failures <= 2, "{failures} failed pings before recovery");
    assert!(
        !node.insert_once(&client, "w0", EXP, NOW).await.unwrap(),
        "data survived"
    );
    assert!(node.insert_once(&client, "fresh", EXP, NOW).await.unwrap());
}

/// Forwards loopback connections to the test database, until stopped; stopping it cuts every
/// forwarded connection, as a database host going away does.
struct Proxy {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(port: u16) -> Self {
        let db = url::Url::parse(&pg::database_url()).unwrap();
        let upstream = format!("{}:{}", db.host_str().unwrap(), db.port().unwrap_or(5432));
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut forwarded = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                forwarded.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { port, task }
    }

    fn url(&self) -> String {
        let mut url = url::Url::parse(&pg::database_url()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }

    async fn stop(self) -> u16 {
        self.task.abort();
        let _ = self.task.await;
        self.port
    }
}

#[tokio::test]
async fn calls_fail_fast_while_the_database_is_unreachable_and_recover_after() {
    let schema = pg::Schema::new();
    let proxy = Proxy::start(0).await;
    let node = PostgresStorage::open(&proxy.url(), schema.options("a"))
        .await
        .unwrap();
    let mut feed = node.subscribe().await.unwrap().unwrap();
    let client = ClientId::parse("c").unwrap();
    assert!(node.insert_once(&client, "before", EXP, NOW).await.unwrap());

    let port = proxy.stop().await;
    for jti in ["during-1", "during-2"] {
        let started = Instant::now();
        let r = node.insert_once(&client, jti, EXP, NOW).await;
        eprintln!("{jti}: {r:?} after {:?}", started.elapsed());
        assert!(matches!(r, Err(StorageError::Unavailable(_))), "{r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "took {:?}",
            started.elapsed()
        );
    }
    assert!(node.ping().await.is_err());

    let _proxy = Proxy::start(port).await;
    ping_until_ok(&node, Duration::from_secs(5)).await;
    assert!(
        !node.insert_once(&client, "before", EXP, NOW).await.unwrap(),
        "still a replay"
    );
    assert!(
        node.insert_once(&client, "during-1", EXP, NOW).await.unwrap(),
        "a failed insert stored nothing"
    );
    // The listener lost its connection too: once it is back, every cache must go.
    pg::expect_change(&mut feed, Duration::from_secs(5), |c| *c == Change::All)
        .await
        .unwrap();
}
