//! `keyward admin credentials`: a `private_key_jwt` client's key list. Import sends the file as
//! the server reads it (text, or base64 for binary formats); generate writes the keystore the
//! server returns once to a new owner-only file. Keystore passwords come from the environment
//! or a prompt, never from argv.

use std::{fs::File, io::Write, path::PathBuf};

use anyhow::{bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};
use clap::{Args, Subcommand};
use keyward_keys::{Format, Password};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use super::{http::AdminClient, print_json, table::Table, text, OutputFormat};

/// The keystore (store) password; `KEYWARD_STORE_PASSWORD`, what `keyward keys` reads, is
/// accepted too.
const STORE_PASSWORD_ENV: &str = "KEYWARD_KEYSTORE_PASSWORD";
const STORE_PASSWORD_ENV_KEYS: &str = "KEYWARD_STORE_PASSWORD";
/// A JKS key password that differs from the store password.
const KEY_PASSWORD_ENV: &str = "KEYWARD_KEY_PASSWORD";

#[derive(Subcommand)]
pub(crate) enum CredentialsCommand {
    /// A client's keys.
    List { client_id: String },
    /// Add the key(s) in a file. Keystore passwords: KEYWARD_KEYSTORE_PASSWORD and
    /// KEYWARD_KEY_PASSWORD, else prompted.
    Import(ImportArgs),
    /// Let the server generate a key pair and certificate; the keystore is written to --out
    /// (owner-only, never over an existing file). Passwords as for import.
    Generate(GenerateArgs),
    /// Let a disabled key verify assertions again.
    Enable {
        client_id: String,
        credential_id: String,
    },
    /// Stop a key from verifying assertions, at once.
    Disable {
        client_id: String,
        credential_id: String,
    },
    /// Remove a key.
    Delete {
        client_id: String,
        credential_id: String,
    },
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    client_id: String,
    #[arg(long)]
    file: PathBuf,
    #[arg(long, value_enum, ignore_case = true)]
    format: crate::keys::FormatArg,
    /// Keystore entry; needed when the keystore holds several.
    #[arg(long)]
    alias: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// Algorithm the key verifies (default: by key type).
    #[arg(long)]
    alg: Option<String>,
    #[arg(long)]
    kid: Option<String>,
    /// RFC 3339 (default: the certificate's notAfter, if any).
    #[arg(long, value_name = "RFC3339")]
    expires_at: Option<String>,
    /// Prompt for a JKS key password that differs from the store password (unless
    /// KEYWARD_KEY_PASSWORD is set).
    #[arg(long)]
    ask_key_password: bool,
}

#[derive(Args)]
pub(crate) struct GenerateArgs {
    client_id: String,
    /// RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384 or Ed25519.
    #[arg(long)]
    key_type: String,
    /// pkcs12 or jks.
    #[arg(long, default_value = "pkcs12")]
    format: String,
    #[arg(long)]
    alias: String,
    #[arg(long)]
    validity_days: Option<u32>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    alg: Option<String>,
    /// Where to write the keystore; an existing file is never overwritten.
    #[arg(long)]
    out: PathBuf,
    /// Prompt for a separate JKS key password (unless KEYWARD_KEY_PASSWORD is set).
    #[arg(long)]
    ask_key_password: bool,
}

pub(crate) async fn run(
    api: &mut AdminClient,
    out: OutputFormat,
    command: CredentialsCommand,
) -> anyhow::Result<()> {
    match command {
        CredentialsCommand::List { client_id } => {
            let list = api
                .get(&["admin", "clients", &client_id, "credentials"], &[])
                .await?;
            print_list(out, &list)
        }
        CredentialsCommand::Import(args) => import(api, out, args).await,
        CredentialsCommand::Generate(args) => generate(api, out, args).await,
        CredentialsCommand::Enable {
            client_id,
            credential_id,
        } => set_enabled(api, out, &client_id, &credential_id, true).await,
        CredentialsCommand::Disable {
            client_id,
            credential_id,
        } => set_enabled(api, out, &client_id, &credential_id, false).await,
        CredentialsCommand::Delete {
            client_id,
            credential_id,
        } => {
            api.delete(&["admin", "clients", &client_id, "credentials", &credential_id])
                .await?;
            match out {
                OutputFormat::Json => print_json(&json!({ "deleted": credential_id })),
                OutputFormat::Table => {
                    println!("deleted credential {credential_id} of client {client_id}");
                    Ok(())
                }
            }
        }
    }
}

async fn set_enabled(
    api: &mut AdminClient,
    out: OutputFormat,
    client_id: &str,
    credential_id: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    let credential = api
        .patch(
            &["admin", "clients", client_id, "credentials", credential_id],
            &json!({ "enabled": enabled }),
        )
        .await?;
    print_list(out, &json!({ "credentials": [credential] }))
}

async fn import(api: &mut AdminClient, out: OutputFormat, args: ImportArgs) -> anyhow::Result<()> {
    let path = &args.file;
    let bytes =
        Zeroizing::new(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?);
    let format = Format::from(args.format);
    let data = if format.is_binary() {
        STANDARD.encode(&*bytes)
    } else {
        String::from_utf8(bytes.to_vec())
            .with_context(|| format!("{}: not text; is --format right?", path.display()))?
    };
    let mut body = Map::new();
    body.insert("format".into(), json!(format.as_str()));
    body.insert("data".into(), json!(data));
    if matches!(format, Format::Pkcs12 | Format::Jks) {
        let store = store_password(false)?;
        body.insert("password".into(), json!(store.expose()));
        if let Some(key) = key_password(args.ask_key_password, false)? {
            body.insert("key_password".into(), json!(key.expose()));
        }
    }
    for (key, value) in [
        ("alias", args.alias),
        ("name", args.name),
        ("alg", args.alg),
        ("kid", args.kid),
        ("expires_at", args.expires_at),
    ] {
        if let Some(v) = value {
            body.insert(key.into(), json!(v));
        }
    }
    let imported = api
        .post(
            &["admin", "clients", &args.client_id, "credentials"],
            &Value::Object(body),
        )
        .await?;
    print_list(out, &imported)
}

async fn generate(api: &mut AdminClient, out: OutputFormat, args: GenerateArgs) -> anyhow::Result<()> {
    // Created before the request, so the key pair is never made (and registered) for a file
    // that cannot be written, and an existing file is never touched.
    let mut file = crate::keys::create_new(&args.out)?;
    let result = generate_into(api, &args, &mut file).await;
    let generated = match result {
        Ok(g) => g,
        Err(e) => {
            drop(file);
            // Still empty: nothing of the user's is removed.
            let _ = std::fs::remove_file(&args.out);
            return Err(e);
        }
    };
    eprintln!("wrote {} (owner-only)", args.out.display());
    if out == OutputFormat::Json {
        return print_json(&generated);
    }
    print_list(out, &json!({ "credentials": [generated.get("credential")] }))
}

/// Asks the server for the keystore and writes it to `file`; returns the answer without the
/// keystore, which holds the private key and goes nowhere else.
async fn generate_into(api: &mut AdminClient, args: &GenerateArgs, file: &mut File) -> anyhow::Result<Value> {
    let store = store_password(true)?;
    let mut body = Map::new();
    body.insert("key_type".into(), json!(args.key_type));
    body.insert("format".into(), json!(args.format));
    body.insert("alias".into(), json!(args.alias));
    body.insert("store_password".into(), json!(store.expose()));
    if let Some(key) = key_password(args.ask_key_password, true)? {
        body.insert("key_password".into(), json!(key.expose()));
    }
    if let Some(d) = args.validity_days {
        body.insert("validity_days".into(), json!(d));
    }
    for (key, value) in [("name", &args.name), ("alg", &args.alg)] {
        if let Some(v) = value {
            body.insert(key.into(), json!(v));
        }
    }
    let mut answer = api
        .post(
            &["admin", "clients", &args.client_id, "credentials", "generate"],
            &Value::Object(body),
        )
        .await?;
    let keystore = match answer.as_object_mut().and_then(|o| o.remove("keystore")) {
        Some(Value::String(b64)) => Zeroizing::new(b64),
        _ => bail!("the server's answer holds no keystore"),
    };
    let bytes = Zeroizing::new(
        STANDARD
            .decode(keystore.as_bytes())
            .context("the keystore is not base64")?,
    );
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    Ok(answer)
}

/// The store password; `KEYWARD_STORE_PASSWORD`, what `keyward keys` reads for the same
/// keystores, serves when `KEYWARD_KEYSTORE_PASSWORD` is unset. Asked twice when `confirm` (a
/// new keystore).
fn store_password(confirm: bool) -> anyhow::Result<Password> {
    let env = if std::env::var_os(STORE_PASSWORD_ENV).is_none()
        && std::env::var_os(STORE_PASSWORD_ENV_KEYS).is_some()
    {
        STORE_PASSWORD_ENV_KEYS
    } else {
        STORE_PASSWORD_ENV
    };
    crate::keys::password(env, "Keystore password", confirm)
}

/// A JKS key password from its variable, else a prompt when asked for; `None`: the store
/// password serves.
fn key_password(ask: bool, confirm: bool) -> anyhow::Result<Option<Password>> {
    if std::env::var_os(KEY_PASSWORD_ENV).is_none() && !ask {
        return Ok(None);
    }
    crate::keys::password(KEY_PASSWORD_ENV, "Key password", confirm).map(Some)
}

fn print_list(out: OutputFormat, answer: &Value) -> anyhow::Result<()> {
    if out == OutputFormat::Json {
        return print_json(answer);
    }
    let mut table = Table::new(&["ID", "KID", "ALG", "ENABLED", "EXPIRES_AT", "NAME"]);
    for c in answer
        .get("credentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        table.row(vec![
            text(c, "id"),
            text(c, "kid"),
            text(c, "alg"),
            text(c, "enabled"),
            text(c, "expires_at"),
            text(c, "name"),
        ]);
    }
    table.print();
    Ok(())
}
