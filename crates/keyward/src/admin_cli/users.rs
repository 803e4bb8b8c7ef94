//! `keyward admin users`: people who sign in (the console, the authorization code flow).
//! A password never comes from argv: from standard input with `--password-stdin`, else (for
//! create) from `KEYWARD_USER_PASSWORD`.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{
    http::AdminClient,
    print_json,
    table::{fields, Table},
    text, OutputFormat,
};

const USER_PASSWORD_ENV: &str = "KEYWARD_USER_PASSWORD";

#[derive(Subcommand)]
pub(crate) enum UsersCommand {
    /// Every user, in username order.
    List,
    /// One user.
    Show { username: String },
    /// Create a user; the password comes from standard input (--password-stdin) or
    /// KEYWARD_USER_PASSWORD.
    Create {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        fields: UserFields,
    },
    /// Change a user: only what is given is sent. A new password, --disable or other roles
    /// end the user's sessions.
    Update {
        username: String,
        #[command(flatten)]
        fields: UserFields,
        /// Let the user sign in (enabled: true).
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Refuse the user's sign-ins and end its sessions (enabled: false).
        #[arg(long)]
        disable: bool,
    },
    /// Delete a user and its sessions.
    Delete { username: String },
}

#[derive(Args)]
pub(crate) struct UserFields {
    /// The user's display name.
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// A role (only `admin` exists); repeat for several. On update, replaces the roles.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl UserFields {
    /// The members these flags set; `password` is the password to send, if any.
    fn document(self, password: Option<Zeroizing<String>>) -> Map<String, Value> {
        let mut doc = Map::new();
        if let Some(name) = self.name {
            doc.insert("name".into(), Value::String(name));
        }
        if let Some(email) = self.email {
            doc.insert("email".into(), Value::String(email));
        }
        if !self.roles.is_empty() {
            doc.insert(
                "roles".into(),
                self.roles.into_iter().map(Value::String).collect(),
            );
        }
        if let Some(p) = password {
            doc.insert("password".into(), Value::String(p.to_string()));
        }
        doc
    }
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
    if trimmed.is_empty() {
        bail!("--password-stdin: standard input holds no password");
    }
    Ok(trimmed)
}

pub(crate) async fn run(
    api: &mut AdminClient,
    out: OutputFormat,
    command: UsersCommand,
) -> anyhow::Result<()> {
    match command {
        UsersCommand::List => list(api, out).await,
        UsersCommand::Show { username } => {
            let user = api.get(&["admin", "users", &username], &[]).await?;
            show(out, &user)
        }
        UsersCommand::Create { username, fields } => {
            let password = if fields.password_stdin {
                password_from_stdin()?
            } else {
                match std::env::var(USER_PASSWORD_ENV) {
                    Ok(p) => Zeroizing::new(p),
                    Err(_) => bail!(
                        "no password for the new user: pass --password-stdin and write it to standard input, \
                         or set {USER_PASSWORD_ENV}"
                    ),
                }
            };
            let mut doc = fields.document(Some(password));
            doc.insert("username".into(), Value::String(username));
            let created = api.post(&["admin", "users"], &Value::Object(doc)).await?;
            show(out, &created)
        }
        UsersCommand::Update {
            username,
            fields,
            enable,
            disable,
        } => {
            let password = if fields.password_stdin {
                Some(password_from_stdin()?)
            } else {
                None
            };
            let mut doc = fields.document(password);
            if enable || disable {
                doc.insert("enabled".into(), Value::Bool(enable));
            }
            if doc.is_empty() {
                bail!("nothing to change: give at least one field (see --help)");
            }
            let updated = api
                .patch(&["admin", "users", &username], &Value::Object(doc))
                .await?;
            show(out, &updated)
        }
        UsersCommand::Delete { username } => {
            api.delete(&["admin", "users", &username]).await?;
            match out {
                OutputFormat::Json => print_json(&serde_json::json!({ "deleted": username })),
                OutputFormat::Table => {
                    println!("deleted user {username}");
                    Ok(())
                }
            }
        }
    }
}

/// Follows `next_after` to the last page; JSON output is one document with every user.
async fn list(api: &mut AdminClient, out: OutputFormat) -> anyhow::Result<()> {
    let users = api.get_all_pages(&["admin", "users"], "users", &[]).await?;
    if out == OutputFormat::Json {
        return print_json(&serde_json::json!({ "users": users }));
    }
    let mut table = Table::new(&["USERNAME", "ENABLED", "ROLES", "NAME", "EMAIL"]);
    for u in &users {
        table.row(vec![
            text(u, "username"),
            text(u, "enabled"),
            roles(u),
            text(u, "name"),
            text(u, "email"),
        ]);
    }
    table.print();
    Ok(())
}

/// One user as `key: value` lines (JSON as the server sent it with `--output json`).
fn show(out: OutputFormat, user: &Value) -> anyhow::Result<()> {
    if out == OutputFormat::Json {
        return print_json(user);
    }
    let mut pairs = vec![
        ("username", text(user, "username")),
        ("name", text(user, "name")),
        ("email", text(user, "email")),
        ("roles", roles(user)),
        ("enabled", text(user, "enabled")),
        ("created_at", text(user, "created_at")),
        ("updated_at", text(user, "updated_at")),
    ];
    pairs.retain(|(_, v)| !v.is_empty());
    fields(&pairs);
    Ok(())
}

fn roles(user: &Value) -> String {
    user.get("roles")
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
