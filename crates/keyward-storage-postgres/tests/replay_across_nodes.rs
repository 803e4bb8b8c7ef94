//! One assertion presented to two nodes at once is accepted exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyward_testkit::pg;
use std::sync::Arc;

use keyward_storage::ReplayStore;
use keyward_types::ClientId;
use time::{macros::datetime, Duration};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_uses_split_across_two_nodes_accept_exactly_one() {
    let schema = pg::Schema::new();
    let a = Arc::new(schema.open("a").await);
    let b = Arc::new(schema.open("b").await);
    let client = ClientId::parse("shared").unwrap();
    let now = datetime!(2030-01-01 00:00 UTC);
    let exp = now + Duration::seconds(75);
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let node = if i % 2 == 0 { a.clone() } else { b.clone() };
            let client = client.clone();
            tokio::spawn(async move { node.insert_once(&client, "one-jti", exp, now).await })
        })
        .collect();
    let mut accepted = 0;
    for attempt in attempts {
        if attempt.await.unwrap().expect("no storage errors") {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1, "exactly one of 50 concurrent uses is accepted");
    assert!(!a.insert_once(&client, "one-jti", exp, now).await.unwrap());
    assert!(!b.insert_once(&client, "one-jti", exp, now).await.unwrap());
}

#[tokio::test]
async fn an_assertion_accepted_on_one_node_is_a_replay_on_the_other_until_it_expires() {
    let schema = pg::Schema::new();
    let (a, b) = (schema.open("a").await, schema.open("b").await);
    let client = ClientId::parse("c").unwrap();
    let now = datetime!(2030-01-01 00:00 UTC);
    let exp = now + Duration::seconds(75);
    assert!(a.insert_once(&client, "j", exp, now).await.unwrap());
    assert!(
        !b.insert_once(&client, "j", exp, now).await.unwrap(),
        "replay on B"
    );
    assert!(
        b.insert_once(&client, "j", exp + Duration::hours(1), exp)
            .await
            .unwrap(),
        "A's entry has expired: B takes it over"
    );
    assert!(
        !a.insert_once(&client, "j", exp, exp).await.unwrap(),
        "B's entry now blocks A"
    );
}
