//! The replay writer: one OS thread owning one synchronous SQLite connection, the only writer
//! of `replay_log` in this process. It commits claims in batches (group commit): whatever
//! queued while the previous batch was committing goes into the next transaction, so under load
//! one commit and one WAL fsync carry many assertions. A caller is answered only after the
//! batch holding its row has committed, so an accepted assertion is durable.
//!
//! Why a thread and rusqlite rather than sqlx: sqlx runs every statement on its own worker
//! thread and answers over a channel, so a batch of N inserts would cost N round trips between
//! the async runtime and that worker; on one core those hand-offs cost more than the inserts
//! (BENCHMARKS.md). rusqlite links the same `libsqlite3-sys` as sqlx, so both use one SQLite
//! library.
//!
//! The decision "fresh or replay" is taken here, inside the batch's write transaction: before
//! deciding, the writer reads rows that another connection (a second process on the same
//! file) appended since its last batch, so two writers never both accept one pair.

use std::{path::Path, sync::Arc, time::Duration};

use keyward_storage::StorageError;
use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::{index::Index, ReplayError};
use crate::SqliteStorageError;

/// No more jobs are taken into a batch once it holds this many claims: bounds the time a
/// transaction holds SQLite's write lock (a batch may exceed it by one staged group).
const MAX_BATCH: usize = 512;
/// Expired rows deleted per statement by a purge, so token requests never wait long behind one.
const PURGE_CHUNK: i64 = 2_000;

const APPEND: &str = "INSERT INTO replay_log (client_id, jti, expires_at) VALUES (?1, ?2, ?3)";
/// The row of an expired entry that a new claim of the same pair takes over.
const DROP_OLD: &str = "DELETE FROM replay_log WHERE expires_at = ?1 AND client_id = ?2 AND jti = ?3";
const PURGE: &str = "DELETE FROM replay_log WHERE seq IN
     (SELECT seq FROM replay_log WHERE expires_at <= ?1 LIMIT ?2)";
const LAST_SEQ: &str = "SELECT seq FROM sqlite_sequence WHERE name = 'replay_log'";
const SINCE: &str = "SELECT client_id, jti, expires_at FROM replay_log WHERE seq > ?1";

pub(super) struct Claim {
    pub(super) fp: u64,
    pub(super) client_id: String,
    pub(super) jti: String,
    pub(super) expires_at: i64,
    pub(super) now: i64,
    pub(super) reply: oneshot::Sender<Result<bool, StorageError>>,
}

pub(super) enum Job {
    /// A group of claims gathered by the staging area.
    Claims(Vec<Claim>),
    Purge {
        now: i64,
        reply: oneshot::Sender<Result<u64, StorageError>>,
    },
}

/// Opens the writer's own connection to the (created and migrated) database file and starts
/// its thread, which ends when every sender is dropped.
pub(super) fn start(file: &Path, index: Arc<Index>) -> Result<mpsc::Sender<Job>, SqliteStorageError> {
    let conn = connect(file)?;
    // Checkpoints are the checkpointer thread's job; this is only a backstop should it fall
    // behind. A checkpoint on this thread would hold every waiting claim behind it.
    conn.pragma_update(None, "wal_autocheckpoint", 20_000)
        .map_err(SqliteStorageError::OpenReplay)?;
    let checkpointer = start_checkpointer(file)?;
    // Bounded queue of groups: under overload the staging flushes wait here, and the callers
    // behind them, instead of memory growing.
    let (tx, rx) = mpsc::channel(64);
    let writer = Writer {
        conn,
        index,
        seen: None,
        _checkpointer: checkpointer,
    };
    std::thread::Builder::new()
        .name("keyward-replay".into())
        .spawn(move || writer.run(rx))
        .map_err(SqliteStorageError::StartReplay)?;
    Ok(tx)
}

struct Writer {
    conn: Connection,
    index: Arc<Index>,
    /// The last `seq` this writer has in its index; `None` until the table was first read (on
    /// the first job, so a process that never checks an assertion never reads it).
    seen: Option<i64>,
    /// Dropped with the writer, which stops the checkpointer.
    _checkpointer: std::sync::mpsc::Sender<()>,
}

/// A connection of this module's own to the (created and migrated) database file. WAL is a
/// property of the file (set by the pool that created it); synchronous is per connection: FULL,
/// so an acknowledged claim survives a power cut, not only a crash.
fn connect(file: &Path) -> Result<Connection, SqliteStorageError> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(SqliteStorageError::OpenReplay)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .and_then(|()| conn.busy_timeout(Duration::from_secs(5)))
        .map_err(SqliteStorageError::OpenReplay)?;
    Ok(conn)
}

/// How often the WAL is copied back into the database file. Often, so each checkpoint is small:
/// a commit's WAL sync may wait for the disk to finish what the checkpointer wrote, which can
/// show in the p99 of the assertion scenarios (BENCHMARKS.md).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// A thread with its own connection that runs a PASSIVE checkpoint every [`CHECKPOINT_EVERY`].
/// PASSIVE does not take the write lock, so claims keep committing while it copies pages. A
/// writer that checkpointed itself (SQLite's default, every 1,000 WAL pages) would stall every
/// claim queued behind each checkpoint and its fsync, a p99 of 10-30 x p50 (BENCHMARKS.md).
fn start_checkpointer(file: &Path) -> Result<std::sync::mpsc::Sender<()>, SqliteStorageError> {
    let conn = connect(file)?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("keyward-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                }
            }
        })
        .map_err(SqliteStorageError::StartReplay)?;
    Ok(stop)
}

/// A purge under way: one chunk per turn of the loop, so claims that arrive meanwhile wait for
/// at most one chunk.
struct Purge {
    now: i64,
    deleted: u64,
    replies: Vec<oneshot::Sender<Result<u64, StorageError>>>,
}

fn unavailable(e: &Arc<rusqlite::Error>) -> StorageError {
    StorageError::unavailable(ReplayError::Sqlite(e.clone()))
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut claims = Vec::with_capacity(MAX_BATCH);
        let mut purging: Option<Purge> = None;
        loop {
            // Block for work only when no purge is left to finish.
            let mut next = if purging.is_some() {
                rx.try_recv().ok()
            } else {
                match rx.blocking_recv() {
                    Some(job) => Some(job),
                    None => return,
                }
            };
            while let Some(job) = next {
                match job {
                    Job::Claims(group) => claims.extend(group),
                    Job::Purge { now, reply } => {
                        let p = purging.get_or_insert_with(|| Purge {
                            now,
                            deleted: 0,
                            replies: Vec::new(),
                        });
                        p.now = p.now.max(now);
                        p.replies.push(reply);
                    }
                }
                next = (claims.len() < MAX_BATCH).then(|| rx.try_recv().ok()).flatten();
            }
            if !claims.is_empty() {
                self.answer(&mut claims);
            }
            if let Some(p) = purging.take() {
                purging = self.purge_step(p);
            }
        }
    }

    fn answer(&mut self, batch: &mut Vec<Claim>) {
        let mut claimed = Vec::with_capacity(batch.len());
        match self.commit(batch, &mut claimed) {
            Ok(fresh) => {
                for (c, fresh) in batch.drain(..).zip(fresh) {
                    let _ = c.reply.send(Ok(fresh));
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                // Nothing of the batch is stored: take its claims back, newest first, so a
                // retry after this answer is not refused as a replay. (A retry that arrived
                // while the batch was pending saw the claim and was refused: a spurious 401,
                // never a double accept.)
                for (fp, exp, previous) in claimed.into_iter().rev() {
                    self.index.unclaim(fp, exp, previous);
                }
                tracing::warn!(error = %e, "replay batch failed; rejecting its requests");
                for c in batch.drain(..) {
                    let _ = c.reply.send(Err(unavailable(&e)));
                }
            }
        }
    }

    fn commit(
        &mut self,
        batch: &[Claim],
        claimed: &mut Vec<(u64, i64, Option<i64>)>,
    ) -> Result<Vec<bool>, rusqlite::Error> {
        if self.seen.is_none() {
            // The first read of the whole table (a million rows on a busy node) runs before
            // the write lock is taken, so other writers do not wait behind it; under the lock
            // only what was appended since is read.
            self.seen = Some(catch_up(&self.conn, &self.index, None)?);
        }
        // IMMEDIATE: the write lock is taken at BEGIN, so what catch_up reads is everything
        // any other connection appended, and nobody appends until this batch commits.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut last = catch_up(&tx, &self.index, self.seen)?;
        let mut fresh = Vec::with_capacity(batch.len());
        {
            let mut append = tx.prepare_cached(APPEND)?;
            for c in batch {
                match self.index.claim(c.fp, c.expires_at, c.now) {
                    Err(()) => fresh.push(false),
                    Ok(previous) => {
                        claimed.push((c.fp, c.expires_at, previous));
                        if let Some(old) = previous {
                            tx.prepare_cached(DROP_OLD)?
                                .execute(params![old, c.client_id, c.jti])?;
                        }
                        append.execute(params![c.client_id, c.jti, c.expires_at])?;
                        // AUTOINCREMENT: the rowid just given out is sqlite_sequence's value.
                        last = tx.last_insert_rowid();
                        fresh.push(true);
                    }
                }
            }
        }
        tx.commit()?;
        self.seen = Some(last);
        Ok(fresh)
    }

    fn purge_step(&mut self, mut p: Purge) -> Option<Purge> {
        match self
            .conn
            .prepare_cached(PURGE)
            .and_then(|mut s| s.execute(params![p.now, PURGE_CHUNK]))
        {
            Ok(n) if n as i64 == PURGE_CHUNK => {
                p.deleted += n as u64;
                Some(p)
            }
            Ok(n) => {
                self.index.forget_expired(p.now);
                for r in p.replies {
                    let _ = r.send(Ok(p.deleted + n as u64));
                }
                None
            }
            Err(e) => {
                let e = Arc::new(e);
                for r in p.replies {
                    let _ = r.send(Err(unavailable(&e)));
                }
                None
            }
        }
    }
}

fn last_seq(conn: &Connection) -> Result<i64, rusqlite::Error> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached(LAST_SEQ)?
        .query_row([], |r| r.get::<_, i64>(0))
        .optional()?
        .unwrap_or(0))
}

/// Adds to the index the rows appended after `seen` (all rows the first time); returns the
/// newest `seq` now known.
fn catch_up(conn: &Connection, index: &Index, seen: Option<i64>) -> Result<i64, rusqlite::Error> {
    let last = last_seq(conn)?;
    let from = seen.unwrap_or(0);
    if seen.is_none() || last != from {
        let mut rows = conn.prepare_cached(SINCE)?;
        let mut rows = rows.query(params![from])?;
        while let Some(row) = rows.next()? {
            let (client_id, jti): (String, String) = (row.get(0)?, row.get(1)?);
            index.load(index.fingerprint(&client_id, &jti), row.get(2)?);
        }
    }
    Ok(last)
}
