//! `keyward-bench soak`: a long run at a constant rate against a running server, reporting
//! every minute, failing on any error and on memory that keeps growing (`bench/soak.sh`).
//!
//! The rate is open-loop, as wrk2 does it: request `i` is due at `start + i / rate`, whatever
//! happened to earlier ones, and its latency counts from that moment. A server that stalls for a
//! second therefore shows a second of latency, not a politely lower rate.

mod admin;
mod mix;
mod report;
mod stats;

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::bail;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use admin::Admin;
use mix::Mix;
use report::{kib_to_mib, Report, Sampler};
use stats::{percentile_ms, Recorder};

/// How often the server's memory and replay store are sampled within a window.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// The client that has its secret rotated every second (not one the token mix uses).
const ROTATING: &str = "soak-rot";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Base URL of the running server.
    #[arg(long)]
    base: String,
    /// The server's issuer: the audience of the assertions.
    #[arg(long)]
    issuer: String,
    /// The bootstrap admin client's secret.
    #[arg(long, env = "KEYWARD_ADMIN_SECRET", hide_env_values = true)]
    admin_secret: String,
    /// PKCS#8 PEM private key (P-256) of the `private_key_jwt` client.
    #[arg(long)]
    key: PathBuf,
    /// Its public JWK, with `kid`, registered inline.
    #[arg(long)]
    jwk: PathBuf,
    /// The server's process id: RSS and CPU time from /proc.
    #[arg(long)]
    pid: u32,
    /// The server's SQLite file: the replay store's size, read-only.
    #[arg(long)]
    db: PathBuf,
    /// Length of the soak in seconds (after the peak phase).
    #[arg(long, default_value_t = 1800)]
    duration: u64,
    /// Token requests per second; 0: half the peak measured in a first phase.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Length of the peak phase (closed loop, after a 3 s warm-up).
    #[arg(long, default_value_t = 20)]
    peak_seconds: u64,
    /// Concurrent requests of the peak phase.
    #[arg(long, default_value_t = 32)]
    peak_connections: usize,
    /// Length of a report window.
    #[arg(long, default_value_t = 60)]
    report_seconds: u64,
    /// Fail if the second half's highest RSS exceeds the first half's by more than this.
    #[arg(long, default_value_t = 10)]
    rss_growth_percent: u64,
    /// Assertion lifetime in seconds.
    #[arg(long, default_value_t = 55)]
    lifetime: i64,
    /// The server's `clock_skew_seconds` and `replay_purge_seconds` (the replay store's bound).
    #[arg(long, default_value_t = 15)]
    skew: u64,
    #[arg(long, default_value_t = 60)]
    purge_seconds: u64,
    /// Requests in flight at most, hence connections at most (as wrk2's fixed connection
    /// count); beyond it new requests wait, and since latency counts from the due time, the
    /// wait shows. Keep it well below the server's `max_connections` (1,024): an open loop
    /// without a cap answers a half-second stall with thousands of new connections, which
    /// overflow the listen backlog and time out in SYN retransmits, measuring the kernel's
    /// backoff rather than keyward.
    #[arg(long, default_value_t = 256)]
    max_in_flight: u32,
    /// Per-request timeout in seconds (a timeout is an error).
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// The per-minute table as CSV.
    #[arg(long)]
    csv: PathBuf,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    // The workspace builds reqwest with rustls but no provider; plain http needs one installed
    // all the same (another install first is fine).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout))
        // Below the server's idle timeout (60 s), as the README asks of clients: a pooled
        // connection is dropped by the client before the server could close it under a request.
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(usize::try_from(args.max_in_flight)?)
        .build()?;
    let admin = Arc::new(Admin::new(http.clone(), &args.base, args.admin_secret.clone()));
    let jwk_text = std::fs::read_to_string(&args.jwk)?;
    let jwk: Value = serde_json::from_str(&jwk_text)?;
    let mix = Arc::new(
        Mix::register(
            http,
            &args.base,
            &args.issuer,
            &admin,
            &args.key,
            &jwk,
            args.lifetime,
        )
        .await?,
    );
    admin
        .register(&json!({"client_id": ROTATING, "scope": "read"}))
        .await?;

    let recorder = Arc::new(Recorder::default());
    let mut failures = 0;
    let rate = if args.rate > 0 {
        args.rate
    } else {
        closed_loop(&mix, &recorder, args.peak_connections, Duration::from_secs(3)).await;
        failures += recorder.take().failures();
        closed_loop(
            &mix,
            &recorder,
            args.peak_connections,
            Duration::from_secs(args.peak_seconds),
        )
        .await;
        let mut w = recorder.take();
        failures += w.failures();
        let peak = w.token_ok / args.peak_seconds.max(1);
        println!(
            "peak: {peak} req/s ({} s closed loop, {} in flight; p50 {:.2} ms, p99 {:.2} ms; failures {}: {})",
            args.peak_seconds,
            args.peak_connections,
            percentile_ms(&mut w.token_latencies_us, 50),
            percentile_ms(&mut w.token_latencies_us, 99),
            w.failures(),
            w.kinds_text()
        );
        (peak / 2).max(1)
    };
    println!(
        "soak: {rate} token requests/s for {} s (basic, post, client_secret_jwt HS256, private_key_jwt ES256 in turn) \
         + one admin round per second (create, update, credential add, credential delete, delete, secret rotation + use)",
        args.duration
    );
    println!();

    let start = Instant::now();
    let report = Report::create(&args.csv)?;
    let sampler = Sampler::new(args.pid, &args.db);
    let window = Duration::from_secs(args.report_seconds.max(1));
    let windows = (args.duration / args.report_seconds.max(1)).max(1);
    let reporter = tokio::spawn(report_windows(
        report,
        sampler,
        recorder.clone(),
        start,
        window,
        windows,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(admin_rounds(admin, jwk_text, recorder.clone(), stop.clone()));

    dispatch(&mix, &recorder, rate, args.duration, args.max_in_flight, start).await?;
    stop.store(true, Ordering::Relaxed);
    writer.await?;
    let (mut report, mut sampler) = reporter.await??;
    sampler.sample().await?;
    let last_start = start + window * u32::try_from(windows - 1).unwrap_or(0);
    report.row(
        windows,
        last_start.elapsed().as_secs_f64(),
        recorder.take(),
        &mut sampler,
    )?;
    failures += report.rows.iter().map(|r| r.failures).sum::<u64>();
    verdict(&args, rate, &report, failures)
}

/// `workers` requests in flight at all times, for `length`: the rate the server can take.
async fn closed_loop(mix: &Arc<Mix>, recorder: &Arc<Recorder>, workers: usize, length: Duration) {
    let end = Instant::now() + length;
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (mix, recorder, counter) = (mix.clone(), recorder.clone(), counter.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    mix.clone().send(i, Instant::now(), &recorder).await;
                }
            })
        })
        .collect();
    for t in tasks {
        // A worker that panicked is one worker fewer; its requests are simply not made.
        let _ = t.await;
    }
}

/// Sends `rate` requests per second for `seconds`, each at its due time, then waits for the
/// last ones to finish.
async fn dispatch(
    mix: &Arc<Mix>,
    recorder: &Arc<Recorder>,
    rate: u64,
    seconds: u64,
    max_in_flight: u32,
    start: Instant,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(usize::try_from(max_in_flight)?));
    for i in 0..rate * seconds {
        let offset = u128::from(i) * 1_000_000_000 / u128::from(rate);
        let due = start + Duration::from_nanos(u64::try_from(offset)?);
        tokio::time::sleep_until(due.into()).await;
        let slot = slots.clone().acquire_owned().await?;
        let (mix, recorder) = (mix.clone(), recorder.clone());
        tokio::spawn(async move {
            mix.send(i, due, &recorder).await;
            drop(slot);
        });
    }
    // Every request has a timeout, so this ends.
    let _all = slots.acquire_many(max_in_flight).await?;
    Ok(())
}

/// One admin round per second until `stop`.
async fn admin_rounds(admin: Arc<Admin>, jwk: String, recorder: Arc<Recorder>, stop: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        admin.round(n, &jwk, ROTATING, &recorder).await;
        n += 1;
    }
}

/// Samples every few seconds and prints a row at the end of each window but the last (which
/// the caller closes once the final requests are in).
async fn report_windows(
    mut report: Report,
    mut sampler: Sampler,
    recorder: Arc<Recorder>,
    start: Instant,
    window: Duration,
    windows: u64,
) -> anyhow::Result<(Report, Sampler)> {
    let samples = u32::try_from((window.as_secs() / SAMPLE_EVERY.as_secs()).max(1))?;
    for k in 1..=windows {
        let opened = start + window * u32::try_from(k - 1)?;
        for s in 1..=samples {
            tokio::time::sleep_until((opened + window * s / samples).into()).await;
            sampler.sample().await?;
        }
        if k < windows {
            report.row(k, window.as_secs_f64(), recorder.take(), &mut sampler)?;
        }
    }
    Ok((report, sampler))
}

/// Exit status: every request must have succeeded, memory must have stopped growing, and the
/// replay store must have stayed within what its purge allows.
fn verdict(args: &Args, rate: u64, report: &Report, failures: u64) -> anyhow::Result<()> {
    let rows = &report.rows;
    let (first, second) = rows.split_at(rows.len() / 2);
    let max_rss = |r: &[report::Row]| r.iter().map(|r| r.rss_kib).max().unwrap_or(0);
    let (rss_first, rss_second) = (max_rss(first), max_rss(second));
    let rss_limit = rss_first * (100 + args.rss_growth_percent) / 100;
    // Two of every four requests carry an assertion. An entry lives lifetime + skew; the purge
    // runs every purge_seconds; 30 s more for timing slack.
    let replay_limit =
        rate / 2 * (u64::try_from(args.lifetime)?.max(1) + args.skew + args.purge_seconds + 30);
    let replay_max = rows.iter().map(|r| r.replay_rows).max().unwrap_or(0);
    let requests: u64 = rows.iter().map(|r| r.requests).sum();
    println!();
    println!(
        "token requests: {requests} in {} windows (target {} at {rate}/s); failures (peak phase included): {failures}",
        rows.len(),
        rate * args.duration
    );
    let rss_ok = first.is_empty() || rss_second <= rss_limit;
    println!(
        "server RSS: highest {:.1} MiB in the first half, {:.1} MiB in the second (limit +{} %: {:.1} MiB): {}",
        kib_to_mib(rss_first),
        kib_to_mib(rss_second),
        args.rss_growth_percent,
        kib_to_mib(rss_limit),
        if rss_ok { "ok" } else { "GREW" }
    );
    let replay_ok = replay_max <= replay_limit;
    println!(
        "replay store: at most {replay_max} rows (limit {replay_limit} = {}/s assertions x {} s): {}",
        rate / 2,
        replay_limit / (rate / 2).max(1),
        if replay_ok { "ok" } else { "UNBOUNDED" }
    );
    if let Some(bad) = rows.iter().find(|r| r.failures > 0) {
        println!("first failures in minute {}", bad.minute);
    }
    if failures > 0 || !rss_ok || !replay_ok {
        bail!("soak failed: {failures} failures, RSS ok: {rss_ok}, replay store ok: {replay_ok}");
    }
    println!("soak passed");
    Ok(())
}
