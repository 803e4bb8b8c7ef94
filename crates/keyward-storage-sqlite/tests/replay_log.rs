//! The SQLite replay store beyond the shared conformance suite: what `replay_log` and its
//! in-memory index must keep across a reopen, between two handles (two processes) on one file,
//! through a takeover of an expired pair, a purge of more than one chunk, and the upgrade from
//! the `replay` table of schema version 2. Every test runs on its own temp SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{collections::HashMap, path::Path, time::Duration as StdDuration};

use keyward_storage::ReplayStore;
use keyward_storage_sqlite::SqliteStorage;
use keyward_types::ClientId;
use sqlx::{
    migrate::Migrator,
    sqlite::{SqliteConnectOptions, SqlitePool},
    Row,
};
use time::{macros::datetime, Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

fn url(dir: &Path) -> String {
    format!("sqlite://{}/replay.db", dir.display())
}

async fn open(dir: &Path) -> SqliteStorage {
    SqliteStorage::open(&url(dir)).await.unwrap()
}

/// Drops `storage` (its pool and the sender of its replay writer, whose thread then ends) and
/// opens the same file again, as a restarted process would.
async fn reopen(storage: SqliteStorage, dir: &Path) -> SqliteStorage {
    drop(storage);
    // The old writer thread ends on its own; it holds no lock while idle, so this pause only
    // keeps the two handles from overlapping, it is not needed for correctness.
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    open(dir).await
}

fn client(id: &str) -> ClientId {
    ClientId::parse(id).unwrap()
}

/// `insert_once` at `now`, keeping the entry until `now + ttl`.
async fn claim(s: &SqliteStorage, client_id: &str, jti: &str, ttl: Duration, now: OffsetDateTime) -> bool {
    s.insert_once(&client(client_id), jti, now + ttl, now)
        .await
        .unwrap()
}

/// `insert_once` until an explicit expiry.
async fn claim_until(
    s: &SqliteStorage,
    client_id: &str,
    jti: &str,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    s.insert_once(&client(client_id), jti, expires_at, now)
        .await
        .unwrap()
}

async fn entries(s: &SqliteStorage) -> u64 {
    s.replay_entries().await.unwrap()
}

/// The rows of `replay_log`, read through a separate connection, ordered by `seq`.
async fn rows(dir: &Path) -> Vec<(String, String, i64)> {
    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(dir.join("replay.db")))
        .await
        .unwrap();
    let rows = sqlx::query("SELECT client_id, jti, expires_at FROM replay_log ORDER BY seq")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    pool.close().await;
    rows
}

fn nanos(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap()
}

/// Runs every `(client_id, jti, expires_at)` claim at `now` concurrently (so they share group
/// commits instead of one fsync each); returns the answers in input order.
async fn claim_all(
    s: &SqliteStorage,
    pairs: Vec<(String, String, OffsetDateTime)>,
    now: OffsetDateTime,
) -> Vec<bool> {
    let mut set = tokio::task::JoinSet::new();
    let n = pairs.len();
    for (i, (c, j, exp)) in pairs.into_iter().enumerate() {
        let s = s.clone();
        set.spawn(async move { (i, s.insert_once(&client(&c), &j, exp, now).await.unwrap()) });
    }
    let mut out = vec![None; n];
    while let Some(r) = set.join_next().await {
        let (i, fresh) = r.unwrap();
        *out.get_mut(i).unwrap() = Some(fresh);
    }
    out.into_iter().map(Option::unwrap).collect()
}

// --- Tests ------------------------------------------------------------------------------------

#[tokio::test]
async fn an_accepted_jti_is_still_a_replay_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let ttl = Duration::seconds(75);
    let s = open(dir.path()).await;
    assert!(claim(&s, "svc", "j-1", ttl, T0).await);
    assert!(!claim(&s, "svc", "j-1", ttl, T0).await);

    // A new handle's index is empty until its writer's first job reads the table.
    let s = reopen(s, dir.path()).await;
    assert!(
        !claim(&s, "svc", "j-1", ttl, T0 + Duration::seconds(1)).await,
        "an accepted pair must stay a replay after a reopen"
    );
    assert!(claim(&s, "svc", "j-2", ttl, T0 + Duration::seconds(1)).await);
    assert!(claim(&s, "other", "j-1", ttl, T0 + Duration::seconds(1)).await);
    assert_eq!(entries(&s).await, 3);

    // The first job of a fresh handle may be a purge (the background task) instead of a claim:
    // the index must still be complete afterwards. Nothing has expired at T0 + 2 s.
    let s = reopen(s, dir.path()).await;
    assert_eq!(s.purge_expired(T0 + Duration::seconds(2)).await.unwrap(), 0);
    for (c, j) in [("svc", "j-1"), ("svc", "j-2"), ("other", "j-1")] {
        assert!(
            !claim(&s, c, j, ttl, T0 + Duration::seconds(2)).await,
            "({c}, {j}) accepted again after a reopen and a purge"
        );
    }
    assert!(claim(&s, "svc", "j-3", ttl, T0 + Duration::seconds(2)).await);
    assert_eq!(entries(&s).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_never_both_accept_a_pair() {
    let dir = tempfile::tempdir().unwrap();
    let ttl = Duration::seconds(75);
    let a = open(dir.path()).await;
    let b_early = open(dir.path()).await;
    // B's index is loaded (its writer has done a batch) before A appends anything else.
    assert!(claim(&b_early, "svc", "warm-up", ttl, T0).await);

    assert!(claim(&a, "svc", "j", ttl, T0).await);
    assert!(
        !claim(&b_early, "svc", "j", ttl, T0).await,
        "a handle opened before the insert accepted the pair again"
    );
    assert!(
        !claim(&a, "svc", "warm-up", ttl, T0).await,
        "A accepted what B had accepted"
    );
    let b_late = open(dir.path()).await;
    assert!(
        !claim(&b_late, "svc", "j", ttl, T0).await,
        "a handle opened after the insert accepted the pair again"
    );
    assert!(!claim(&b_late, "svc", "warm-up", ttl, T0).await);
    assert_eq!(entries(&a).await, 2);

    // 200 pairs, each sent at once to A and to B_early: exactly one of the two accepts it.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (a, b) = (a.clone(), b_early.clone());
        set.spawn(async move {
            let (svc, jti) = (client("svc"), format!("race-{i}"));
            let (x, y) = tokio::join!(
                a.insert_once(&svc, &jti, T0 + ttl, T0),
                b.insert_once(&svc, &jti, T0 + ttl, T0)
            );
            (jti, x.unwrap(), y.unwrap())
        });
    }
    let mut winners: HashMap<String, (bool, bool)> = HashMap::new();
    while let Some(r) = set.join_next().await {
        let (jti, x, y) = r.unwrap();
        winners.insert(jti, (x, y));
    }
    assert_eq!(winners.len(), 200);
    let both: Vec<_> = winners.iter().filter(|(_, &(x, y))| x && y).collect();
    let neither: Vec<_> = winners.iter().filter(|(_, &(x, y))| !x && !y).collect();
    assert!(both.is_empty(), "accepted by both handles: {both:?}");
    assert!(neither.is_empty(), "accepted by neither handle: {neither:?}");
    assert_eq!(entries(&a).await, 202);
    // And a third handle, which never took part, refuses all of them.
    for i in 0..200 {
        assert!(!claim(&b_late, "svc", &format!("race-{i}"), ttl, T0).await);
    }
    assert_eq!(entries(&a).await, 202);
}

#[tokio::test]
async fn a_takeover_of_an_expired_pair_leaves_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let first_exp = T0 + Duration::seconds(10);
    let second_exp = T0 + Duration::seconds(100);
    let s = open(dir.path()).await;
    let other = open(dir.path()).await;

    assert!(claim_until(&s, "svc", "j", first_exp, T0).await);
    assert!(!claim_until(&s, "svc", "j", second_exp, first_exp - Duration::seconds(1)).await);
    // The other handle learns the first entry (its index now holds it until first_exp).
    assert!(!claim_until(&other, "svc", "j", second_exp, T0 + Duration::seconds(5)).await);
    assert_eq!(entries(&s).await, 1);

    // At first_exp the entry no longer counts (expires_at <= now): the pair is taken over.
    assert!(claim_until(&s, "svc", "j", second_exp, first_exp).await);
    assert_eq!(entries(&s).await, 1, "the expired row must be replaced, not kept");
    assert_eq!(
        rows(dir.path()).await,
        vec![("svc".to_owned(), "j".to_owned(), nanos(second_exp))]
    );
    assert!(!claim_until(&s, "svc", "j", second_exp, T0 + Duration::seconds(20)).await);
    // The other handle's index still says first_exp (expired): it must read the takeover.
    assert!(
        !claim_until(
            &other,
            "svc",
            "j",
            T0 + Duration::seconds(200),
            T0 + Duration::seconds(20)
        )
        .await,
        "the other handle accepted a pair another handle had just taken over"
    );
    drop(other);

    let s = reopen(s, dir.path()).await;
    assert!(
        !claim_until(
            &s,
            "svc",
            "j",
            T0 + Duration::seconds(200),
            second_exp - Duration::seconds(1)
        )
        .await,
        "after a reopen the takeover's expiry must count"
    );
    assert!(claim_until(&s, "svc", "j", T0 + Duration::seconds(200), second_exp).await);
    assert_eq!(entries(&s).await, 1);
    assert_eq!(
        rows(dir.path()).await,
        vec![(
            "svc".to_owned(),
            "j".to_owned(),
            nanos(T0 + Duration::seconds(200))
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_more_than_one_chunk_and_keeps_live_entries() {
    const EXPIRED: usize = 4_500;
    const LIVE: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path()).await;
    let short = T0 + Duration::seconds(10);
    let long = T0 + Duration::seconds(1000);
    let mut pairs: Vec<_> = (0..EXPIRED)
        .map(|i| (format!("c{}", i % 7), format!("old-{i}"), short))
        .collect();
    pairs.extend((0..LIVE).map(|i| ("live".to_owned(), format!("live-{i}"), long)));
    let fresh = claim_all(&s, pairs.clone(), T0).await;
    assert!(fresh.iter().all(|&f| f), "every pair is new");
    assert_eq!(entries(&s).await, (EXPIRED + LIVE) as u64);

    let at = T0 + Duration::seconds(20);
    assert_eq!(s.purge_expired(at).await.unwrap(), EXPIRED as u64);
    assert_eq!(entries(&s).await, LIVE as u64);
    assert_eq!(s.purge_expired(at).await.unwrap(), 0, "nothing left to purge");

    for i in 0..LIVE {
        assert!(
            !claim_until(&s, "live", &format!("live-{i}"), long, at).await,
            "live-{i} was purged"
        );
    }
    // The purged pairs are fresh again, now until `renewed`.
    let renewed = T0 + Duration::seconds(500);
    let again: Vec<_> = pairs
        .iter()
        .take(EXPIRED)
        .map(|(c, j, _)| (c.clone(), j.clone(), renewed))
        .collect();
    let fresh = claim_all(&s, again.clone(), at).await;
    assert_eq!(fresh.iter().filter(|&&f| f).count(), EXPIRED);
    assert_eq!(entries(&s).await, (EXPIRED + LIVE) as u64);
    // Sampled: each is a replay again until `renewed`, also after a reopen.
    let s = reopen(s, dir.path()).await;
    for (c, j, _) in again.iter().step_by(97) {
        assert!(!claim_until(&s, c, j, renewed, renewed - Duration::seconds(1)).await);
    }
    assert_eq!(
        s.purge_expired(renewed).await.unwrap(),
        EXPIRED as u64,
        "the renewed entries expire at their new expiry"
    );
    assert_eq!(entries(&s).await, LIVE as u64);
}

/// The upgrade path: a database at schema version 2 (migrations 0001 and 0002, as the previous
/// release left it) with entries in the old `replay` table. `SqliteStorage::open` then applies
/// 0003. The copies of 0001 and 0002 are byte-for-byte the files the binary embeds, so sqlx's
/// checksums of the applied migrations match and the embedded migrator accepts the database.
#[tokio::test]
async fn entries_of_the_old_replay_table_survive_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations-v2");
    std::fs::create_dir(&migrations).unwrap();
    for (name, sql) in [
        (
            "0001_init.sql",
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_init.sql")),
        ),
        (
            "0002_assertions.sql",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/0002_assertions.sql"
            )),
        ),
    ] {
        std::fs::write(migrations.join(name), sql).unwrap();
    }

    let now = T0;
    let live_exp = now + Duration::seconds(60);
    let dead_exp = now - Duration::seconds(1);
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(dir.path().join("replay.db"))
            .create_if_missing(true),
    )
    .await
    .unwrap();
    Migrator::new(migrations.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    for (jti, exp) in [("live", live_exp), ("dead", dead_exp), ("live-2", live_exp)] {
        sqlx::query("INSERT INTO replay (client_id, jti, expires_at) VALUES (?1, ?2, ?3)")
            .bind("svc")
            .bind(jti)
            .bind(nanos(exp))
            .execute(&pool)
            .await
            .unwrap();
    }
    let version: i64 = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 2);
    pool.close().await;

    let s = open(dir.path()).await;
    assert_eq!(
        entries(&s).await,
        3,
        "every row of `replay` is copied, expired or not"
    );
    assert_eq!(
        rows(dir.path()).await,
        vec![
            ("svc".to_owned(), "dead".to_owned(), nanos(dead_exp)),
            ("svc".to_owned(), "live".to_owned(), nanos(live_exp)),
            ("svc".to_owned(), "live-2".to_owned(), nanos(live_exp)),
        ]
    );
    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(dir.path().join("replay.db")))
        .await
        .unwrap();
    let old_tables: i64 = sqlx::query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'replay'")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(old_tables, 0, "the old table is dropped");
    pool.close().await;

    assert!(
        !claim_until(&s, "svc", "live", live_exp, now).await,
        "an unexpired entry of the old table must still block its replay"
    );
    assert!(!claim_until(&s, "svc", "live-2", live_exp, now).await);
    assert!(
        claim_until(&s, "svc", "dead", live_exp, now).await,
        "an expired entry of the old table no longer counts"
    );
    assert_eq!(
        entries(&s).await,
        3,
        "the expired row was taken over, not added to"
    );
    assert!(claim_until(&s, "svc", "new", live_exp, now).await);
    assert_eq!(entries(&s).await, 4);

    // And after one more reopen (0003 is not applied twice).
    let s = reopen(s, dir.path()).await;
    assert!(!claim_until(&s, "svc", "live", live_exp, now).await);
    assert!(!claim_until(&s, "svc", "dead", live_exp, now).await);
    assert_eq!(entries(&s).await, 4);
}

/// `ClientId` admits only visible ASCII (1–255 bytes), so a non-ASCII client id cannot reach the
/// store; the Unicode here is in the jti (the server bounds a jti at 256 bytes, not by charset),
/// and the client ids use the awkward ASCII (quotes, `%`, `\`, `|`) and the longest length.
#[tokio::test]
async fn a_jti_of_256_bytes_and_unicode_client_ids_are_kept_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let ttl = Duration::seconds(75);
    let s = open(dir.path()).await;

    let long_jti: String = "j".repeat(255) + "x";
    let long_jti_2: String = "j".repeat(255) + "y";
    assert_eq!(long_jti.len(), 256);
    // 4-byte, 3-byte and 2-byte characters; NFC and NFD forms of "é" are different jtis.
    let unicode_jti = format!("🦀-日本-é-{}", "ü".repeat(120));
    assert!(unicode_jti.len() <= 256, "{}", unicode_jti.len());
    let nfd_jti = "e\u{301}";
    let nfc_jti = "\u{e9}";
    let long_client = "c".repeat(255);
    let odd_client = r#"a'b"c%d\e|f;g--h"#;

    let pairs: Vec<(String, String)> = vec![
        ("ab".into(), "c".into()),
        ("a".into(), "bc".into()),
        ("a|b".into(), "c".into()),
        ("a".into(), "b|c".into()),
        ("svc".into(), long_jti.clone()),
        ("svc".into(), long_jti_2.clone()),
        ("svc".into(), unicode_jti.clone()),
        ("svc".into(), nfd_jti.into()),
        ("svc".into(), nfc_jti.into()),
        (long_client.clone(), long_jti.clone()),
        (odd_client.into(), unicode_jti.clone()),
        (odd_client.into(), "plain".into()),
    ];
    for (c, j) in &pairs {
        assert!(claim(&s, c, j, ttl, T0).await, "({c:?}, {j:?}) is a new pair");
    }
    for (c, j) in &pairs {
        assert!(!claim(&s, c, j, ttl, T0).await, "({c:?}, {j:?}) is a replay");
    }
    assert_eq!(entries(&s).await, pairs.len() as u64);

    // The strings went to the table byte for byte: a new handle (another fingerprint key)
    // rebuilds the same pairs from them.
    let stored = rows(dir.path()).await;
    let expected: Vec<_> = pairs
        .iter()
        .map(|(c, j)| (c.clone(), j.clone(), nanos(T0 + ttl)))
        .collect();
    assert_eq!(stored, expected);

    let s = reopen(s, dir.path()).await;
    for (c, j) in &pairs {
        assert!(
            !claim(&s, c, j, ttl, T0).await,
            "({c:?}, {j:?}) accepted again after a reopen"
        );
    }
    // Neighbours of the stored pairs are still new.
    for (c, j) in [
        ("abc", "c"),
        ("a", "b"),
        ("ab", "bc"),
        ("svc", "j"),
        ("svc", "e"),
        ("svc", "\u{301}"),
        (long_client.as_str(), "x"),
    ] {
        assert!(claim(&s, c, j, ttl, T0).await, "({c:?}, {j:?}) is a new pair");
    }
    let long_jti_3 = "j".repeat(256);
    assert!(claim(&s, "svc", &long_jti_3, ttl, T0).await);
    assert!(!claim(&s, "svc", &long_jti_3, ttl, T0).await);
}

/// The replay writer opens the database file with a connection of its own; an in-memory
/// database would give it a different, empty one and every assertion would fail later. Refused
/// at open instead, with the reason.
#[tokio::test]
async fn an_in_memory_database_is_refused_at_open() {
    for url in ["sqlite::memory:", "sqlite://k.db?mode=memory"] {
        let err = SqliteStorage::open(url).await.expect_err("refused");
        let text = err.to_string();
        assert!(
            text.contains("in-memory SQLite is not supported"),
            "{url}: {text}"
        );
    }
}

/// sqlx percent-decodes the path of the URL; the replay writer must open that same file.
#[tokio::test]
async fn a_percent_encoded_path_names_one_file_for_pool_and_writer() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/my%20data/k.db", dir.path().display());
    let store = SqliteStorage::open(&url).await.unwrap();
    let a = client("a");
    assert!(store
        .insert_once(&a, "j", T0 + Duration::seconds(60), T0)
        .await
        .unwrap());
    assert_eq!(
        store.replay_entries().await.unwrap(),
        1,
        "the pool sees the writer's row"
    );
    assert!(dir.path().join("my data/k.db").exists());
}

/// 1,000 claims started in one scheduler turn (more than one staged group, so a full group
/// goes to the writer early while the rest wait for the flush), every pair twice: each pair is
/// accepted exactly once, one row each is stored, and all survive a reopen.
#[tokio::test]
async fn claims_started_together_are_each_decided_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path()).await;
    let exp = T0 + Duration::minutes(5);
    let pairs: Vec<_> = (0..500)
        .flat_map(|i| {
            let pair = (format!("c{}", i % 7), format!("jti-{i}"), exp);
            [pair.clone(), pair]
        })
        .collect();
    // A claim left behind in the staging area would never be answered: fail, don't hang.
    let answers = tokio::time::timeout(StdDuration::from_secs(30), claim_all(&s, pairs, T0))
        .await
        .expect("every claim answered");
    for (i, twice) in answers.chunks(2).enumerate() {
        assert_eq!(
            twice.iter().filter(|a| **a).count(),
            1,
            "pair {i} must be accepted exactly once: {twice:?}"
        );
    }
    assert_eq!(entries(&s).await, 500);
    let s = reopen(s, dir.path()).await;
    for i in [0, 257, 499] {
        assert!(
            !claim(
                &s,
                &format!("c{}", i % 7),
                &format!("jti-{i}"),
                Duration::minutes(5),
                T0
            )
            .await
        );
    }
}
