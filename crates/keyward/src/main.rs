//! `keyward`: the server and its admin commands. This file only wires the parts together.
#![forbid(unsafe_code)]

mod admin_cli;
mod client_cli;
mod keys;

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand, ValueEnum};
use keyward_server::{Config, LogFormat};
use keyward_types::{SigningAlg, SystemClock};

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "OAuth 2.0 authorization server for machine-to-machine clients"
)]
struct Cli {
    /// Configuration file (TOML); every key can also be set as KEYWARD_<KEY>.
    #[arg(long, global = true, env = "KEYWARD_CONFIG")]
    config: Option<PathBuf>,
    /// Log format (overrides `log_format` in the config).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Administrative commands: on the database directly (rotate-signing-key, export, import),
    /// or through a running server's admin API (clients, secret, credentials, keys-cache, audit).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The client side: get a token, sign an assertion, publish the client's keys, from a
    /// client config (keyward's own or a Keycloak adapter keycloak.json).
    Client {
        #[command(subcommand)]
        command: client_cli::ClientCommand,
    },
    /// Offline key tools: generate a client keystore, inspect key files.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(arg: LogFormatArg) -> Self {
        match arg {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Add a new active token-signing key; the old one stays published until its tokens expire.
    RotateSigningKey {
        /// Algorithm of the new key (default: token_signing_alg from the config).
        #[arg(long)]
        alg: Option<SigningAlg>,
    },
    /// Write every client, secret hash, credential and signing key (encrypted) as JSON, to move
    /// them to another database (e.g. SQLite to PostgreSQL). The file is as sensitive as the
    /// database: it is created owner-only.
    Export {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Restore an export into the configured database. Needs the exporting node's pepper and
    /// key-encryption key; refused before any write otherwise.
    Import {
        file: PathBuf,
        /// Keep clients and users that already exist instead of stopping at the first one.
        #[arg(long)]
        skip_existing: bool,
    },
    #[command(flatten)]
    Remote(Box<admin_cli::RemoteCommand>),
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    // A panic (which the server answers with 500 and survives) is logged like every other
    // event, in the configured format, instead of as raw text on stderr.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = keyward_server::panic_message(info.payload());
        tracing::error!(panic = %message, %location, "panic");
    }));
}

/// The client commands log warnings (an unknown config key) and, with `KEYWARD_LOG`, more;
/// plain text on stderr, so that stdout holds only what was asked for.
fn init_client_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        // Offline: no configuration, database or logging involved.
        Command::Keys { command } => keys::run(command),
        Command::Client { command } => {
            init_client_logging();
            client_cli::run(command).await
        }
        Command::Serve => serve(configure(cli.config, cli.log_format)?).await,
        // Through the admin API: the server's configuration and database are not touched.
        Command::Admin {
            command: AdminCommand::Remote(command),
        } => admin_cli::run(*command).await,
        Command::Admin { command } => admin(command, configure(cli.config, cli.log_format)?).await,
    }
}

/// The configuration, with `--log-format` applied, and logging set up by it.
fn configure(file: Option<PathBuf>, log_format: Option<LogFormatArg>) -> anyhow::Result<Config> {
    let mut config = Config::load(file.as_deref())?;
    if let Some(f) = log_format {
        config.log_format = f.into();
    }
    init_logging(config.log_format);
    Ok(config)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Every connection is a descriptor: the usual soft limit (1,024) is below max_connections
    // plus the database pool; the hard limit is what the operator allowed.
    match keyward_server::raise_open_files_limit() {
        Ok(limit) => tracing::debug!(limit, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
    let server = keyward_app::start(config, Arc::new(SystemClock)).await?;
    server.wait_until(shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

async fn admin(command: AdminCommand, config: Config) -> anyhow::Result<()> {
    match command {
        AdminCommand::RotateSigningKey { alg } => {
            let kid = keyward_app::rotate_signing_key(&config, alg, &SystemClock).await?;
            println!("new active signing key: {kid}");
        }
        AdminCommand::Export { out } => {
            let document = keyward_app::export(&config, &SystemClock).await?;
            match out {
                Some(path) => {
                    keys::write_new(&path, document.as_bytes())?;
                    eprintln!("wrote {}", path.display());
                }
                None => println!("{document}"),
            }
        }
        AdminCommand::Import { file, skip_existing } => {
            let document = std::fs::read_to_string(&file)?;
            let s = keyward_app::import(&config, &document, skip_existing, &SystemClock).await?;
            println!(
                "imported {} clients ({} skipped), {} users ({} skipped) and {} signing keys \
                 ({} already present)",
                s.clients,
                s.skipped_clients,
                s.users,
                s.skipped_users,
                s.signing_keys,
                s.skipped_signing_keys
            );
        }
        AdminCommand::Remote(command) => admin_cli::run(*command).await?,
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    keyward_server::install_crypto_provider();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyward: {e}");
            ExitCode::FAILURE
        }
    }
}
