//! Helpers shared by the integration tests of the `keyward` binary: running it in a temporary
//! directory with its output collected, and talking to a running server over HTTP.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_keyward");
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
pub const LISTENING: &str = "keyward listening on ";
pub const CREATED_ADMIN: &str = "created admin client";

// --- Running the binary -----------------------------------------------------------------------

pub type Lines = Arc<Mutex<Vec<String>>>;

/// `keyward` in `dir`, with no `KEYWARD_*` variable inherited from the test's environment and
/// `KEYWARD_LISTEN=127.0.0.1:0`.
pub fn keyward(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("KEYWARD_")) {
            cmd.env_remove(key);
        }
    }
    cmd.env("KEYWARD_LISTEN", "127.0.0.1:0");
    cmd
}

/// A child process whose stdout and stderr are collected line by line by reader threads.
/// Dropping it kills the process, so a failing test never leaves a server behind.
pub struct Proc {
    pub child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
    pub readers: Vec<JoinHandle<()>>,
}

pub fn collect(source: impl Read + Send + 'static, into: Lines) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf)
                        .trim_end_matches(['\n', '\r'])
                        .to_owned();
                    into.lock().unwrap().push(line);
                }
            }
        }
    })
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Self {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn keyward");
        let stdout = Lines::default();
        let stderr = Lines::default();
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

    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the first line of `which` matching `pred`; panics (with the output so far)
    /// on timeout or when the process exits first.
    pub fn wait_line(&mut self, stream: &str, pred: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let which = if stream == "stdout" {
                &self.stdout
            } else {
                &self.stderr
            };
            if let Some(l) = which.lock().unwrap().iter().find(|l| pred(l)) {
                return l.clone();
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the readers drain what is left in the pipes, then look once more.
                self.join_readers();
                let which = if stream == "stdout" {
                    &self.stdout
                } else {
                    &self.stderr
                };
                if let Some(l) = which.lock().unwrap().iter().find(|l| pred(l)) {
                    return l.clone();
                }
                panic!(
                    "keyward exited ({status}) before the expected {stream} line\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.stdout_text(),
                    self.stderr_text()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "no expected {stream} line within {timeout:?}\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.stdout_text(),
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal by name (`TERM`, `INT`) with `kill(1)`.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} failed: {status}");
    }

    /// Waits for the process to exit, then for the readers to collect the rest of its output.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.join_readers();
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "keyward did not exit within {timeout:?}\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.stdout_text(),
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }

    /// SIGTERM, and the process must exit with status 0 within [`EXIT_TIMEOUT`].
    pub fn stop(&mut self) {
        self.signal("TERM");
        let status = self.wait_exit(EXIT_TIMEOUT);
        assert!(
            status.success(),
            "keyward exited with {status} on SIGTERM\n--- stderr:\n{}",
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

/// `http://HOST:PORT` from the "keyward listening on http://…" log line (text or JSON).
pub fn parse_base(line: &str) -> String {
    let at = line
        .find(LISTENING)
        .unwrap_or_else(|| panic!("not the listening line: {line}"));
    let rest = &line[at + LISTENING.len()..];
    let url = rest
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("listening line without http:// address: {line}"));
    let addr: String = url
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    let port = addr.rsplit(':').next().unwrap_or("");
    assert!(
        port.parse::<u16>().is_ok_and(|p| p != 0),
        "listening line names no real port: {line}"
    );
    format!("http://{addr}")
}

/// Starts `keyward … serve` and waits for the listening line; returns the process and base URL.
pub fn start(cmd: Command) -> (Proc, String) {
    let mut proc = Proc::spawn(cmd);
    let line = proc.wait_line("stderr", |l| l.contains(LISTENING), START_TIMEOUT);
    let base = parse_base(&line);
    (proc, base)
}

pub fn serve(dir: &Path) -> Command {
    let mut cmd = keyward(dir);
    cmd.arg("serve");
    cmd
}

// --- HTTP -------------------------------------------------------------------------------------

pub fn http() -> reqwest::Client {
    keyward_server::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub fn b64_encode(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, s) in sextets.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(A[*s as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn b64url_decode(input: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {input}"),
        }
    };
    let bytes: Vec<u8> = input.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        let full = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&full[..chunk.len().saturating_sub(1)]);
    }
    out
}

/// The JOSE header of a compact JWS.
pub fn jwt_header(token: &str) -> Value {
    let first = token.split('.').next().unwrap();
    serde_json::from_slice(&b64url_decode(first)).unwrap()
}

/// `POST /token` with `client_secret_basic` and `grant_type=client_credentials`.
pub async fn token_request(base: &str, client_id: &str, secret: &str) -> reqwest::Response {
    http()
        .post(format!("{base}/token"))
        .header(
            "Authorization",
            format!("Basic {}", b64_encode(format!("{client_id}:{secret}").as_bytes())),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// A successful token response's `access_token`.
pub async fn token(base: &str, client_id: &str, secret: &str) -> String {
    let resp = token_request(base, client_id, secret).await;
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 200, "token request for {client_id} failed: {body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

pub async fn admin_token(base: &str, secret: &str) -> String {
    token(base, "keyward-admin", secret).await
}

/// `POST /admin/clients` with `metadata`; asserts 201 and returns the created client (with its
/// `client_secret` for secret-based methods).
pub async fn create_client(base: &str, admin: &str, metadata: &Value) -> Value {
    let resp = http()
        .post(format!("{base}/admin/clients"))
        .bearer_auth(admin)
        .json(metadata)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn get_json(url: &str) -> Value {
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.unwrap()
}

pub const ADMIN_SECRET: &str = "admin-secret-0123456789abcdef";
