//! Where claims wait for the async runtime to run out of ready work before they go to the
//! writer, so that one commit carries many of them.
//!
//! Why: a commit costs the same CPU whether it holds one claim or a hundred (the WAL fsync
//! submits the I/O from the committing thread), and on a busy single core that cost is the
//! biggest item after the signature check (BENCHMARKS.md). Were every claim to wake the idle
//! writer at once, the writer (on the same core) would run before the runtime had parsed the
//! next requests, and most commits would hold one or two claims.
//!
//! How: the first claim of a group spawns a flush task that first yields. Tokio runs a yielded
//! task only after the worker has polled its I/O driver, that is after every request that was
//! ready has been brought to its own claim; the flush then hands the whole group to the writer
//! as one job. A group never waits for a timer, and an idle server answers a lone claim after
//! one scheduler turn.

use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::writer::{Claim, Job};

/// A group this large goes to the writer at once rather than wait for the flush task.
const FLUSH_AT: usize = 256;

pub(super) struct Staging {
    claims: Mutex<Vec<Claim>>,
    /// The writer's queue.
    jobs: mpsc::Sender<Job>,
}

impl Staging {
    pub(super) fn new(jobs: mpsc::Sender<Job>) -> Self {
        Self {
            claims: Mutex::default(),
            jobs,
        }
    }

    /// Adds `claim` to the group. If the writer has stopped, the claims are dropped, and their
    /// callers learn it from the closed reply.
    pub(super) async fn push(self: &std::sync::Arc<Self>, claim: Claim) {
        let (first, full) = {
            let mut claims = self.claims.lock();
            claims.push(claim);
            match claims.len() {
                1 => (true, None),
                n if n >= FLUSH_AT => (false, Some(std::mem::take(&mut *claims))),
                _ => (false, None),
            }
        };
        if first {
            // Invariant: whenever the group is non-empty, a flush task spawned after it last
            // became non-empty has not yet taken it. A full group taken below leaves that
            // task with nothing (it then sends nothing) and the next claim spawns a new one.
            let staging = self.clone();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                staging.flush().await;
            });
        }
        if let Some(group) = full {
            let _ = self.jobs.send(Job::Claims(group)).await;
        }
    }

    async fn flush(&self) {
        let group = std::mem::take(&mut *self.claims.lock());
        if !group.is_empty() {
            let _ = self.jobs.send(Job::Claims(group)).await;
        }
    }
}
