//! `keyward keys`: offline key tools for client operators. `generate` makes what the server's
//! generate route makes, without a server; `inspect` shows what the import route would register.
//! Passwords come from the environment or a prompt, never from argv, where `ps` and shell
//! history would show them.

use std::{
    fs::OpenOptions,
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
};

use anyhow::{bail, Context};
use clap::Subcommand;
use keyward_keys::{Format, ImportOptions, ImportedKey, KeyType, KeystoreFormat, KeystoreSpec, Password};
use serde_json::json;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

const STORE_PASSWORD_ENV: &str = "KEYWARD_STORE_PASSWORD";
const KEY_PASSWORD_ENV: &str = "KEYWARD_KEY_PASSWORD";

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a key pair and self-signed certificate into a PKCS#12 or JKS keystore.
    /// Passwords: KEYWARD_STORE_PASSWORD / KEYWARD_KEY_PASSWORD, else prompted.
    Generate {
        /// RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384 or Ed25519.
        #[arg(long = "type", value_name = "KEY_TYPE")]
        key_type: String,
        /// pkcs12 or jks.
        #[arg(long, default_value = "pkcs12")]
        format: String,
        #[arg(long)]
        alias: String,
        /// The certificate's subject CN (use the client id).
        #[arg(long, default_value = "keyward-client")]
        cn: String,
        #[arg(long, default_value_t = 365)]
        validity_days: u32,
        /// Where to write the keystore; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// Also ask for a separate key password (JKS only; default: the store password).
        #[arg(long)]
        key_password: bool,
    },
    /// Show the public key in a certificate, public key, JWK(S), PKCS#12 or JKS file: type,
    /// kid, thumbprint, algorithm and certificate validity. Keystore passwords as for generate.
    Inspect {
        file: PathBuf,
        /// pem, der, jwk, jwks, pkcs12 or jks (default: guessed from the content).
        #[arg(long)]
        format: Option<String>,
        /// Keystore entry, when the keystore holds several.
        #[arg(long)]
        alias: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate {
            key_type,
            format,
            alias,
            cn,
            validity_days,
            out,
            key_password,
        } => {
            let key_type: KeyType = key_type.parse()?;
            let format: KeystoreFormat = format.parse()?;
            let store_password = password(STORE_PASSWORD_ENV, "Store password", true)?;
            let key_password = if key_password || std::env::var_os(KEY_PASSWORD_ENV).is_some() {
                Some(password(KEY_PASSWORD_ENV, "Key password", true)?)
            } else {
                None
            };
            let generated = keyward_keys::generate(&KeystoreSpec {
                key_type,
                format,
                alias: &alias,
                store_password: &store_password,
                key_password: key_password.as_ref(),
                common_name: &cn,
                validity_days,
                now: OffsetDateTime::now_utc(),
            })?;
            write_new(&out, &generated.keystore)?;
            eprintln!("wrote {}", out.display());
            print_key(&generated.key, false)
        }
        KeysCommand::Inspect {
            file,
            format,
            alias,
            json,
        } => {
            let data = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let format = match format {
                Some(f) => f.parse()?,
                None => Format::detect(&data).context("cannot tell the file's format; pass --format")?,
            };
            let (password, key_password) = if matches!(format, Format::Pkcs12 | Format::Jks) {
                let store = password(STORE_PASSWORD_ENV, "Store password", false)?;
                let key = std::env::var(KEY_PASSWORD_ENV).ok().map(Password::new);
                (Some(store), key)
            } else {
                (None, None)
            };
            let keys = isolated(&file, || {
                keyward_keys::import(
                    format,
                    &data,
                    ImportOptions {
                        password: password.as_ref(),
                        key_password: key_password.as_ref(),
                        alias: alias.as_deref(),
                    },
                )
            })??;
            // Every key must pass before anything is printed: no half output on a refusal.
            for key in &keys {
                keyward_jose::check_public_jwk(&key.jwk, None)?;
            }
            if !json {
                println!("format: {format}");
            }
            for key in &keys {
                print_key(key, json)?;
            }
            Ok(())
        }
    }
}

/// Runs a reader over an untrusted file so that a panic in a dependency (the kind a crafted
/// keystore once caused) ends this command with one line naming the file, not a crash report.
/// The default hook would print the panic over several lines first, so it is silenced for the
/// call; the message goes into the error instead.
fn isolated<T>(file: &Path, read: impl FnOnce() -> T) -> anyhow::Result<T> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    std::panic::set_hook(previous);
    result.map_err(|payload| {
        anyhow::anyhow!(
            "cannot read {}: the file is broken (the reader failed: {})",
            file.display(),
            keyward_server::panic_message(payload.as_ref())
        )
    })
}

/// From `env`, else a prompt on the terminal (twice when `confirm`, for new passwords).
fn password(env: &str, label: &str, confirm: bool) -> anyhow::Result<Password> {
    if let Ok(p) = std::env::var(env) {
        return Ok(Password::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("{label}: set {env} or run on a terminal to be prompted");
    }
    let first = Password::new(rpassword::prompt_password(format!("{label}: "))?);
    if confirm {
        let again = Password::new(rpassword::prompt_password(format!("{label} again: "))?);
        if again.expose() != first.expose() {
            bail!("{label}: the two entries differ");
        }
    }
    Ok(first)
}

/// Creates `path` (owner-only on Unix) and fails if it exists: a keystore is never replaced.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// What keyward would register for the key: type, kid (its JWK's, else the thumbprint),
/// thumbprint, default algorithm, and the certificate's facts.
fn print_key(key: &ImportedKey, as_json: bool) -> anyhow::Result<()> {
    let alg = keyward_jose::check_public_jwk(&key.jwk, None)?;
    let thumbprint = key.jwk.thumbprint();
    let kid = key.jwk.kid.clone().unwrap_or_else(|| thumbprint.clone());
    let key_type = describe(key);
    let time = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    if as_json {
        let mut out = serde_json::Map::new();
        out.insert("type".into(), json!(key_type));
        out.insert("kid".into(), json!(kid));
        out.insert("thumbprint".into(), json!(thumbprint));
        out.insert("alg".into(), json!(alg.to_string()));
        if let Some(a) = &key.alias {
            out.insert("alias".into(), json!(a));
        }
        if let Some(c) = &key.certificate {
            out.insert(
                "certificate".into(),
                json!({"subject": c.subject, "issuer": c.issuer, "serial": c.serial,
                    "not_before": time(c.not_before), "not_after": time(c.not_after)}),
            );
        }
        let out = serde_json::Value::Object(out);
        println!("{out}");
        return Ok(());
    }
    if let Some(a) = &key.alias {
        println!("alias: {a}");
    }
    println!("type: {key_type}\nkid: {kid}\nthumbprint: {thumbprint}\nalg: {alg}");
    if let Some(c) = &key.certificate {
        println!(
            "certificate: subject {}; issuer {}; serial {}\nvalid: {} to {}",
            c.subject,
            c.issuer,
            c.serial,
            time(c.not_before),
            time(c.not_after)
        );
    }
    Ok(())
}

fn describe(key: &ImportedKey) -> String {
    let jwk = &key.jwk;
    match jwk.kty.as_str() {
        "RSA" => {
            let bits = jwk
                .n
                .as_deref()
                .and_then(keyward_jose::b64_decode)
                .map_or(0, |n| n.len() * 8);
            format!("RSA-{bits}")
        }
        "EC" => format!("EC-{}", jwk.crv.as_deref().unwrap_or("?").replace('-', "")),
        _ => jwk.crv.clone().unwrap_or_else(|| jwk.kty.clone()),
    }
}
