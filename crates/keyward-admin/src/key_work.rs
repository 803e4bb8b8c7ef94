//! Keystore imports and key generation, run so that no upload can end, stall or starve the
//! server (DESIGN.md "Hostile input"):
//!
//! - **Off the request threads**: the work runs on the blocking pool, where a second of PBKDF2
//!   or RSA-4096 generation does not hold up `/token`.
//! - **Few at a time**: at most [`PERMITS`] jobs run at once, imports and generation together,
//!   so hostile uploads can occupy at most that many cores. A request waits up to [`WAIT`] for
//!   a free slot (honest bursts, such as a script generating a few keys, get through), then is
//!   answered `503` with `Retry-After`. A slot is held until the work really ends, not just
//!   until its request is answered.
//! - **Stopped when abandoned**: a closed connection drops the request future, which cancels the
//!   job's [`WorkBudget`]; the import stops before its next key derivation.
//! - **Isolated**: a panic in a dependency is caught where the job runs and becomes that
//!   request's error (`400 broken_file` for an import, `500` for generation) and a log line.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use keyward_keys::{KeyError, WorkBudget};
use tokio::sync::Semaphore;

use crate::error::{AdminError, KeyRule};

/// Jobs that may run at once on one node.
pub const PERMITS: usize = 2;
/// How long a request waits for a slot before it is answered `503`.
pub const WAIT: Duration = Duration::from_secs(5);
/// What `Retry-After` advises: about the time the worst allowed job takes.
const RETRY_AFTER_SECS: u64 = 2;

/// The node's slots for key work; one per node, in its [`crate::AdminOps`].
pub struct KeyWork {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl Default for KeyWork {
    fn default() -> Self {
        Self::new(PERMITS, WAIT)
    }
}

/// Why a job produced no result of its own.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// Every slot stayed taken for the whole wait.
    Busy,
    /// The job panicked (logged where it was caught).
    Panicked,
}

impl KeyWork {
    pub fn new(permits: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(permits)),
            wait,
        }
    }

    /// Runs `job` on the blocking pool in a slot, under a fresh [`WorkBudget`] that is
    /// cancelled if the caller's future is dropped. `what` names the job in the log.
    pub(crate) async fn run<T, F>(&self, what: &'static str, job: F) -> Result<Result<T, KeyError>, Stopped>
    where
        T: Send + 'static,
        F: FnOnce(&WorkBudget) -> Result<T, KeyError> + Send + 'static,
    {
        let slot = match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => slot,
            // Timed out, or the semaphore was closed (it never is).
            _ => {
                tracing::warn!(job = what, "all key-work slots stayed busy; answered 503");
                return Err(Stopped::Busy);
            }
        };
        let work = WorkBudget::new();
        let _cancel_on_drop = CancelOnDrop(work.clone());
        let joined = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            // The job owns its inputs and shares nothing with the server, so nothing it
            // leaves behind is observed after an unwind.
            std::panic::catch_unwind(AssertUnwindSafe(|| job(&work)))
        })
        .await;
        match joined {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(payload)) => {
                metrics::counter!("keyward_panics_total").increment(1);
                tracing::error!(
                    job = what,
                    panic = %panic_message(payload.as_ref()),
                    "key work panicked in a dependency; the request failed, the process continues"
                );
                Err(Stopped::Panicked)
            }
            Err(e) => {
                tracing::error!(job = what, error = %e, "key work did not finish");
                Err(Stopped::Panicked)
            }
        }
    }
}

/// Cancels the job's budget when the request future goes away (or finishes: by then the job
/// has ended and the flag is never read again).
struct CancelOnDrop(WorkBudget);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Stopped {
    /// The answer for an import: a reader that panicked could not read the file.
    pub(crate) fn for_import(self) -> AdminError {
        match self {
            Stopped::Busy => busy(),
            Stopped::Panicked => KeyRule::BrokenFile.into(),
        }
    }

    /// The answer for generation: a panic there is the server's fault.
    pub(crate) fn for_generation(self) -> AdminError {
        match self {
            Stopped::Busy => busy(),
            Stopped::Panicked => AdminError::GenerationPanicked,
        }
    }
}

fn busy() -> AdminError {
    AdminError::Busy {
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

/// Longest panic message kept in a log line.
const MAX_PANIC_CHARS: usize = 200;

/// A panic payload as text for the log (a dependency panics with `&str` or `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-text panic payload)");
    text.chars().take(MAX_PANIC_CHARS).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[tokio::test]
    async fn a_panicking_job_is_caught_and_reported() {
        let work = KeyWork::default();
        let result = work
            .run("test", |_| -> Result<(), KeyError> {
                panic!("should always fit")
            })
            .await;
        assert!(matches!(result, Err(Stopped::Panicked)));
        // The slot came back: the next job runs.
        let again = work.run("test", |_| Ok(7)).await;
        assert_eq!(again.unwrap(), Ok(7));
    }

    #[tokio::test]
    async fn a_job_waits_for_a_slot_then_is_refused_as_busy() {
        let work = Arc::new(KeyWork::new(1, Duration::from_millis(50)));
        let (release, released) = mpsc::channel::<()>();
        let (started, has_started) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let work = work.clone();
            tokio::spawn(async move {
                work.run("holder", move |_| {
                    let _ = started.send(());
                    released.recv().map_err(|_| KeyError::Cancelled)
                })
                .await
            })
        };
        has_started.await.unwrap();
        let refused = work.run("second", |_| Ok(())).await;
        assert!(matches!(refused, Err(Stopped::Busy)));
        release.send(()).unwrap();
        assert_eq!(holder.await.unwrap().unwrap(), Ok(()));
        assert_eq!(work.run("third", |_| Ok(1)).await.unwrap(), Ok(1));
    }

    #[tokio::test]
    async fn dropping_the_request_cancels_the_budget() {
        let work = Arc::new(KeyWork::default());
        let (seen, saw) = mpsc::channel::<bool>();
        let (started, has_started) = tokio::sync::oneshot::channel::<()>();
        let request = {
            let work = work.clone();
            tokio::spawn(async move {
                work.run("abandoned", move |budget| {
                    let _ = started.send(());
                    // Waits for the cancellation the dropped request sends.
                    let deadline = std::time::Instant::now() + Duration::from_secs(10);
                    while !budget.is_cancelled() && std::time::Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let _ = seen.send(budget.is_cancelled());
                    Err::<(), _>(KeyError::Cancelled)
                })
                .await
            })
        };
        has_started.await.unwrap();
        request.abort();
        let cancelled = tokio::task::spawn_blocking(move || saw.recv().unwrap())
            .await
            .unwrap();
        assert!(cancelled, "the job saw its budget cancelled");
    }
}
