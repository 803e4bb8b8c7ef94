//! What the load saw in one reporting window: latencies, successes, and every failure by kind.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex, PoisonError,
    },
    time::Duration,
};

/// How one request ended.
pub(crate) enum Outcome {
    /// A 2xx response, body read.
    Ok,
    /// Any other status: always a failure in this run.
    Status(u16),
    /// No response: timeout, refused connection, broken body, or the request could not be made.
    Transport(&'static str),
}

impl Outcome {
    pub(crate) fn of(result: Result<u16, reqwest::Error>) -> Self {
        if let Err(e) = &result {
            explain(e);
        }
        match result {
            Ok(s) if (200..300).contains(&s) => Self::Ok,
            Ok(s) => Self::Status(s),
            Err(e) if e.is_timeout() => Self::Transport("timeout"),
            Err(e) if e.is_connect() => Self::Transport("connect"),
            Err(e) if e.is_body() || e.is_decode() => Self::Transport("body"),
            Err(_) => Self::Transport("request"),
        }
    }
}

/// Transport errors whose whole cause chain goes to stderr: enough to tell a timeout on a
/// busy machine from a connection the server closed under a request.
const EXPLAINED: usize = 50;

fn explain(e: &reqwest::Error) {
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    if SEEN.fetch_add(1, Ordering::Relaxed) >= EXPLAINED {
        return;
    }
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("transport error: {chain}");
}

/// One window's figures. Latencies are in microseconds, from the time a request was due (not
/// when it was sent), so a stalled server shows as latency rather than as a lower rate.
#[derive(Default)]
pub(crate) struct Window {
    pub(crate) token_latencies_us: Vec<u32>,
    pub(crate) token_ok: u64,
    pub(crate) token_non2xx: u64,
    pub(crate) transport_errors: u64,
    pub(crate) admin_ok: u64,
    pub(crate) admin_failed: u64,
    pub(crate) admin_latencies_us: Vec<u32>,
    /// Failures by kind, e.g. `private_key_jwt 401`, `basic timeout`, `admin create 500`.
    pub(crate) kinds: BTreeMap<String, u64>,
}

impl Window {
    pub(crate) fn token_requests(&self) -> u64 {
        self.token_ok + self.token_non2xx
    }

    pub(crate) fn failures(&self) -> u64 {
        self.token_non2xx + self.transport_errors + self.admin_failed
    }

    /// `kind count; kind count` or `-`.
    pub(crate) fn kinds_text(&self) -> String {
        if self.kinds.is_empty() {
            return "-".to_owned();
        }
        let parts: Vec<String> = self.kinds.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        parts.join("; ")
    }

    fn fail(&mut self, who: &str, outcome: &Outcome) {
        let kind = match outcome {
            Outcome::Ok => return,
            Outcome::Status(s) => format!("{who} {s}"),
            Outcome::Transport(t) => format!("{who} {t}"),
        };
        *self.kinds.entry(kind).or_default() += 1;
    }
}

/// Shared by every request task; the reporter takes the window at each boundary.
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Window>);

impl Recorder {
    pub(crate) fn token(&self, method: &str, outcome: &Outcome, latency: Duration) {
        let mut w = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match outcome {
            Outcome::Ok => w.token_ok += 1,
            Outcome::Status(_) => w.token_non2xx += 1,
            Outcome::Transport(_) => w.transport_errors += 1,
        }
        if !matches!(outcome, Outcome::Transport(_)) {
            w.token_latencies_us.push(micros(latency));
        }
        w.fail(method, outcome);
    }

    pub(crate) fn admin(&self, op: &str, outcome: &Outcome, latency: Duration) {
        let mut w = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match outcome {
            Outcome::Ok => w.admin_ok += 1,
            _ => w.admin_failed += 1,
        }
        w.admin_latencies_us.push(micros(latency));
        w.fail(&format!("admin {op}"), outcome);
    }

    pub(crate) fn take(&self) -> Window {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// The `pct` percentile (nearest rank) in milliseconds; sorts `v`. 0 for no samples.
pub(crate) fn percentile_ms(v: &mut [u32], pct: u64) -> f64 {
    v.sort_unstable();
    let n = u64::try_from(v.len()).unwrap_or(u64::MAX);
    if n == 0 {
        return 0.0;
    }
    let rank = (n * pct).div_ceil(100).clamp(1, n) - 1;
    let at = usize::try_from(rank)
        .ok()
        .and_then(|i| v.get(i))
        .copied()
        .unwrap_or(0);
    f64::from(at) / 1000.0
}
