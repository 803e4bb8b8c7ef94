//! What an in-process server logs, for tests that assert on log lines: one subscriber for the
//! whole test binary (tracing's global default), writing text lines as `keyward serve` does in
//! text mode into a buffer the test reads. Tests run in parallel and share it, so a test looks
//! for lines that carry its own ids.

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use parking_lot::Mutex;

/// Everything logged at info and above so far, as text.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }

    /// The lines that contain every one of `needles`.
    pub fn lines_with(&self, needles: &[&str]) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_owned)
            .collect()
    }

    /// Waits (up to 10 s: a line is written after the response may already have been read)
    /// for a line that contains every one of `needles`, and returns it.
    pub async fn wait_line(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.lines_with(needles).into_iter().next() {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needles:?}; the log:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Installs the capturing subscriber (once per test binary) and returns its buffer.
pub fn logs() -> Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_writer(move || writer.clone())
            .try_init()
            .unwrap();
        logs
    })
    .clone()
}
