//! Two nodes on one PostgreSQL database, node B's database traffic through a proxy that can drop
//! it silently, as a NAT or load balancer does with a flow it forgot: nothing is delivered and
//! nothing is closed. A client disabled on node A must stop working on node B anyway: the
//! heartbeat of B's listening connection finds the dead connection and reconnects (clearing
//! B's caches), and the cached client's maximum age makes B read it again even when no
//! notification ever arrives.
//! Needs the PostgreSQL at `KEYWARD_TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use keyward_testkit::{cluster::*, pg::TestDb, process::Proc, proxy::Proxy, remote::*};
use reqwest::{Method, StatusCode};
use serde_json::json;

const CLIENT: &str = "svc-silent";
/// Generous for a loaded two-core machine; the figures printed show the real times.
const DEADLINE: Duration = Duration::from_secs(25);
const HEARTBEAT_FAILED: &str = "change listener failed its heartbeat";
const RECONNECTED: &str = "change listener connected";

/// Node A straight on the database, node B through the proxy with `b_vars` set. The nodes are
/// declared first: they are killed before the proxy and the database go.
struct Silent {
    a: Node,
    b: Node,
    proxy: Proxy,
    _db: TestDb,
    http: reqwest::Client,
    secret: String,
}

impl Silent {
    async fn start(b_vars: &[(&str, &str)]) -> Self {
        let db = TestDb::create();
        let env = NodeEnv::new(&db.url);
        let proxy = Proxy::in_front_of(&db.url).await;
        let mut env_b = env.clone();
        env_b.set("KEYWARD_DATABASE_URL", &proxy.url_through(&db.url));
        // A dead pooled connection costs one request this long, then is replaced.
        env_b.set("KEYWARD_DATABASE_ACQUIRE_TIMEOUT_MS", "1000");
        for (k, v) in b_vars {
            env_b.set(k, v);
        }
        let a = start_nodes(&env, 1).pop().unwrap();
        let b = start_nodes(&env_b, 1).pop().unwrap();
        let http = http();
        let (_, secret) = create_client(
            &http,
            &a.base,
            json!({"client_id": CLIENT, "token_endpoint_auth_method": "client_secret_basic",
                "scope": "read"}),
        )
        .await;
        let s = Self {
            a,
            b,
            proxy,
            _db: db,
            http,
            secret,
        };
        // B has the client cached from here on.
        access_token(&s.token_on_b().await);
        s
    }

    async fn token_on_b(&self) -> (StatusCode, serde_json::Value) {
        token_basic(&self.http, &self.b.base, CLIENT, &self.secret).await
    }

    async fn disable_on_a(&self) {
        let (status, body) = admin(
            &self.http,
            &self.a.base,
            Method::PATCH,
            &format!("/admin/clients/{CLIENT}"),
            Some(json!({"enabled": false})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["enabled"], false, "{body}");
    }

    /// Polls B until it answers `401 invalid_client` for the disabled client; how long it took.
    async fn until_b_refuses(&self) -> Duration {
        let took = time_until(DEADLINE, || async {
            let (status, body) = self.token_on_b().await;
            assert!(
                matches!(status.as_u16(), 200 | 401 | 503),
                "B answered {status} {body}"
            );
            status == StatusCode::UNAUTHORIZED && body["error"] == "invalid_client"
        })
        .await;
        took.unwrap_or_else(|| panic!("B still does not refuse the disabled client after {DEADLINE:?}"))
    }
}

/// Waits for a line of `proc`'s log containing `text`; how long it took.
async fn log_line(proc: &Proc, text: &str) -> Option<Duration> {
    time_until(DEADLINE, || async { proc.stderr_text().contains(text) }).await
}

fn count(proc: &Proc, text: &str) -> usize {
    proc.stderr_lines().iter().filter(|l| l.contains(text)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dropped_node_stops_accepting_a_disabled_client_and_reconnects() {
    let _serial = serial().await;
    let s = Silent::start(&[
        ("KEYWARD_PG_LISTEN_HEARTBEAT_SECONDS", "1"),
        ("KEYWARD_CACHE_MAX_AGE_SECONDS", "2"),
    ])
    .await;
    let connected_before = count(&s.b.proc, RECONNECTED);

    s.proxy.drop_silently();
    s.disable_on_a().await;
    // While B reaches no database, its cached client ages out and cannot be read again: B
    // answers 503, never a token.
    let stopped = time_until(DEADLINE, || async { s.token_on_b().await.0 != StatusCode::OK })
        .await
        .expect("B kept issuing tokens to the disabled client");
    let (status, body) = s.token_on_b().await;
    assert!(matches!(status.as_u16(), 401 | 503), "B answered {status} {body}");
    let detected = log_line(&s.b.proc, HEARTBEAT_FAILED)
        .await
        .expect("B's listener never found its connection dead");

    s.proxy.forward_new();
    let refused = s.until_b_refuses().await;
    let reconnected = time_until(DEADLINE, || async {
        count(&s.b.proc, RECONNECTED) > connected_before
    })
    .await
    .expect("B's change feed did not reconnect");
    assert_eq!(healthz(&s.http, &s.b.base).await, StatusCode::OK);
    // And B still works for the clients that are enabled.
    access_token(&token_basic(&s.http, &s.b.base, "keyward-admin", ADMIN_SECRET).await);
    eprintln!(
        "[timing] dropped: B stopped issuing after {stopped:?} (heartbeat 1 s, max age 2 s), \
         heartbeat failure seen within {detected:?}; traffic back: B refused with 401 after \
         {refused:?}, feed reconnected within {reconnected:?}"
    );
    assert!(s
        .a
        .proc
        .stderr_lines()
        .iter()
        .all(|l| !l.contains(HEARTBEAT_FAILED)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_alone_heals_a_listener_that_died_silently() {
    let _serial = serial().await;
    // A maximum age of an hour: only the heartbeat can explain a refusal within seconds.
    let s = Silent::start(&[
        ("KEYWARD_PG_LISTEN_HEARTBEAT_SECONDS", "1"),
        ("KEYWARD_CACHE_MAX_AGE_SECONDS", "3600"),
    ])
    .await;
    let connected_before = count(&s.b.proc, RECONNECTED);

    // Every connection B has now is dead for good; new ones work.
    s.proxy.drop_silently();
    s.proxy.forward_new();
    // Announced to B's dead listening connection: never delivered.
    s.disable_on_a().await;
    let refused = s.until_b_refuses().await;
    // The log line may trail the refusal it explains; a connection that errors instead of
    // hanging is found dead by the same task.
    let found_dead = time_until(DEADLINE, || async {
        let log = s.b.proc.stderr_text();
        log.contains(HEARTBEAT_FAILED) || log.contains("change listener lost its connection")
    })
    .await;
    assert!(
        found_dead.is_some(),
        "B's listener never found its connection dead"
    );
    let reconnected = time_until(DEADLINE, || async {
        count(&s.b.proc, RECONNECTED) > connected_before
    })
    .await;
    assert!(reconnected.is_some(), "B's listener never reconnected");
    eprintln!("[timing] heartbeat 1 s, max age 3600 s: B refused the disabled client after {refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_max_age_alone_heals_a_node_that_hears_nothing() {
    let _serial = serial().await;
    // A heartbeat of a day: B's listener never finds out that its connection is dead.
    let s = Silent::start(&[
        ("KEYWARD_PG_LISTEN_HEARTBEAT_SECONDS", "86400"),
        ("KEYWARD_CACHE_MAX_AGE_SECONDS", "2"),
    ])
    .await;
    let connected_before = count(&s.b.proc, RECONNECTED);

    s.proxy.drop_silently();
    s.proxy.forward_new();
    s.disable_on_a().await;
    let refused = s.until_b_refuses().await;
    assert_eq!(count(&s.b.proc, HEARTBEAT_FAILED), 0);
    assert_eq!(
        count(&s.b.proc, RECONNECTED),
        connected_before,
        "the listener reconnected: the refusal proves nothing about the maximum age"
    );
    eprintln!("[timing] heartbeat 1 day, max age 2 s: B refused the disabled client after {refused:?}");
}
