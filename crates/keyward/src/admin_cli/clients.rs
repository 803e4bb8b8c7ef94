//! `keyward admin clients`: the client registry. Create sends the metadata document the flags
//! (and `--metadata FILE`) describe; update sends a PATCH with only what was given, so a field
//! left out keeps its stored value.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use super::{
    http::AdminClient,
    print_json,
    table::{fields, Table},
    text, OutputFormat,
};

#[derive(Subcommand)]
pub(crate) enum ClientsCommand {
    /// Every client, in client_id order.
    List {
        /// Only clients whose client_id or client_name contains this (ignoring case).
        #[arg(long)]
        search: Option<String>,
    },
    /// One client, with its registered public keys.
    Get { client_id: String },
    /// Register a client; a generated secret is printed once.
    Create(Metadata),
    /// Change a client: only the fields given are sent.
    Update {
        client_id: String,
        #[command(flatten)]
        metadata: Metadata,
    },
    /// Delete a client with its secrets and keys.
    Delete { client_id: String },
}

/// Client metadata as flags (RFC 7591 names in the JSON sent).
#[derive(Args)]
pub(crate) struct Metadata {
    /// A JSON object of client metadata; the flags below override its members.
    #[arg(long, value_name = "FILE")]
    metadata: Option<PathBuf>,
    /// The new client's id (create only; generated when absent).
    #[arg(long = "client-id", id = "new_client_id", value_name = "CLIENT_ID")]
    client_id: Option<String>,
    /// token_endpoint_auth_method: client_secret_basic, client_secret_post, client_secret_jwt,
    /// private_key_jwt.
    #[arg(long)]
    method: Option<String>,
    /// Space-separated scope tokens the client may request.
    #[arg(long)]
    scope: Option<String>,
    /// A grant type; repeat for several.
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    /// Where a private_key_jwt client publishes its keys.
    #[arg(long)]
    jwks_uri: Option<String>,
    /// client_name.
    #[arg(long)]
    name: Option<String>,
    /// Let the client get tokens (enabled: true).
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    /// Refuse the client's token requests at once (enabled: false).
    #[arg(long)]
    disable: bool,
    /// A redirect URI for the authorization code flow; repeat for several (replaces the list).
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// A post-logout redirect URI; repeat for several (replaces the list).
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// keyward's own application: skip the consent page (first_party: true).
    #[arg(long, conflicts_with = "no_first_party")]
    first_party: bool,
    /// A third-party application: ask for consent (first_party: false).
    #[arg(long)]
    no_first_party: bool,
    /// Accept authorization requests only when pushed first (require_pushed_authorization_requests: true).
    #[arg(long, conflicts_with = "no_require_par")]
    require_par: bool,
    /// Accept authorization requests without PAR too (require_pushed_authorization_requests: false).
    #[arg(long)]
    no_require_par: bool,
    /// Any other metadata member: KEY=VALUE, VALUE as JSON (`true`, `300`, `["a"]`, `null`
    /// to reset), or taken as a string when it is not JSON. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

impl Metadata {
    /// The JSON object to send: the file, then each flag over it.
    fn document(self) -> anyhow::Result<Map<String, Value>> {
        let mut doc = match &self.metadata {
            None => Map::new(),
            Some(path) => {
                let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                match serde_json::from_slice(&bytes) {
                    Ok(Value::Object(map)) => map,
                    Ok(_) => bail!("{}: not a JSON object", path.display()),
                    Err(e) => bail!("{}: not JSON: {e}", path.display()),
                }
            }
        };
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                doc.insert(key.to_owned(), v);
            }
        };
        put("client_id", self.client_id.map(Value::String));
        put("token_endpoint_auth_method", self.method.map(Value::String));
        put("scope", self.scope.map(Value::String));
        put("jwks_uri", self.jwks_uri.map(Value::String));
        put("client_name", self.name.map(Value::String));
        if !self.grant_types.is_empty() {
            put(
                "grant_types",
                Some(self.grant_types.into_iter().map(Value::String).collect()),
            );
        }
        if self.enable || self.disable {
            put("enabled", Some(Value::Bool(self.enable)));
        }
        let list =
            |uris: Vec<String>| (!uris.is_empty()).then(|| uris.into_iter().map(Value::String).collect());
        put("redirect_uris", list(self.redirect_uris));
        put("post_logout_redirect_uris", list(self.post_logout_redirect_uris));
        if self.first_party || self.no_first_party {
            put("first_party", Some(Value::Bool(self.first_party)));
        }
        if self.require_par || self.no_require_par {
            put(
                "require_pushed_authorization_requests",
                Some(Value::Bool(self.require_par)),
            );
        }
        for assignment in self.set {
            let Some((key, value)) = assignment.split_once('=') else {
                bail!("--set {assignment}: expected KEY=VALUE");
            };
            let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
            doc.insert(key.to_owned(), value);
        }
        Ok(doc)
    }
}

pub(crate) async fn run(
    api: &mut AdminClient,
    out: OutputFormat,
    command: ClientsCommand,
) -> anyhow::Result<()> {
    match command {
        ClientsCommand::List { search } => list(api, out, search.as_deref()).await,
        ClientsCommand::Get { client_id } => {
            let client = api.get(&["admin", "clients", &client_id], &[]).await?;
            show(out, &client)
        }
        ClientsCommand::Create(metadata) => {
            let doc = metadata.document()?;
            let created = api.post(&["admin", "clients"], &Value::Object(doc)).await?;
            show(out, &created)?;
            if out == OutputFormat::Table {
                print_secret(&created);
            }
            Ok(())
        }
        ClientsCommand::Update { client_id, metadata } => {
            if metadata.client_id.as_deref().is_some_and(|id| id != client_id) {
                bail!("a client id cannot be changed (--client-id {client_id} differs)");
            }
            let doc = metadata.document()?;
            if doc.is_empty() {
                bail!("nothing to change: give at least one field (see --help)");
            }
            let updated = api
                .patch(&["admin", "clients", &client_id], &Value::Object(doc))
                .await?;
            show(out, &updated)?;
            if out == OutputFormat::Table {
                print_secret(&updated);
            }
            Ok(())
        }
        ClientsCommand::Delete { client_id } => {
            api.delete(&["admin", "clients", &client_id]).await?;
            match out {
                OutputFormat::Json => print_json(&serde_json::json!({ "deleted": client_id })),
                OutputFormat::Table => {
                    println!("deleted client {client_id}");
                    Ok(())
                }
            }
        }
    }
}

/// Follows `next_after` to the last page; JSON output is one document with every client.
async fn list(api: &mut AdminClient, out: OutputFormat, search: Option<&str>) -> anyhow::Result<()> {
    let query: Vec<(&str, String)> = search.map(|s| ("search", s.to_owned())).into_iter().collect();
    let clients = api
        .get_all_pages(&["admin", "clients"], "clients", &query)
        .await?;
    if out == OutputFormat::Json {
        return print_json(&serde_json::json!({ "clients": clients }));
    }
    let mut table = Table::new(&["CLIENT_ID", "METHOD", "ENABLED", "SCOPE", "NAME"]);
    for c in &clients {
        table.row(vec![
            text(c, "client_id"),
            text(c, "token_endpoint_auth_method"),
            text(c, "enabled"),
            text(c, "scope"),
            text(c, "client_name"),
        ]);
    }
    table.print();
    Ok(())
}

/// One client as `key: value` lines (JSON as the server sent it with `--output json`).
fn show(out: OutputFormat, client: &Value) -> anyhow::Result<()> {
    if out == OutputFormat::Json {
        return print_json(client);
    }
    let keys = client
        .get("jwks")
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .map(|keys| keys.iter().map(|k| text(k, "kid")).collect::<Vec<_>>().join(", "));
    let mut pairs = vec![
        ("client_id", text(client, "client_id")),
        ("client_name", text(client, "client_name")),
        ("method", text(client, "token_endpoint_auth_method")),
        ("signing_alg", text(client, "token_endpoint_auth_signing_alg")),
        ("enabled", text(client, "enabled")),
        ("scope", text(client, "scope")),
        ("grant_types", join(client, "grant_types")),
        ("jwks_uri", text(client, "jwks_uri")),
        ("access_token_lifetime", text(client, "access_token_lifetime")),
        ("default_audience", text(client, "default_audience")),
        ("allowed_audiences", join(client, "allowed_audiences")),
        ("redirect_uris", join(client, "redirect_uris")),
        (
            "post_logout_redirect_uris",
            join(client, "post_logout_redirect_uris"),
        ),
        ("first_party", text(client, "first_party")),
        (
            "require_par",
            text(client, "require_pushed_authorization_requests"),
        ),
        ("created_at", text(client, "created_at")),
        ("updated_at", text(client, "updated_at")),
    ];
    if let Some(kids) = keys {
        pairs.push(("keys (kid)", kids));
    }
    pairs.retain(|(_, v)| !v.is_empty());
    fields(&pairs);
    Ok(())
}

fn join(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// A secret the server generated (create, or a switch to a secret method): shown this once.
fn print_secret(answer: &Value) {
    if let Some(secret) = answer.get("client_secret").and_then(Value::as_str) {
        println!();
        println!("client_secret: {secret}");
        println!("This secret is shown once and cannot be read again; store it now.");
    }
}
