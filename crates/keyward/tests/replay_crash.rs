//! The replay store of the real binary on SQLite survives a `kill -9`: every `client_secret_jwt`
//! assertion that got a 200 before the process was killed in the middle of a load is refused
//! after a restart on the same database, and no assertion gets a 200 twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    collections::HashMap,
    path::Path,
    process::Command,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use keyward_testkit::{
    jose::sign_hmac, process::*, rate_limit::MANY_AUTH_FAILURES_ENV, remote::*, JWT_BEARER,
};
use serde_json::{json, Value};

const ISSUER: &str = "http://keyward.test";
const CLIENT_ID: &str = "crash-jwt";
const ASSERTIONS: usize = 3_000;
const WORKERS: usize = 16;
/// Assertion lifetime: the whole test must end well inside it (see the check before phase 2).
const LIFETIME_SECS: i64 = 55;

/// What one `POST /token` came to.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// An HTTP answer: status and body (`Value::Null` if the body did not arrive).
    Answer(u16, Value),
    /// No status line: refused, reset, or cut by the kill.
    NoAnswer(String),
}

fn server(dir: &Path) -> Command {
    let mut cmd = serve(dir);
    cmd.env("KEYWARD_DATABASE_URL", format!("sqlite://{}/k.db", dir.display()))
        .env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
        .env("KEYWARD_ISSUER", ISSUER)
        // ES256 access tokens: cheaper to sign than RS256, so the load is bounded by the assertion
        // path and the replay writer, not by RSA.
        .env("KEYWARD_TOKEN_SIGNING_ALG", "ES256")
        // The resends after each restart are refused by the thousand from one address, on
        // purpose: the failure limiter must not answer them.
        .env(MANY_AUTH_FAILURES_ENV.0, MANY_AUTH_FAILURES_ENV.1);
    cmd
}

/// HS256 `client_secret_jwt` assertions with distinct jtis, `aud` = the issuer.
fn assertions(secret: &str, n: usize) -> (Vec<String>, i64) {
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let exp = now + LIFETIME_SECS;
    let header = json!({"alg": "HS256"});
    let run = keyward_types::random::uuid().unwrap().simple().to_string();
    let list = (0..n)
        .map(|i| {
            let claims = json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": ISSUER,
                "iat": now, "exp": exp, "jti": format!("crash-{run}-{i}")});
            sign_hmac(secret.as_bytes(), &header, &claims)
        })
        .collect();
    (list, exp)
}

async fn send(http: &reqwest::Client, base: &str, assertion: &str) -> Outcome {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    match http.post(format!("{base}/token")).form(&form).send().await {
        // The status line arrived: the server finished the request (for a 200, after the
        // replay entry was committed), even if the body is then cut off.
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = match resp.text().await {
                Ok(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
                Err(_) => Value::Null,
            };
            Outcome::Answer(status, body)
        }
        Err(e) => Outcome::NoAnswer(e.to_string()),
    }
}

/// Sends `assertions` from `WORKERS` concurrent tasks, each taking the next unsent one, until
/// all are sent or `stop` is set; returns the outcome of each one sent, by index.
async fn load(
    base: &str,
    assertions: &Arc<Vec<String>>,
    stop: &Arc<AtomicBool>,
    ok: &Arc<AtomicUsize>,
) -> HashMap<usize, Outcome> {
    let http = http();
    let next = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new(Mutex::new(HashMap::new()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (http, base, assertions) = (http.clone(), base.to_owned(), assertions.clone());
        let (next, stop, ok, outcomes) = (next.clone(), stop.clone(), ok.clone(), outcomes.clone());
        workers.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(assertion) = assertions.get(i) else {
                    break;
                };
                let outcome = send(&http, &base, assertion).await;
                if matches!(outcome, Outcome::Answer(200, _)) {
                    ok.fetch_add(1, Ordering::SeqCst);
                }
                outcomes.lock().unwrap().insert(i, outcome);
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.unwrap();
    }
    let outcomes = outcomes.lock().unwrap().clone();
    outcomes
}

fn is_invalid_client(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Answer(401, body) if body["error"] == "invalid_client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_accepted_assertion_is_accepted_again_after_a_kill_9() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();

    // --- A server, a client_secret_jwt client, the assertions --------------------------------
    let (mut first, base) = start(server(dir.path()));
    let (_, secret) = create_client(
        &http(),
        &base,
        json!({"client_id": CLIENT_ID, "scope": "read",
            "token_endpoint_auth_method": "client_secret_jwt"}),
    )
    .await;
    assert!(
        !secret.is_empty(),
        "no client_secret for a client_secret_jwt client"
    );
    let (assertions, exp) = assertions(&secret, ASSERTIONS);
    let assertions = Arc::new(assertions);

    // --- Phase 1: load, then SIGKILL with requests in flight ---------------------------------
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let phase1 = {
        let (base, assertions, stop, ok) = (base.clone(), assertions.clone(), stop.clone(), ok.clone());
        tokio::spawn(async move { load(&base, &assertions, &stop, &ok).await })
    };
    // At least 300 ms of load and 100 accepted assertions (a slow machine takes longer to get
    // there), but never so many that the load could run out before the kill (a fast one gets
    // through the first two thirds in less than 300 ms).
    let load_start = Instant::now();
    loop {
        let accepted = ok.load(Ordering::SeqCst);
        let elapsed = load_start.elapsed();
        if (elapsed >= Duration::from_millis(300) && accepted >= 100) || accepted >= ASSERTIONS * 2 / 3 {
            break;
        }
        assert!(
            elapsed < Duration::from_secs(10),
            "only {accepted} assertions accepted in 10 s of load\n--- stderr:\n{}",
            first.stderr_text()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL first, then stop the workers: whatever they had sent or were sending is cut.
    first.child.kill().unwrap();
    let killed_at = load_start.elapsed();
    stop.store(true, Ordering::SeqCst);
    first.wait_exit(EXIT_TIMEOUT);
    let before = phase1.await.unwrap();

    let accepted_before: Vec<usize> = before
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Answer(200, _)))
        .map(|(i, _)| *i)
        .collect();
    let cut: Vec<usize> = before
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::NoAnswer(_)))
        .map(|(i, _)| *i)
        .collect();
    let odd: Vec<_> = before
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Answer(200, _) | Outcome::NoAnswer(_)))
        .collect();
    assert!(odd.is_empty(), "answers other than 200 before the kill: {odd:?}");
    assert!(
        accepted_before.len() >= 50,
        "only {} assertions got a 200 before the kill",
        accepted_before.len()
    );
    assert!(
        before.len() < ASSERTIONS,
        "the load ran out before the kill: nothing was left in flight"
    );

    // --- Phase 2: restart on the same database, resend everything ----------------------------
    let (mut second, base) = start(server(dir.path()));
    let restarted = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let ok_after = Arc::new(AtomicUsize::new(0));
    let after = load(&base, &assertions, &stop, &ok_after).await;
    let resent_in = restarted.elapsed();
    // An expired assertion is refused with the same 401 as a replay: the resends must all have
    // been checked before `exp`, or a refusal would prove nothing.
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    assert!(
        now < exp - 5,
        "the resends ended too close to the assertions' expiry ({now} vs exp {exp})"
    );
    second.stop();

    assert_eq!(after.len(), ASSERTIONS, "every assertion was resent");
    let mut twice = Vec::new();
    let mut bad = Vec::new();
    for i in &accepted_before {
        let outcome = &after[i];
        if matches!(outcome, Outcome::Answer(200, _)) {
            twice.push(*i);
        } else if !is_invalid_client(outcome) {
            bad.push((*i, outcome.clone()));
        }
    }
    assert!(
        twice.is_empty(),
        "{} of {} assertions accepted before the kill were accepted again after the restart: {:?}",
        twice.len(),
        accepted_before.len(),
        &twice[..twice.len().min(20)]
    );
    assert!(
        bad.is_empty(),
        "accepted before the kill, then not refused with invalid_client: {:?}",
        &bad[..bad.len().min(20)]
    );
    // Everything else: a 200 (first use) or a 401 (its entry was committed before the kill but
    // the answer never arrived); nothing else, and never a 200 for one already accepted.
    let others: Vec<_> = after
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Answer(200, _)) && !is_invalid_client(o))
        .collect();
    assert!(
        others.is_empty(),
        "answers other than 200 or 401 invalid_client after the restart: {:?}",
        &others[..others.len().min(20)]
    );
    let fresh_after = after
        .values()
        .filter(|o| matches!(o, Outcome::Answer(200, _)))
        .count();
    assert_eq!(fresh_after, ok_after.load(Ordering::SeqCst));
    let cut_then_refused = cut.iter().filter(|i| is_invalid_client(&after[i])).count();
    let never_sent = ASSERTIONS - before.len();
    let never_sent_accepted = (0..ASSERTIONS)
        .filter(|i| !before.contains_key(i) && matches!(after[i], Outcome::Answer(200, _)))
        .count();
    assert_eq!(
        never_sent_accepted, never_sent,
        "an assertion never sent before the kill must be accepted on its first use"
    );
    assert_eq!(
        accepted_before.len() + fresh_after + cut_then_refused,
        ASSERTIONS,
        "each assertion got exactly one 200, or its entry was stored by the killed process"
    );
    eprintln!(
        "killed after {killed_at:?}: {} accepted, {} cut off ({} of them stored before the kill), \
         {never_sent} never sent; after the restart {fresh_after} accepted in {resent_in:?}; \
         whole test {:?}",
        accepted_before.len(),
        cut.len(),
        cut_then_refused,
        started.elapsed()
    );
}
