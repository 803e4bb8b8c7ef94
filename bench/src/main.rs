//! `keyward-bench`: what the load scripts in `bench/` need besides wrk.
//!
//! - `assertions`: N different pre-signed client assertions (one form body per line), so that
//!   every request of a run carries a fresh `jti` and replay protection stays on.
//! - `replay`: the replay store's insert rate on a fresh SQLite file, with C concurrent callers.
//! - `hostile-p12`: the most expensive PKCS#12 file the import limits let through, for the
//!   upload-pressure run (`/token` latency while clients upload it).
#![forbid(unsafe_code)]

use std::{io::Write, path::PathBuf, sync::Arc, time::Instant};

use anyhow::{bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};
use clap::{Parser, Subcommand};
use keyward_jose::{b64_encode, SigningKey};
use keyward_storage::ReplayStore;
use keyward_types::{ClientId, SigningAlg};
use serde_json::json;

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
}

fn pem_der(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    Ok(STANDARD.decode(body)?)
}

fn hmac_sign(alg: SigningAlg, secret: &[u8], input: &[u8]) -> anyhow::Result<Vec<u8>> {
    let a = match alg {
        SigningAlg::HS256 => aws_hmac::HMAC_SHA256,
        SigningAlg::HS384 => aws_hmac::HMAC_SHA384,
        SigningAlg::HS512 => aws_hmac::HMAC_SHA512,
        _ => bail!("not an HMAC alg"),
    };
    Ok(aws_hmac::sign(&aws_hmac::Key::new(a, secret), input)
        .as_ref()
        .to_vec())
}

use aws_lc_rs::hmac as aws_hmac;

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
    let signer = match key {
        Some(p) => Some(SigningKey::from_pkcs8(alg, zeroize::Zeroizing::new(pem_der(p)?))?),
        None => None,
    };
    let header = match kid {
        Some(kid) => json!({"alg": alg.as_str(), "typ": "JWT", "kid": kid}),
        None => json!({"alg": alg.as_str(), "typ": "JWT"}),
    };
    let header = b64_encode(header.to_string());
    if signer.is_none() && secret.is_none() {
        bail!("give --key or --secret");
    }
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let one = || -> anyhow::Result<String> {
        let jti = keyward_types::random::uuid()?;
        let pick = (jti.as_u128() % u128::from(clients.max(1))) as u32;
        let client_id = match pick {
            0 => client_id.to_owned(),
            k => format!("{client_id}-{k}"),
        };
        let claims = json!({
            "iss": client_id, "sub": client_id, "aud": aud,
            "iat": now, "exp": now + lifetime, "jti": jti.simple().to_string(),
        });
        let input = format!("{header}.{}", b64_encode(claims.to_string()));
        let sig = match (&signer, secret) {
            (Some(k), _) => k.sign(input.as_bytes())?,
            (None, Some(s)) => hmac_sign(alg, s.as_bytes(), input.as_bytes())?,
            (None, None) => bail!("give --key or --secret"),
        };
        let jwt = format!("{input}.{}", b64_encode(sig));
        Ok(url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", &jwt)
            .finish())
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
    let before = (Instant::now(), cpu_seconds());
    let (total, fresh) = run_inserts(
        &store,
        &client,
        count,
        concurrency,
        now + time::Duration::seconds(75),
        now,
    )
    .await?;
    let (secs, cpu) = (before.0.elapsed().as_secs_f64(), cpu_seconds() - before.1);
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

/// This process's user + system CPU time, from /proc (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // In clock ticks of USER_HZ, which is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
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
    }
}
