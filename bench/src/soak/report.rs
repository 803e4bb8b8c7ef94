//! The per-minute report: one row per window, as a markdown table on stdout and as CSV.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use super::stats::{percentile_ms, Window};
use crate::procfs;

/// The server's resources, sampled every few seconds; a row shows the window's maximum.
pub(crate) struct Sampler {
    pid: String,
    db: PathBuf,
    cpu_at_start: f64,
    load_cpu_at_start: f64,
    pub(crate) rss_kib: u64,
    pub(crate) replay_rows: u64,
}

impl Sampler {
    pub(crate) fn new(pid: u32, db: &Path) -> Self {
        let pid = pid.to_string();
        Self {
            cpu_at_start: procfs::cpu_seconds(&pid),
            load_cpu_at_start: procfs::cpu_seconds("self"),
            pid,
            db: db.to_owned(),
            rss_kib: 0,
            replay_rows: 0,
        }
    }

    /// Takes one sample. The replay store's size is read from the server's SQLite file with a
    /// read-only connection (a snapshot; it never writes or locks out the server's writer).
    pub(crate) async fn sample(&mut self) -> anyhow::Result<()> {
        self.rss_kib = self.rss_kib.max(procfs::rss_kib(&self.pid).unwrap_or(0));
        let db = self.db.clone();
        let rows = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
            let flags =
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = rusqlite::Connection::open_with_flags(&db, flags)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            let rows: i64 = conn.query_row("SELECT count(*) FROM replay_log", [], |r| r.get(0))?;
            Ok(u64::try_from(rows)?)
        })
        .await??;
        self.replay_rows = self.replay_rows.max(rows);
        Ok(())
    }

    /// Closes a window: the row's resource columns, and a fresh start for the next.
    fn close(&mut self, seconds: f64) -> (u64, f64, f64, u64) {
        let cpu = procfs::cpu_seconds(&self.pid);
        let load = procfs::cpu_seconds("self");
        let server_pct = (cpu - self.cpu_at_start) / seconds * 100.0;
        let load_pct = (load - self.load_cpu_at_start) / seconds * 100.0;
        let out = (self.rss_kib, server_pct, load_pct, self.replay_rows);
        (self.cpu_at_start, self.load_cpu_at_start) = (cpu, load);
        (self.rss_kib, self.replay_rows) = (0, 0);
        out
    }
}

/// One window's line, kept for the verdict.
pub(crate) struct Row {
    pub(crate) minute: u64,
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    pub(crate) rss_kib: u64,
    pub(crate) replay_rows: u64,
}

pub(crate) struct Report {
    csv: BufWriter<File>,
    pub(crate) rows: Vec<Row>,
}

const COLUMNS: [&str; 15] = [
    "minute",
    "token requests",
    "req/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "non-2xx",
    "transport errors",
    "admin writes",
    "admin failures",
    "admin p99 ms",
    "server RSS MiB",
    "server CPU %",
    "load CPU %",
    "replay rows",
];

impl Report {
    pub(crate) fn create(csv: &Path) -> anyhow::Result<Self> {
        let mut file = BufWriter::new(File::create(csv)?);
        let header: Vec<String> = COLUMNS
            .iter()
            .map(|c| c.replace(' ', "_").replace('/', "_per_"))
            .collect();
        writeln!(file, "{},failure_kinds", header.join(","))?;
        file.flush()?;
        println!("| {} | failures by kind |", COLUMNS.join(" | "));
        println!("|{}---|", "---:|".repeat(COLUMNS.len()));
        Ok(Self {
            csv: file,
            rows: Vec::new(),
        })
    }

    /// Prints and stores the row of window `minute` (1-based) that lasted `seconds`.
    pub(crate) fn row(
        &mut self,
        minute: u64,
        seconds: f64,
        mut w: Window,
        sampler: &mut Sampler,
    ) -> anyhow::Result<()> {
        let (rss_kib, server_pct, load_pct, replay_rows) = sampler.close(seconds);
        let requests = w.token_requests();
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let rate = requests as f64 / seconds;
        let p50 = percentile_ms(&mut w.token_latencies_us, 50);
        let p99 = percentile_ms(&mut w.token_latencies_us, 99);
        let max = percentile_ms(&mut w.token_latencies_us, 100);
        let admin_p99 = percentile_ms(&mut w.admin_latencies_us, 99);
        let cells = [
            minute.to_string(),
            requests.to_string(),
            format!("{rate:.0}"),
            format!("{p50:.2}"),
            format!("{p99:.2}"),
            format!("{max:.1}"),
            w.token_non2xx.to_string(),
            w.transport_errors.to_string(),
            w.admin_ok.to_string(),
            w.admin_failed.to_string(),
            format!("{admin_p99:.2}"),
            format!("{:.1}", kib_to_mib(rss_kib)),
            format!("{server_pct:.0}"),
            format!("{load_pct:.0}"),
            replay_rows.to_string(),
        ];
        let kinds = w.kinds_text();
        println!("| {} | {kinds} |", cells.join(" | "));
        writeln!(self.csv, "{},\"{kinds}\"", cells.join(","))?;
        self.csv.flush()?;
        self.rows.push(Row {
            minute,
            requests,
            failures: w.failures(),
            rss_kib,
            replay_rows,
        });
        Ok(())
    }
}

pub(crate) fn kib_to_mib(kib: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // memory sizes far below 2^52
    let k = kib as f64;
    k / 1024.0
}
