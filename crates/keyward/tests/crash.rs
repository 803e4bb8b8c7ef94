//! The real binary under mixed load — token requests with `client_secret_jwt` and
//! `private_key_jwt` assertions (a fresh `jti` each, one request in five replaying an earlier
//! one on purpose) and admin writes (client create and update, credential add) — killed with
//! SIGKILL 20 times at random moments and restarted on the same database each time, on SQLite
//! and on PostgreSQL. Afterwards every admin write that got a 2xx is there, no assertion got a
//! 200 twice (across restarts), and every start opened the database cleanly (`/healthz` 200).
//! The PostgreSQL test needs the server at `KEYWARD_TEST_DATABASE_URL`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use keyward_testkit::{
    cluster::{hs256_assertion, key_assertion, time_until, NodeEnv},
    fixtures::{ec_jwk, ec_key, ec_kid},
    pg::TestDb,
    process::{parse_base, Proc, Stream, EXIT_TIMEOUT, LISTENING, START_TIMEOUT},
    remote::*,
};
use reqwest::Method;
use serde_json::{json, Value};

const KILLS: usize = 20;
const TOKEN_WORKERS: u64 = 6;
/// Two writers at once: SQLite must serialize them without a `SQLITE_BUSY`.
const ADMIN_WORKERS: u64 = 2;
const REPLAY_EVERY: u64 = 5;
/// Load before each kill, at random within these bounds (ms).
const LOAD_MS: (u64, u64) = (300, 1500);
/// The assertions live 60 s; only those younger than this are replayed, so a refusal is the
/// replay check's and not the expiry's.
const REPLAYABLE: Duration = Duration::from_secs(40);
const HS_CLIENT: &str = "crash-hs";
const PK_CLIENT: &str = "crash-pk";

/// What one request came to.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Answer(u16, Value),
    /// No status line: refused, reset, or cut by the kill.
    NoAnswer,
}

async fn outcome(req: reqwest::RequestBuilder) -> Outcome {
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = match resp.text().await {
                Ok(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
                Err(_) => Value::Null,
            };
            Outcome::Answer(status, body)
        }
        Err(_) => Outcome::NoAnswer,
    }
}

/// Everything the workers saw, across every run of the server.
#[derive(Default)]
struct Ledger {
    /// Assertions sent, with when they were made.
    sent: Vec<(String, Instant)>,
    /// 200s per assertion.
    accepted: HashMap<String, usize>,
    replays_sent: usize,
    /// Replays answered 401 (an assertion whose first use was cut by a kill may get its one
    /// 200 on a replay).
    replays_refused: usize,
    cut: usize,
    /// Answers that break a rule, with what was asked.
    unexpected: Vec<String>,
    /// Clients whose creation got a 201, by the worker that made them.
    created: Vec<(u64, String)>,
    /// Highest acknowledged `client_name` sequence number per client.
    named: HashMap<String, u64>,
    /// Credentials whose addition got a 201: (client, credential id).
    credentials: Vec<(String, String)>,
    /// Clients a credential was sent for (acknowledged or not): never sent one again.
    credential_tried: Vec<String>,
    writes_acked: usize,
}

/// What an acknowledged admin write adds to the ledger, given the response body.
type Record = Box<dyn FnOnce(&mut Ledger, &Value) + Send>;

struct Shared {
    ledger: Mutex<Ledger>,
    hs_secret: String,
    seq: AtomicU64,
}

impl Shared {
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst)
    }
}

/// A number in `0..n` from the OS CSPRNG.
fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    keyward_types::random::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % n.max(1)
}

/// The server as a process on `dir`, restarted on the same database each time.
struct Target {
    env: NodeEnv,
    dir: tempfile::TempDir,
    _db: Option<TestDb>,
}

impl Target {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut env = NodeEnv::new(&format!("sqlite://{}/keyward.db", dir.path().display()));
        // Replays are refused by the hundred from one address, on purpose.
        env.allow_many_auth_failures();
        Self { env, dir, _db: None }
    }

    fn postgres() -> Self {
        let db = TestDb::create();
        let mut env = NodeEnv::new(&db.url);
        env.allow_many_auth_failures();
        Self {
            env,
            dir: tempfile::tempdir().unwrap(),
            _db: Some(db),
        }
    }

    /// Starts the server and waits until it listens and `/healthz` answers 200.
    async fn start(&self) -> (Proc, String) {
        let mut proc = Proc::spawn(self.env.command(self.dir.path(), &["serve"]));
        let line = proc.wait_line(Stream::Stderr, |l| l.contains(LISTENING), START_TIMEOUT);
        let base = parse_base(&line);
        let http = http();
        let healthy = time_until(Duration::from_secs(10), || async {
            healthz(&http, &base).await == 200
        })
        .await;
        assert!(
            healthy.is_some(),
            "the server did not become healthy after a restart\n--- stderr:\n{}",
            proc.stderr_text()
        );
        (proc, base)
    }
}

async fn token_worker(shared: Arc<Shared>, base: String, stop: Arc<AtomicBool>) {
    let http = http();
    let (key, kid) = (ec_key(), ec_kid());
    while !stop.load(Ordering::SeqCst) {
        let n = shared.next();
        let replay = if n.is_multiple_of(REPLAY_EVERY) {
            let ledger = shared.ledger.lock().unwrap();
            let young: Vec<&String> = ledger
                .sent
                .iter()
                .filter(|(_, at)| at.elapsed() < REPLAYABLE)
                .map(|(a, _)| a)
                .collect();
            (!young.is_empty()).then(|| young[random_below(young.len() as u64) as usize].clone())
        } else {
            None
        };
        let fresh = replay.is_none();
        let made = Instant::now();
        let assertion = replay.unwrap_or_else(|| {
            if n.is_multiple_of(2) {
                hs256_assertion(&shared.hs_secret, HS_CLIENT)
            } else {
                key_assertion(&key, &kid, PK_CLIENT).0
            }
        });
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", keyward_testkit::JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ];
        let answer = outcome(http.post(format!("{base}/token")).form(&form)).await;
        let mut ledger = shared.ledger.lock().unwrap();
        if fresh {
            // A candidate for replays only once its first use is answered (or cut).
            ledger.sent.push((assertion.clone(), made));
        } else {
            ledger.replays_sent += 1;
        }
        match answer {
            Outcome::Answer(200, _) => *ledger.accepted.entry(assertion).or_default() += 1,
            Outcome::Answer(401, body) if !fresh && body["error"] == "invalid_client" => {
                ledger.replays_refused += 1;
            }
            Outcome::NoAnswer => ledger.cut += 1,
            Outcome::Answer(status, body) => ledger.unexpected.push(format!(
                "token (fresh: {fresh}, {}): {status} {body}",
                if n.is_multiple_of(2) { HS_CLIENT } else { PK_CLIENT }
            )),
        }
    }
}

/// Creates clients, renames its own, adds a credential to its own key clients.
async fn admin_worker(shared: Arc<Shared>, worker: u64, base: String, token: String, stop: Arc<AtomicBool>) {
    let http = http();
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let (mine, untried) = {
            let l = shared.ledger.lock().unwrap();
            let mine: Vec<String> = l
                .created
                .iter()
                .filter(|(w, _)| *w == worker)
                .map(|(_, id)| id.clone())
                .collect();
            let untried: Vec<String> = mine
                .iter()
                .filter(|id| !l.credential_tried.contains(id))
                .cloned()
                .collect();
            (mine, untried)
        };
        let op = n % 3;
        let (what, req, record): (String, _, Record) = if op == 1 && !mine.is_empty() {
            let id = mine[random_below(mine.len() as u64) as usize].clone();
            let seq = shared.next();
            let req = http
                .patch(format!("{base}/admin/clients/{id}"))
                .json(&json!({"client_name": format!("name-{seq}")}));
            let record = Box::new(move |l: &mut Ledger, _: &Value| {
                let e = l.named.entry(id).or_default();
                *e = (*e).max(seq);
            });
            (format!("update {seq}"), req, record)
        } else if op == 2 && !untried.is_empty() {
            let id = untried[0].clone();
            shared.ledger.lock().unwrap().credential_tried.push(id.clone());
            let req = http
                .post(format!("{base}/admin/clients/{id}/credentials"))
                .json(&json!({"format": "jwk", "data": ec_jwk().to_string()}));
            let record = Box::new(move |l: &mut Ledger, body: &Value| {
                let cred = body["credentials"][0]["id"].as_str().unwrap().to_owned();
                l.credentials.push((id, cred));
            });
            (format!("credential add for {}", untried[0]), req, record)
        } else {
            let id = format!("crash-w{worker}-{}", shared.next());
            let req = http.post(format!("{base}/admin/clients")).json(&json!({
                "client_id": id, "scope": "read",
                "token_endpoint_auth_method": "private_key_jwt"}));
            let record = Box::new(move |l: &mut Ledger, _: &Value| l.created.push((worker, id)));
            ("create".to_owned(), req, record)
        };
        let answer = outcome(req.bearer_auth(&token)).await;
        let mut ledger = shared.ledger.lock().unwrap();
        match answer {
            Outcome::Answer(status, body) if (200..300).contains(&status) => {
                ledger.writes_acked += 1;
                record(&mut ledger, &body);
            }
            Outcome::NoAnswer => ledger.cut += 1,
            Outcome::Answer(status, body) => ledger.unexpected.push(format!("{what}: {status} {body}")),
        }
    }
}

/// One run: load for a random time, then SIGKILL with requests in flight.
async fn load_then_kill(shared: &Arc<Shared>, proc: &mut Proc, base: &str) {
    let token = admin_token(&http(), base).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..TOKEN_WORKERS {
        workers.spawn(token_worker(shared.clone(), base.to_owned(), stop.clone()));
    }
    for w in 0..ADMIN_WORKERS {
        workers.spawn(admin_worker(
            shared.clone(),
            w,
            base.to_owned(),
            token.clone(),
            stop.clone(),
        ));
    }
    let load = LOAD_MS.0 + random_below(LOAD_MS.1 - LOAD_MS.0);
    tokio::time::sleep(Duration::from_millis(load)).await;
    // SIGKILL first, then stop the workers: whatever they were sending is cut.
    proc.child.kill().unwrap();
    proc.wait_exit(EXIT_TIMEOUT);
    stop.store(true, Ordering::SeqCst);
    while let Some(r) = workers.join_next().await {
        r.unwrap();
    }
}

/// After the last restart: every acknowledged write is there, every accepted assertion is
/// spent.
async fn check(shared: &Shared, base: &str) {
    let http = http();
    let token = admin_token(&http, base).await;
    let (created, named, credentials, accepted, young) = {
        let l = shared.ledger.lock().unwrap();
        let accepted: Vec<String> = l.accepted.keys().cloned().collect();
        let young: Vec<String> = l
            .sent
            .iter()
            .filter(|(a, at)| at.elapsed() < REPLAYABLE && l.accepted.contains_key(a))
            .map(|(a, _)| a.clone())
            .collect();
        (
            l.created.clone(),
            l.named.clone(),
            l.credentials.clone(),
            accepted,
            young,
        )
    };
    for (_, id) in &created {
        let (status, body) = admin_as(
            &http,
            base,
            &token,
            Method::GET,
            &format!("/admin/clients/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "acknowledged client {id} is missing: {body}");
        if let Some(seq) = named.get(id) {
            let stored: u64 = body["client_name"]
                .as_str()
                .and_then(|n| n.strip_prefix("name-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("client {id} lost its acknowledged name {seq}: {body}"));
            assert!(
                stored >= *seq,
                "client {id}: name-{stored} stored, name-{seq} was acknowledged"
            );
        }
    }
    for (id, cred) in &credentials {
        let path = format!("/admin/clients/{id}/credentials");
        let (status, body) = admin_as(&http, base, &token, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == cred.as_str()),
            "acknowledged credential {cred} of {id} is missing: {body}"
        );
    }
    for a in &young {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", keyward_testkit::JWT_BEARER),
            ("client_assertion", a.as_str()),
        ];
        let (status, body) = match outcome(http.post(format!("{base}/token")).form(&form)).await {
            Outcome::Answer(s, b) => (s, b),
            Outcome::NoAnswer => panic!("no answer from the final server"),
        };
        assert_eq!(status, 401, "an accepted assertion was accepted again: {body}");
    }
    assert!(
        !accepted.is_empty() && !created.is_empty() && !credentials.is_empty(),
        "the load did too little: {} accepted, {} created, {} credentials",
        accepted.len(),
        created.len(),
        credentials.len()
    );
}

async fn survives_kills(target: Target, backend: &str) {
    let started = Instant::now();
    let http = http();
    let (mut proc, mut base) = target.start().await;
    let (_, hs_secret) = create_client(
        &http,
        &base,
        json!({"client_id": HS_CLIENT, "scope": "read", "token_endpoint_auth_method": "client_secret_jwt"}),
    )
    .await;
    create_client(
        &http,
        &base,
        json!({"client_id": PK_CLIENT, "scope": "read", "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [ec_jwk()]}}),
    )
    .await;
    let shared = Arc::new(Shared {
        ledger: Mutex::default(),
        hs_secret,
        seq: AtomicU64::new(1),
    });
    for _ in 0..KILLS {
        load_then_kill(&shared, &mut proc, &base).await;
        // The same database; a new port each time.
        (proc, base) = target.start().await;
    }
    check(&shared, &base).await;
    proc.stop();

    let l = shared.ledger.lock().unwrap();
    assert!(
        l.unexpected.is_empty(),
        "unexpected answers: {:?}",
        &l.unexpected[..l.unexpected.len().min(20)]
    );
    let twice: Vec<_> = l.accepted.values().filter(|n| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} assertions were accepted more than once",
        twice.len()
    );
    assert!(l.replays_refused > 0, "no replay was refused");
    eprintln!(
        "[crash] {backend}: {KILLS} kills, {} starts all healthy; {} admin writes acknowledged \
         ({} clients, {} renames, {} credentials), all present; {} assertions accepted, none twice; \
         {} replays sent, {} refused; {} requests cut by a kill; {:?} in all",
        KILLS + 1,
        l.writes_acked,
        l.created.len(),
        l.named.len(),
        l.credentials.len(),
        l.accepted.len(),
        l.replays_sent,
        l.replays_refused,
        l.cut,
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_kill_9_under_mixed_load() {
    survives_kills(Target::sqlite(), "SQLite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_kill_9_under_mixed_load() {
    survives_kills(Target::postgres(), "PostgreSQL").await;
}
