//! Several `keyward serve` processes on one fresh PostgreSQL database, sharing their secrets, and
//! the client assertions the multi-node tests send them.

use std::{
    future::Future,
    path::Path,
    process::{Command, ExitStatus},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_jose::SigningKey;
use serde_json::{json, Value};

use crate::{
    jose::{assertion_claims, sign_hmac, sign_jws},
    pg::TestDb,
    process::{keyward, parse_base, Proc, Stream, LISTENING, START_TIMEOUT},
    remote::{http, ADMIN_SECRET},
};

/// The issuer every node of a cluster names (the `aud` of the assertions they accept).
pub const ISSUER: &str = "http://keyward.test";

/// The timing assertions (within 1 s) must not compete with another test's nodes for the two
/// cores, so the tests of one binary run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// 32 random bytes, base64url: a pepper or key-encryption key.
pub fn random_key() -> String {
    let mut bytes = [0u8; 32];
    keyward_types::random::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The settings every node of one cluster shares.
#[derive(Clone)]
pub struct NodeEnv {
    pub vars: Vec<(String, String)>,
}

impl NodeEnv {
    /// Shared pepper, key-encryption key, issuer and admin secret for `database_url`; JWKS URLs
    /// on loopback http allowed, and an unknown `kid` refetches at most once an hour, so that
    /// only a cache clear makes a node see a changed key set.
    pub fn new(database_url: &str) -> Self {
        let vars = [
            ("KEYWARD_DATABASE_URL", database_url.to_owned()),
            ("KEYWARD_PEPPER", random_key()),
            ("KEYWARD_KEY_ENCRYPTION_KEY", random_key()),
            ("KEYWARD_ISSUER", ISSUER.to_owned()),
            ("KEYWARD_ADMIN_SECRET", ADMIN_SECRET.to_owned()),
            ("KEYWARD_TOKEN_SIGNING_ALG", "ES256".to_owned()),
            ("KEYWARD_LOG", "info".to_owned()),
            ("KEYWARD_JWKS_ALLOW_HTTP", "true".to_owned()),
            ("KEYWARD_JWKS_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
            ("KEYWARD_JWKS_REFETCH_COOLDOWN", "3600".to_owned()),
        ];
        Self {
            vars: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_owned(), value.to_owned()));
    }

    /// Raises the failure limiter's burst (see [`crate::rate_limit::MANY_AUTH_FAILURES`]): for
    /// tests whose replays are refused by the hundred from one address.
    pub fn allow_many_auth_failures(&mut self) {
        let (key, value) = crate::rate_limit::MANY_AUTH_FAILURES_ENV;
        self.set(key, value);
    }

    pub fn remove(&mut self, key: &str) {
        self.vars.retain(|(k, _)| k != key);
    }

    /// `keyward ARGS…` with these variables (and no inherited `KEYWARD_*`), in `dir`, whose
    /// path is the data dir unless the variables name one.
    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = keyward(dir);
        cmd.args(args).env("KEYWARD_DATA_DIR", dir);
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs a command to its end (30 s at most); its exit status and output.
    pub fn run(&self, dir: &Path, args: &[&str]) -> (ExitStatus, Proc) {
        let mut p = Proc::spawn(self.command(dir, args));
        (p.wait_exit(START_TIMEOUT), p)
    }
}

/// One `keyward serve` process and its base URL.
pub struct Node {
    pub proc: Proc,
    pub base: String,
    pub dir: tempfile::TempDir,
}

/// Starts `n` nodes at the same moment (all run migrations at once); waits until each listens.
pub fn start_nodes(env: &NodeEnv, n: usize) -> Vec<Node> {
    let spawned: Vec<_> = (0..n)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            (Proc::spawn(env.command(dir.path(), &["serve"])), dir)
        })
        .collect();
    spawned
        .into_iter()
        .map(|(mut proc, dir)| {
            let line = proc.wait_line(Stream::Stderr, |l| l.contains(LISTENING), START_TIMEOUT);
            Node {
                proc,
                base: parse_base(&line),
                dir,
            }
        })
        .collect()
}

impl Drop for Node {
    /// A failing test shows what the node logged.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.proc.stderr_text();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- node {} log tail:", self.base);
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// Two nodes on one fresh database. The nodes are declared first: they are killed before the
/// database is dropped.
pub struct Cluster {
    pub a: Node,
    pub b: Node,
    pub env: NodeEnv,
    pub db: TestDb,
    pub http: reqwest::Client,
}

impl Cluster {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Two nodes whose shared settings `tune` may change before they start.
    pub async fn start_with(tune: impl FnOnce(&mut NodeEnv)) -> Self {
        let db = TestDb::create();
        let mut env = NodeEnv::new(&db.url);
        tune(&mut env);
        let mut nodes = start_nodes(&env, 2);
        let b = nodes.pop().unwrap();
        let a = nodes.pop().unwrap();
        Self {
            a,
            b,
            env,
            db,
            http: http(),
        }
    }
}

/// Polls `check` every 50 ms until it holds; the time it took, or `None` after `limit`.
pub async fn time_until<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Assertion claims for `client_id` with `aud` = [`ISSUER`], 60 s from the wall clock (the
/// nodes run on it); returns them and their jti.
fn claims(client_id: &str) -> (Value, String) {
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let claims = assertion_claims(client_id, ISSUER, now, 60);
    let jti = claims["jti"].as_str().unwrap().to_owned();
    (claims, jti)
}

/// A `private_key_jwt` assertion signed by `key` with header `{alg, kid}`; returns it and its jti.
pub fn key_assertion(key: &SigningKey, kid: &str, client_id: &str) -> (String, String) {
    let (claims, jti) = claims(client_id);
    let header = json!({"alg": key.alg().as_str(), "kid": kid});
    (sign_jws(key, &header, &claims), jti)
}

/// A `client_secret_jwt` assertion, HS256 with the client secret.
pub fn hs256_assertion(secret: &str, client_id: &str) -> String {
    sign_hmac(secret.as_bytes(), &json!({"alg": "HS256"}), &claims(client_id).0)
}
