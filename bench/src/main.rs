//! `keyward-bench`: what the load scripts in `bench/` need besides wrk.
//!
//! - `assertions`: N different pre-signed client assertions (one form body per line), so that
//!   every request of a run carries a fresh `jti` and replay protection stays on.
//! - `replay`: the replay store's insert rate on a fresh SQLite file, with C concurrent callers.
//! - `hostile-p12`: the most expensive PKCS#12 file the import limits let through, for the
//!   upload-pressure run (`/token` latency while clients upload it).
//! - `soak`: a constant-rate mix of the four client authentication methods plus admin writes
//!   for a long run, with a per-minute report (`bench/soak.sh`).
//! - `code-flow`: closed-loop throughput and latency of one back-channel call of the
//!   authorization code flow (code exchange, refresh, introspection) or `client_credentials`,
//!   with every single-use input prepared before the timed window (`bench/code-flow.sh`).
#![forbid(unsafe_code)]

use std::{io::Write, path::PathBuf, sync::Arc, time::Instant};

use anyhow::Context;
use assertion::Signer;
use clap::{Parser, Subcommand};
use keyward_storage::ReplayStore;
use keyward_types::{ClientId, SigningAlg};

mod assertion;
mod code_flow;
mod procfs;
mod soak;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes COUNT token-request bodies, each with its own signed assertion.
    Assertions {
        #[arg(long)]
        client_id: String,
        /// Issuer of the server (the assertions' `aud`).
        #[arg(long)]
        aud: String,
        #[arg(long)]
        alg: SigningAlg,
        /// PKCS#8 PEM private key (asymmetric algs).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Client secret (HS algs).
        #[arg(long)]
        secret: Option<String>,
        #[arg(long)]
        kid: Option<String>,
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Spread the assertions over this many clients: `CLIENT_ID` and `CLIENT_ID-1` ..
        /// `CLIENT_ID-(N-1)`, picked at random for each assertion.
        #[arg(long, default_value_t = 1)]
        clients: u32,
        /// Assertion lifetime in seconds (the server's max is 60 by default).
        #[arg(long, default_value_t = 55)]
        lifetime: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Measures replay-store inserts per second.
    Replay {
        #[arg(long, default_value_t = 200_000)]
        count: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Live entries stored before the measurement (their expiry is an hour away).
        #[arg(long, default_value_t = 0)]
        prefill: usize,
        /// Use this database file (kept) instead of a fresh temp file; with a prefilled file,
        /// later runs skip the prefill.
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Writes the worst PKCS#12 file the limits allow: every key derivation it declares runs
    /// (the budget's worth, about half a second of one core), then the import is refused
    /// (`unsupported_key_type`) and nothing is stored, so it can be uploaded again and again.
    HostileP12 {
        /// Store password to protect it with (send the same one with the upload).
        #[arg(long, default_value = "storepass")]
        password: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Drives a running server with a constant-rate mix of all four client authentication
    /// methods and admin writes, and reports every minute (see `bench/soak.sh`).
    Soak(soak::Args),
    /// Measures one call of the authorization code flow's back channel (or client_credentials)
    /// for one client authentication method, inputs prepared outside the timed window (see
    /// `bench/code-flow.sh`).
    CodeFlow(code_flow::Args),
}

#[allow(clippy::too_many_arguments)]
fn assertions(
    client_id: &str,
    aud: &str,
    alg: SigningAlg,
    key: Option<&PathBuf>,
    secret: Option<&str>,
    kid: Option<&str>,
    count: usize,
    clients: u32,
    lifetime: i64,
    out: &PathBuf,
) -> anyhow::Result<()> {
    let signer = Signer::new(alg, key.map(PathBuf::as_path), secret, kid, aud, lifetime)?;
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let one = || -> anyhow::Result<String> {
        let pick = u32::try_from(keyward_types::random::uuid()?.as_u128() % u128::from(clients.max(1)))?;
        match pick {
            0 => signer.body(client_id, now),
            k => signer.body(&format!("{client_id}-{k}"), now),
        }
    };
    // Signing (RSA especially) is the slow part: use every core.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let chunks: Vec<anyhow::Result<Vec<String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let n = count / workers + usize::from(w < count % workers);
                s.spawn(move || (0..n).map(|_| one()).collect::<anyhow::Result<Vec<_>>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("worker panicked")))
            })
            .collect()
    });
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for chunk in chunks {
        for body in chunk? {
            writeln!(file, "{body}")?;
        }
    }
    file.flush()?;
    Ok(())
}

async fn replay(count: usize, concurrency: usize, prefill: usize, db: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = db.unwrap_or_else(|| dir.path().join("r.db"));
    let store =
        Arc::new(keyward_storage_sqlite::SqliteStorage::open(&format!("sqlite://{}", file.display())).await?);
    let client = ClientId::parse("bench").map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = keyward_types::Clock::now(&keyward_types::SystemClock);
    let have = usize::try_from(store.replay_entries().await?)?;
    if have < prefill {
        // Many concurrent callers so the group commit makes the prefill quick.
        run_inserts(
            &store,
            &client,
            prefill - have,
            256,
            now + time::Duration::hours(1),
            now,
        )
        .await?;
    }
    if count == 0 {
        println!("replay store: {} entries", store.replay_entries().await?);
        return Ok(());
    }
    let before = (Instant::now(), procfs::cpu_seconds("self"));
    let (total, fresh) = run_inserts(
        &store,
        &client,
        count,
        concurrency,
        now + time::Duration::seconds(75),
        now,
    )
    .await?;
    let (secs, cpu) = (
        before.0.elapsed().as_secs_f64(),
        procfs::cpu_seconds("self") - before.1,
    );
    println!(
        "replay inserts: {total} in {secs:.2} s = {:.0}/s, {:.1} us CPU each, with {concurrency} concurrent callers \
         ({fresh} fresh, {} entries stored, durable: WAL, synchronous=FULL)",
        total as f64 / secs,
        cpu / total as f64 * 1e6,
        store.replay_entries().await?
    );
    Ok(())
}

/// `count` inserts of random (UUID v4) jtis, as clients send them, from `concurrency` tasks.
async fn run_inserts(
    store: &Arc<keyward_storage_sqlite::SqliteStorage>,
    client: &ClientId,
    count: usize,
    concurrency: usize,
    exp: time::OffsetDateTime,
    now: time::OffsetDateTime,
) -> anyhow::Result<(usize, usize)> {
    let per_task = count / concurrency.max(1);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (store, client) = (store.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let mut fresh = 0usize;
            for _ in 0..per_task {
                let jti = keyward_types::random::uuid()?.to_string();
                fresh += usize::from(store.insert_once(&client, &jti, exp, now).await?);
            }
            anyhow::Ok(fresh)
        }));
    }
    let mut fresh = 0;
    for t in tasks {
        fresh += t.await??;
    }
    Ok((per_task * concurrency, fresh))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Assertions {
            client_id,
            aud,
            alg,
            key,
            secret,
            kid,
            count,
            clients,
            lifetime,
            out,
        } => assertions(
            &client_id,
            &aud,
            alg,
            key.as_ref(),
            secret.as_deref(),
            kid.as_deref(),
            count,
            clients,
            lifetime,
            &out,
        ),
        Command::Replay {
            count,
            concurrency,
            prefill,
            db,
        } => replay(count, concurrency, prefill, db).await,
        Command::HostileP12 { password, out } => {
            let file = keyward_keys::fixtures::pkcs12_worst_allowed(&password);
            std::fs::write(&out, file).with_context(|| format!("write {}", out.display()))
        }
        Command::Soak(args) => soak::run(args).await,
        Command::CodeFlow(args) => code_flow::run(args).await,
    }
}
