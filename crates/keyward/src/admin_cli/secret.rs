//! `keyward admin secret rotate`: a new client secret, printed once; the previous one keeps
//! working for the grace period (at most the server's `max_secret_grace_period`).

use clap::Subcommand;
use serde_json::{json, Value};

use super::{http::AdminClient, print_json, table::fields, text, OutputFormat};

#[derive(Subcommand)]
pub(crate) enum SecretCommand {
    /// Generate a new secret for a client.
    Rotate {
        client_id: String,
        /// Seconds the previous secret keeps working (default 0: it stops at once).
        #[arg(long, value_name = "SECONDS")]
        grace_period: Option<u64>,
    },
}

pub(crate) async fn run(
    api: &mut AdminClient,
    out: OutputFormat,
    command: SecretCommand,
) -> anyhow::Result<()> {
    let SecretCommand::Rotate {
        client_id,
        grace_period,
    } = command;
    let body = match grace_period {
        Some(s) => json!({ "grace_period_seconds": s }),
        None => json!({}),
    };
    let rotated = api
        .post(&["admin", "clients", &client_id, "secret"], &body)
        .await?;
    if out == OutputFormat::Json {
        return print_json(&rotated);
    }
    let previous = match rotated.get("previous_secret_expires_at").and_then(Value::as_i64) {
        Some(t) => time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .map_or_else(|| t.to_string(), |s| format!("works until {s}")),
        None => "stopped working".to_owned(),
    };
    fields(&[
        ("client_id", text(&rotated, "client_id")),
        ("client_secret", text(&rotated, "client_secret")),
        ("previous secret", previous),
    ]);
    println!("This secret is shown once and cannot be read again; store it now.");
    Ok(())
}
