//! Running `keyward` processes: output collected line by line, killed when dropped.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use super::{ADMIN_SECRET, BIN, ISSUER, LISTENING, START_TIMEOUT};

// --- Processes --------------------------------------------------------------------------------

type Lines = Arc<Mutex<Vec<String>>>;

fn collect(source: impl Read + Send + 'static, into: Lines) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut buf = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf).trim_end().to_owned());
            buf.clear();
        }
    })
}

/// A child with stdout and stderr collected line by line; dropping it kills the process.
pub struct Proc {
    pub child: Child,
    stdout: Lines,
    stderr: Lines,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Self {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn keyward");
        let (stdout, stderr) = (Lines::default(), Lines::default());
        let readers = vec![
            collect(child.stdout.take().unwrap(), stdout.clone()),
            collect(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Self {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    pub fn stdout_text(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// The first stderr line matching `pred`; panics with the output on timeout or exit.
    pub fn wait_stderr(&mut self, pred: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.stderr.lock().unwrap().iter().find(|l| pred(l)) {
                return l.clone();
            }
            let exited = self.child.try_wait().unwrap();
            if exited.is_some() || Instant::now() >= deadline {
                self.join_readers_if_exited();
                panic!(
                    "keyward: no expected log line (exit: {exited:?})\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.stdout_text(),
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn join_readers_if_exited(&mut self) {
        if self.child.try_wait().is_ok_and(|s| s.is_some()) {
            for r in self.readers.drain(..) {
                let _ = r.join();
            }
        }
    }

    /// Waits for the exit, then for the rest of the output.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.join_readers_if_exited();
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "keyward did not exit within {timeout:?}\n--- stderr:\n{}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM; the process must exit with status 0.
    pub fn stop(&mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = self.wait_exit(Duration::from_secs(15));
        assert!(
            status.success(),
            "keyward exited with {status}\n{}",
            self.stderr_text()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The settings every node of one cluster shares.
#[derive(Clone)]
pub struct NodeEnv {
    pub vars: Vec<(String, String)>,
}

pub fn random_key() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
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

    pub fn remove(&mut self, key: &str) {
        self.vars.retain(|(k, _)| k != key);
    }

    /// `keyward ARGS…` with these variables (and no inherited `KEYWARD_*`), in `dir`, whose
    /// path is the data dir unless the variables name one.
    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir).args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(|k| k.starts_with("KEYWARD_")) {
                cmd.env_remove(key);
            }
        }
        cmd.env("KEYWARD_LISTEN", "127.0.0.1:0")
            .env("KEYWARD_DATA_DIR", dir);
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

fn parse_base(line: &str) -> String {
    let at = line.find(LISTENING).unwrap() + LISTENING.len();
    let addr: String = line[at..]
        .trim_start_matches("http://")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':'))
        .collect();
    format!("http://{addr}")
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
            let line = proc.wait_stderr(|l| l.contains(LISTENING), START_TIMEOUT);
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
