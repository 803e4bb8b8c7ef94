//! Nodes sharing one PostgreSQL database while it fails: connections terminated under
//! load, and the database refusing connections altogether. Never a token without the replay
//! check, no 500s, and the nodes recover by themselves.
//! Needs the PostgreSQL at `KEYWARD_TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use keyward_testkit::{
    cluster::*,
    fixtures::{ec_jwk, ec_key, ec_kid},
    pg::TestDb,
    remote::*,
};
use serde_json::{json, Value};
use tokio::task::JoinSet;

const LOAD_TASKS: usize = 8;
const LOAD_FOR: Duration = Duration::from_secs(4);

/// One assertion, sent to A and B at the same moment, and what each answered.
struct Pair {
    assertion: String,
    jti: String,
    a: (u16, Value),
    b: (u16, Value),
}

async fn send_pair(http: &reqwest::Client, a: &str, b: &str, assertion: String, jti: String) -> Pair {
    let (on_a, on_b) = tokio::join!(
        token_assertion(http, a, &assertion),
        token_assertion(http, b, &assertion)
    );
    Pair {
        assertion,
        jti,
        a: (on_a.0.as_u16(), on_a.1),
        b: (on_b.0.as_u16(), on_b.1),
    }
}

/// A fresh assertion of `client` on `base` gets a token.
async fn issues_tokens(http: &reqwest::Client, base: &str, client: &str) -> bool {
    let (key, kid) = (ec_key(), ec_kid());
    token_assertion(http, base, &key_assertion(&key, &kid, client).0)
        .await
        .0
        == 200
}

fn key_client(id: &str) -> Value {
    json!({"client_id": id, "token_endpoint_auth_method": "private_key_jwt", "scope": "read",
        "jwks": {"keys": [ec_jwk()]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_connections_terminated_under_load() {
    let _serial = serial().await;
    // Every pair ends in a refused replay, on purpose: the failure limiter must not answer them.
    let c = Cluster::start_with(NodeEnv::allow_many_auth_failures).await;
    let (id, _) = create_client(&c.http, &c.a.base, key_client("svc-load")).await;
    let key = Arc::new((ec_key(), ec_kid()));

    let started = Instant::now();
    let mut load = JoinSet::new();
    for _ in 0..LOAD_TASKS {
        let (http, a, b, id, key) = (
            c.http.clone(),
            c.a.base.clone(),
            c.b.base.clone(),
            id.clone(),
            key.clone(),
        );
        load.spawn(async move {
            let mut pairs = Vec::new();
            while started.elapsed() < LOAD_FOR {
                let (assertion, jti) = key_assertion(&key.0, &key.1, &id);
                pairs.push(send_pair(&http, &a, &b, assertion, jti).await);
            }
            pairs
        });
    }
    let mut terminated = Vec::new();
    for at in [1300, 2600] {
        tokio::time::sleep(Duration::from_millis(at).saturating_sub(started.elapsed())).await;
        terminated.push(c.db.terminate_connections().await);
    }
    let mut pairs = Vec::new();
    while let Some(done) = load.join_next().await {
        pairs.extend(done.unwrap());
    }

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut tokens_per_jti: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &pairs {
        for (node, (status, body)) in [("A", &p.a), ("B", &p.b)] {
            *statuses.entry(*status).or_default() += 1;
            assert!(
                matches!(status, 200 | 401 | 503),
                "jti {}: node {node} answered {status} {body}",
                p.jti
            );
            if *status == 200 {
                *tokens_per_jti.entry(&p.jti).or_default() += 1;
            }
            if *status == 401 {
                assert_eq!(body["error"], "invalid_client", "{body}");
            }
        }
        // A 401 is the replay check turning down the second use; the first use is the other
        // node's, which either issued the token or failed after its insert (503). Two 401s
        // would mean an assertion rejected with no use at all.
        let (a, b) = (p.a.0, p.b.0);
        assert!(
            !(a == 401 && b == 401),
            "jti {}: both nodes answered 401 ({} / {})",
            p.jti,
            p.a.1,
            p.b.1
        );
        assert!(
            !(a == 200 && b == 200),
            "jti {}: two tokens for one assertion",
            p.jti
        );
    }
    let twice: Vec<_> = tokens_per_jti.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "jtis with more than one token: {twice:?}");
    eprintln!(
        "[stats] {} pairs in {:?} ({LOAD_TASKS} tasks, both nodes), statuses {statuses:?}, connections terminated {terminated:?}",
        pairs.len(),
        started.elapsed()
    );
    assert!(
        terminated.iter().all(|n| *n > 0),
        "nothing to terminate: {terminated:?}"
    );
    assert!(
        tokens_per_jti.len() > 50,
        "the load issued only {} tokens",
        tokens_per_jti.len()
    );

    // Full recovery: both nodes healthy and issuing tokens.
    let recovered = time_until(Duration::from_secs(10), || async {
        healthz(&c.http, &c.a.base).await == 200
            && healthz(&c.http, &c.b.base).await == 200
            && issues_tokens(&c.http, &c.a.base, &id).await
            && issues_tokens(&c.http, &c.b.base, &id).await
    })
    .await;
    eprintln!("[timing] recovered after the load: {recovered:?}");
    assert!(recovered.is_some(), "the nodes did not recover within 10 s");

    // Every assertion that got a token is spent, on both nodes.
    let accepted: Vec<String> = pairs
        .iter()
        .filter(|p| p.a.0 == 200 || p.b.0 == 200)
        .map(|p| p.assertion.clone())
        .collect();
    let accepted = Arc::new(accepted);
    let mut replays = JoinSet::new();
    for worker in 0..LOAD_TASKS {
        let (http, a, b, accepted) = (
            c.http.clone(),
            c.a.base.clone(),
            c.b.base.clone(),
            accepted.clone(),
        );
        replays.spawn(async move {
            let mut answers = Vec::new();
            for assertion in accepted.iter().skip(worker).step_by(LOAD_TASKS) {
                for base in [&a, &b] {
                    answers.push(token_assertion(&http, base, assertion).await);
                }
            }
            answers
        });
    }
    let mut replayed = 0;
    while let Some(done) = replays.join_next().await {
        for answer in done.unwrap() {
            assert_invalid_client(&answer);
            replayed += 1;
        }
    }
    assert_eq!(replayed, 2 * accepted.len());
}

#[tokio::test]
async fn healthz_reports_unavailable_when_database_is_gone() {
    let _serial = serial().await;
    let http = http();
    let db = TestDb::create();
    let env = NodeEnv::new(&db.url);
    let node = start_nodes(&env, 1).pop().unwrap();
    let (id, _) = create_client(&http, &node.base, key_client("svc-outage")).await;
    assert!(issues_tokens(&http, &node.base, &id).await);
    assert_eq!(healthz(&http, &node.base).await, 200);

    db.allow_connections(false).await;
    let terminated = db.terminate_connections().await;
    assert!(terminated > 0);
    let down = time_until(Duration::from_secs(10), || async {
        healthz(&http, &node.base).await == 503
    })
    .await;
    eprintln!("[timing] /healthz 503 after the database went away: {down:?}");
    let down = down.expect("/healthz still not 503 after 10 s");
    assert!(
        down < Duration::from_secs(5),
        "/healthz took {down:?} to report 503"
    );

    let (key, kid) = (ec_key(), ec_kid());
    for _ in 0..3 {
        let asked = Instant::now();
        let (status, body) = token_assertion(&http, &node.base, &key_assertion(&key, &kid, &id).0).await;
        eprintln!(
            "[timing] token request without the database: {status} after {:?}",
            asked.elapsed()
        );
        assert_eq!(status, 503, "a token request without the database: {body}");
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "503 took {:?}",
            asked.elapsed()
        );
    }

    db.allow_connections(true).await;
    let back = time_until(Duration::from_secs(20), || async {
        healthz(&http, &node.base).await == 200 && issues_tokens(&http, &node.base, &id).await
    })
    .await;
    eprintln!("[timing] recovered after the database came back: {back:?}");
    let back = back.expect("the node did not recover within 20 s");
    assert!(back < Duration::from_secs(5), "recovery took {back:?}");
}
