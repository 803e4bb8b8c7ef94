//! The audit budget for refused admin tokens: at most `admin_reject_audit_per_minute` rows a
//! minute, so a flood of bad tokens cannot fill the database (see [`super::observe`]).

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The window the audit budget for refused tokens is counted in.
const WINDOW: Duration = Duration::from_secs(60);

/// How many refused tokens the audit log still takes this minute. Connection-level time (not
/// the injected clock): it bounds writes, it dates nothing.
pub(crate) struct RejectBudget {
    per_minute: u32,
    window: Mutex<Window>,
}

struct Window {
    started: Instant,
    written: u32,
    suppressed: u64,
}

impl RejectBudget {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            window: Mutex::new(Window {
                started: Instant::now(),
                written: 0,
                suppressed: 0,
            }),
        }
    }

    /// `true` if this refusal may be written to the audit log.
    pub(crate) fn take(&self) -> bool {
        let mut w = self.window.lock();
        let now = Instant::now();
        if now.duration_since(w.started) >= WINDOW {
            if w.suppressed > 0 {
                tracing::warn!(
                    suppressed = w.suppressed,
                    per_minute = self.per_minute,
                    "refused admin tokens beyond the audit budget were counted but not written to the audit log"
                );
            }
            *w = Window {
                started: now,
                written: 0,
                suppressed: 0,
            };
        }
        if w.written < self.per_minute {
            w.written += 1;
            true
        } else {
            w.suppressed += 1;
            false
        }
    }
}
