//! The `keyward` binary as a child process: a clean environment, output collected line by line,
//! the listening address read from its log, killed when dropped.

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// A finished command's status, stdout and stderr, for assertion messages.
pub use crate::tools::output_text;

/// How long a server may take to log that it listens (two cores shared by parallel tests).
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
pub const LISTENING: &str = "keyward listening on ";
/// The metrics listener's line, logged before [`LISTENING`].
pub const METRICS_LISTENING: &str = "keyward metrics on ";
pub const CREATED_ADMIN: &str = "created admin client";

/// The `keyward` binary cargo built for the running integration test: the test runs from
/// `target/<profile>/deps/`, the binaries of its package sit one level up.
pub fn keyward_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap();
    if dir.ends_with("deps") {
        dir = dir.parent().unwrap();
    }
    let bin = dir.join(format!("keyward{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} not found: only the keyward crate's own tests run the binary",
        bin.display()
    );
    bin
}

/// `keyward` in `dir`, with no `KEYWARD_*` variable inherited from the test's environment and
/// `KEYWARD_LISTEN=127.0.0.1:0`, `KEYWARD_METRICS_LISTEN=127.0.0.1:0` (parallel servers never
/// share a port; [`Proc::metrics_url`] finds the metrics one).
pub fn keyward(dir: &Path) -> Command {
    in_clean_env(Command::new(keyward_bin()), dir)
}

/// `keyward serve` as [`serve`] sets it up, started by a shell with the open-files soft limit
/// lowered to `soft` (as a typical login shell gives it).
pub fn serve_with_open_files(dir: &Path, soft: u64) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -Sn {soft} && exec \"$0\" serve"))
        .arg(keyward_bin());
    in_clean_env(cmd, dir)
}

fn in_clean_env(mut cmd: Command, dir: &Path) -> Command {
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("KEYWARD_")) {
            cmd.env_remove(key);
        }
    }
    cmd.env("KEYWARD_LISTEN", "127.0.0.1:0");
    cmd.env("KEYWARD_METRICS_LISTEN", "127.0.0.1:0");
    cmd
}

/// `keyward serve` in `dir`, as [`keyward`] sets it up.
pub fn serve(dir: &Path) -> Command {
    let mut cmd = keyward(dir);
    cmd.arg("serve");
    cmd
}

/// Starts `keyward … serve` and waits for the listening line; returns the process and base URL.
pub fn start(cmd: Command) -> (Proc, String) {
    let mut proc = Proc::spawn(cmd);
    let line = proc.wait_line(Stream::Stderr, |l| l.contains(LISTENING), START_TIMEOUT);
    let base = parse_base(&line);
    (proc, base)
}

/// `http://HOST:PORT` (or `https://` with TLS) from the "keyward listening on …" log line
/// (text or JSON).
pub fn parse_base(line: &str) -> String {
    base_after(line, LISTENING)
}

/// `http://HOST:PORT` that follows `marker` in a log line.
fn base_after(line: &str, marker: &str) -> String {
    let at = line
        .find(marker)
        .unwrap_or_else(|| panic!("not the listening line: {line}"));
    let rest = &line[at + marker.len()..];
    let (scheme, url) = ["http://", "https://"]
        .iter()
        .find_map(|s| rest.strip_prefix(s).map(|url| (*s, url)))
        .unwrap_or_else(|| panic!("listening line without http:// or https:// address: {line}"));
    let addr: String = url
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    let port = addr.rsplit(':').next().unwrap_or("");
    assert!(
        port.parse::<u16>().is_ok_and(|p| p != 0),
        "listening line names no real port: {line}"
    );
    format!("{scheme}{addr}")
}

pub type Lines = Arc<Mutex<Vec<String>>>;

/// Which output of a [`Proc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A child process whose stdout and stderr are collected line by line by reader threads.
/// Dropping it kills the process, so a failing test never leaves a server behind.
pub struct Proc {
    pub child: Child,
    stdout: Lines,
    stderr: Lines,
    readers: Vec<JoinHandle<()>>,
}

fn collect(source: impl Read + Send + 'static, into: Lines) -> JoinHandle<()> {
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

    fn lines(&self, stream: Stream) -> &Lines {
        match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
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

    fn find(&self, stream: Stream, pred: &impl Fn(&str) -> bool) -> Option<String> {
        self.lines(stream)
            .lock()
            .unwrap()
            .iter()
            .find(|l| pred(l))
            .cloned()
    }

    /// Waits for the first line of `stream` matching `pred`; panics (with the output so far)
    /// on timeout or when the process exits first.
    pub fn wait_line(&mut self, stream: Stream, pred: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.find(stream, &pred) {
                return l;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the readers drain what is left in the pipes, then look once more.
                self.join_readers();
                if let Some(l) = self.find(stream, &pred) {
                    return l;
                }
                panic!(
                    "keyward exited ({status}) before the expected {stream:?} line\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.stdout_text(),
                    self.stderr_text()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "no expected {stream:?} line within {timeout:?}\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.stdout_text(),
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://HOST:PORT/metrics` of the metrics listener, from its log line.
    pub fn metrics_url(&mut self) -> String {
        let line = self.wait_line(Stream::Stderr, |l| l.contains(METRICS_LISTENING), START_TIMEOUT);
        format!("{}/metrics", base_after(&line, METRICS_LISTENING))
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

    fn join_readers(&mut self) {
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
