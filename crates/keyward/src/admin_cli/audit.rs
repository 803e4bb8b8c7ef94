//! `keyward admin audit`: one page of the audit log, newest first, with the filters of
//! `GET /admin/audit` (the server checks them; a bad one is its `400`).

use clap::Args;
use serde_json::Value;

use super::{http::AdminClient, print_json, table::Table, text, OutputFormat};

#[derive(Args)]
pub(crate) struct AuditArgs {
    /// Only events about this client.
    #[arg(long)]
    client_id: Option<String>,
    /// Only events by this caller (an admin client id, `anonymous`, `keyward-cli`, `keyward-serve`).
    #[arg(long)]
    actor: Option<String>,
    /// An action (`client.create`) or a prefix ending in `.` (`client.`).
    #[arg(long)]
    action: Option<String>,
    /// RFC 3339: events at or after this time.
    #[arg(long, value_name = "RFC3339")]
    since: Option<String>,
    /// RFC 3339: events before this time.
    #[arg(long, value_name = "RFC3339")]
    until: Option<String>,
    /// Page size, 1–500 (server default 100).
    #[arg(long)]
    limit: Option<u32>,
    /// The next page: the cursor printed under the previous one.
    #[arg(long)]
    cursor: Option<String>,
}

pub(crate) async fn run(api: &mut AdminClient, out: OutputFormat, args: AuditArgs) -> anyhow::Result<()> {
    let query: Vec<(&str, String)> = [
        ("client_id", args.client_id),
        ("actor", args.actor),
        ("action", args.action),
        ("since", args.since),
        ("until", args.until),
        ("limit", args.limit.map(|l| l.to_string())),
        ("cursor", args.cursor),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let page = api.get(&["admin", "audit"], &query).await?;
    if out == OutputFormat::Json {
        return print_json(&page);
    }
    let mut table = Table::new(&["AT", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"]);
    for e in page.get("events").and_then(Value::as_array).into_iter().flatten() {
        let detail = match e.get("detail") {
            None | Some(Value::Null) => String::new(),
            Some(d) => d.to_string(),
        };
        table.row(vec![
            text(e, "at"),
            text(e, "actor"),
            text(e, "action"),
            text(e, "target"),
            text(e, "outcome"),
            detail,
        ]);
    }
    table.print();
    if let Some(cursor) = page.get("next_cursor").and_then(Value::as_str) {
        println!("\nmore: --cursor {cursor}");
    }
    Ok(())
}
