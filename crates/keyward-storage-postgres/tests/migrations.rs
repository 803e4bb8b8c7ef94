//! Nodes that start at once all open the same fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyward_storage::{ReplayStore, Storage};
use keyward_storage_postgres::PostgresStorage;
use keyward_testkit::pg;
use keyward_types::ClientId;
use sqlx::Connection;
use time::macros::datetime;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_nodes_opening_a_fresh_schema_at_once_all_succeed() {
    let schema = pg::Schema::new();
    let url = pg::database_url();
    let opens = (0..4).map(|i| {
        let (url, options) = (url.clone(), schema.options(&format!("n{i}")));
        tokio::spawn(async move { PostgresStorage::open(&url, options).await })
    });
    let mut nodes = Vec::new();
    for open in opens.collect::<Vec<_>>() {
        nodes.push(open.await.unwrap().expect("every node opens"));
    }
    for node in &nodes {
        node.ping().await.unwrap();
    }
    // One schema, migrated once: what one node writes, another reads.
    let (t, client) = (datetime!(2030-01-01 00:00 UTC), ClientId::parse("c").unwrap());
    assert!(nodes[0].insert_once(&client, "j", t, t).await.unwrap());
    assert_eq!(nodes[3].replay_entries().await.unwrap(), 1);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}._sqlx_migrations", schema.name))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count();
    assert_eq!(
        applied,
        i64::try_from(files).unwrap(),
        "each migration applied once"
    );
}

#[tokio::test]
async fn reopening_a_migrated_schema_keeps_its_data() {
    let schema = pg::Schema::new();
    let t = datetime!(2030-01-01 00:00 UTC);
    let client = ClientId::parse("c").unwrap();
    let exp = t + time::Duration::minutes(1);
    let first = schema.open("a").await;
    assert!(first.insert_once(&client, "j", exp, t).await.unwrap());
    let again = schema.open("b").await;
    assert!(
        !again.insert_once(&client, "j", exp, t).await.unwrap(),
        "same store after reopening"
    );
}
