//! Cache invalidation between two nodes on one database, over LISTEN/NOTIFY.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyward_testkit::{
    conformance::{self, sample_client},
    pg::{self, expect_change},
};
use std::time::Duration;

use keyward_storage::{
    AuditEvent, Change, ChangeFeed, ClientStore, SigningKeyAudit, SigningKeyRecord, SigningKeyStore,
};
use time::macros::datetime;

const WITHIN: Duration = Duration::from_secs(1);

fn audit(action: &str) -> AuditEvent {
    conformance::audit(action, "t")
}

fn client(id: &str) -> Change {
    Change::Client { client_id: id.into() }
}

#[tokio::test]
async fn a_write_on_one_node_reaches_the_other_within_a_second() {
    let schema = pg::Schema::new();
    let (a, b) = (schema.open("a").await, schema.open("b").await);
    let mut feed = b.subscribe().await.unwrap().expect("PostgreSQL has a feed");
    let mut c = sample_client(&format!("{}-c1", schema.name));
    a.insert_client(&c, None, &[], &audit("client.create"))
        .await
        .unwrap();
    let id = c.client_id.to_string();
    expect_change(&mut feed, WITHIN, |x| *x == client(&id))
        .await
        .unwrap();
    c.enabled = false;
    a.update_client(&c, &audit("client.update")).await.unwrap();
    expect_change(&mut feed, WITHIN, |x| *x == client(&id))
        .await
        .unwrap();
    let key = SigningKeyRecord {
        kid: "k".into(),
        alg: "ES256".into(),
        encrypted_key: vec![1],
        created_at: datetime!(2030-01-01 00:00 UTC),
        retire_at: None,
    };
    let audit = SigningKeyAudit {
        at: key.created_at,
        actor: "changes-test".into(),
    };
    a.add_signing_key(&key, key.created_at, key.created_at, &audit)
        .await
        .unwrap();
    expect_change(&mut feed, WITHIN, |x| *x == Change::SigningKeys)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failed_write_is_not_announced() {
    let schema = pg::Schema::new();
    let (a, b) = (schema.open("a").await, schema.open("b").await);
    let mut feed = b.subscribe().await.unwrap().unwrap();
    let c = sample_client(&format!("{}-dup", schema.name));
    a.insert_client(&c, None, &[], &audit("client.create"))
        .await
        .unwrap();
    let id = c.client_id.to_string();
    expect_change(&mut feed, WITHIN, |x| *x == client(&id))
        .await
        .unwrap();
    assert!(a
        .insert_client(&c, None, &[], &audit("client.create"))
        .await
        .is_err());
    let again = expect_change(&mut feed, Duration::from_millis(500), |x| *x == client(&id)).await;
    assert!(again.is_err(), "a rolled-back write announced itself: {again:?}");
}

#[tokio::test]
async fn an_announcement_reaches_the_other_node() {
    let schema = pg::Schema::new();
    let (a, b) = (schema.open("a").await, schema.open("b").await);
    let mut feed = b.subscribe().await.unwrap().unwrap();
    let change = Change::JwksCache {
        client_id: Some(format!("{}-x", schema.name)),
    };
    a.announce(&change).await.unwrap();
    expect_change(&mut feed, WITHIN, |x| *x == change).await.unwrap();
}

#[tokio::test]
async fn a_lost_listener_connection_yields_all_and_the_feed_goes_on() {
    let schema = pg::Schema::new();
    let (a, b) = (schema.open("a").await, schema.open("b").await);
    let mut feed = b.subscribe().await.unwrap().unwrap();
    assert_eq!(schema.terminate(&format!("{}:listen", schema.app("b"))).await, 1);
    expect_change(&mut feed, Duration::from_secs(5), |x| *x == Change::All)
        .await
        .unwrap();
    let c = sample_client(&format!("{}-after", schema.name));
    a.insert_client(&c, None, &[], &audit("client.create"))
        .await
        .unwrap();
    let id = c.client_id.to_string();
    expect_change(&mut feed, WITHIN, |x| *x == client(&id))
        .await
        .unwrap();
}

#[tokio::test]
async fn dropping_the_feed_closes_its_listener_connection() {
    let schema = pg::Schema::new();
    let b = schema.open("b").await;
    let listen = format!("{}:listen", schema.app("b"));
    let feed = b.subscribe().await.unwrap().unwrap();
    drop(feed);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg::database_url())
            .await
            .unwrap();
        let listening: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(&listen)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        if listening == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener connection is still open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
