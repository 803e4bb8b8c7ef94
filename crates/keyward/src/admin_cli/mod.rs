//! `keyward admin clients|secret|credentials|keys-cache|audit|users`: the admin API of a running
//! server, over HTTP. Every rule stays on the server: these commands only turn flags into
//! requests and answers into text, so the CLI and the API can never disagree. They read no
//! server configuration and open no database.
//!
//! Secrets never come from argv, where `ps` and shell history would show them: the admin
//! secret from `KEYWARD_ADMIN_SECRET` or a prompt, keystore passwords likewise.

mod audit;
mod clients;
mod credentials;
mod http;
mod secret;
mod table;
mod users;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use http::AdminClient;

/// The remote admin commands, flattened into `keyward admin`.
#[derive(Subcommand)]
pub(crate) enum RemoteCommand {
    /// Register, list, show, change and delete clients (through a running server).
    Clients {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: clients::ClientsCommand,
    },
    /// Rotate a client's secret (through a running server).
    Secret {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: secret::SecretCommand,
    },
    /// A client's keys: list, import, generate, enable, disable, delete (through a running server).
    Credentials {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: credentials::CredentialsCommand,
    },
    /// The JWKS URL key cache (through a running server).
    KeysCache {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: KeysCacheCommand,
    },
    /// Users who sign in: create, list, show, change, delete (through a running server).
    Users {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: users::UsersCommand,
    },
    /// The audit log, newest first (through a running server).
    Audit {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        filter: audit::AuditArgs,
    },
}

/// Where the server is and who the CLI is there. The admin secret has no flag on purpose.
#[derive(Args)]
pub(crate) struct ServerArgs {
    /// The server's base URL.
    #[arg(
        long,
        global = true,
        env = "KEYWARD_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    url: String,
    /// The admin client that asks for tokens; its secret comes from KEYWARD_ADMIN_SECRET, else
    /// a prompt.
    #[arg(long, global = true, env = "KEYWARD_ADMIN_CLIENT_ID", default_value = keyward_server::BOOTSTRAP_CLIENT)]
    admin_client_id: String,
    /// PEM CA certificate(s) to trust for an https URL instead of the public web roots.
    #[arg(long, global = true, env = "KEYWARD_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// `table` for people, `json` for the server's answer as it is.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    output: OutputFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Table,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum KeysCacheCommand {
    /// Drop cached JWKS URL keys (one client's, or every client's), so the next request
    /// fetches them again.
    Clear {
        #[arg(long)]
        client_id: Option<String>,
    },
}

const ADMIN_SECRET_ENV: &str = "KEYWARD_ADMIN_SECRET";

pub(crate) async fn run(command: RemoteCommand) -> anyhow::Result<()> {
    match command {
        RemoteCommand::Clients { server, command } => {
            let (mut api, out) = connect(&server)?;
            clients::run(&mut api, out, command).await
        }
        RemoteCommand::Secret { server, command } => {
            let (mut api, out) = connect(&server)?;
            secret::run(&mut api, out, command).await
        }
        RemoteCommand::Credentials { server, command } => {
            let (mut api, out) = connect(&server)?;
            credentials::run(&mut api, out, command).await
        }
        RemoteCommand::KeysCache { server, command } => {
            let (mut api, out) = connect(&server)?;
            let KeysCacheCommand::Clear { client_id } = command;
            let body = match client_id {
                Some(id) => serde_json::json!({ "client_id": id }),
                None => serde_json::json!({}),
            };
            let answer = api.post(&["admin", "keys-cache", "clear"], &body).await?;
            if out == OutputFormat::Json {
                return print_json(&answer);
            }
            let n = answer.get("cleared_urls").and_then(Value::as_u64).unwrap_or(0);
            println!("cleared the cached keys of {n} JWKS URL(s)");
            Ok(())
        }
        RemoteCommand::Users { server, command } => {
            let (mut api, out) = connect(&server)?;
            users::run(&mut api, out, command).await
        }
        RemoteCommand::Audit { server, filter } => {
            let (mut api, out) = connect(&server)?;
            audit::run(&mut api, out, filter).await
        }
    }
}

fn connect(server: &ServerArgs) -> anyhow::Result<(AdminClient, OutputFormat)> {
    let secret = crate::keys::password(ADMIN_SECRET_ENV, "Admin client secret", false)?;
    let api = AdminClient::new(
        &server.url,
        server.ca_cert.as_deref(),
        server.admin_client_id.clone(),
        keyward_types::ClientSecret::from_presented(secret.expose().to_owned()),
    )?;
    Ok((api, server.output))
}

/// The server's JSON, pretty-printed, for `--output json`.
pub(crate) fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A string member of an answer, or "" when absent or not a string (tables show what is there).
pub(crate) fn text(value: &Value, key: &str) -> String {
    match value.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}
