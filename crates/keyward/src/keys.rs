//! `keyward keys`: offline key tools for client operators. `generate` makes what the server's
//! generate route makes, without a server; `inspect` shows what the import route would register.
//! Passwords come from the environment or a prompt, never from argv, where `ps` and shell
//! history would show them.

use std::{
    fs::{File, OpenOptions},
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
};

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use keyward_keys::{Format, ImportOptions, ImportedKey, KeyType, KeystoreFormat, KeystoreSpec, Password};
use keyward_types::JwkParams;
use serde_json::json;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

const STORE_PASSWORD_ENV: &str = "KEYWARD_STORE_PASSWORD";
const KEY_PASSWORD_ENV: &str = "KEYWARD_KEY_PASSWORD";

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a key pair and self-signed certificate into a PKCS#12 or JKS keystore.
    /// Passwords: KEYWARD_STORE_PASSWORD / KEYWARD_KEY_PASSWORD, else prompted.
    Generate(GenerateArgs),
    /// Show the public key in a certificate, public key, JWK(S), PKCS#12 or JKS file: type,
    /// kid, thumbprint, algorithm and certificate validity. Keystore passwords as for generate.
    Inspect(InspectArgs),
}

#[derive(Args)]
pub(crate) struct GenerateArgs {
    #[arg(long = "type", value_name = "KEY_TYPE", value_enum, ignore_case = true)]
    key_type: KeyTypeArg,
    #[arg(long, value_enum, ignore_case = true, default_value_t = KeystoreFormatArg::Pkcs12)]
    format: KeystoreFormatArg,
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
}

#[derive(Args)]
pub(crate) struct InspectArgs {
    file: PathBuf,
    /// The file's format (default: guessed from the content).
    #[arg(long, value_enum, ignore_case = true)]
    format: Option<FormatArg>,
    /// Keystore entry, when the keystore holds several.
    #[arg(long)]
    alias: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `generate --type`, named as `keyward_keys::KeyType` names them.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum KeyTypeArg {
    #[value(name = "RSA-2048")]
    Rsa2048,
    #[value(name = "RSA-3072")]
    Rsa3072,
    #[value(name = "RSA-4096")]
    Rsa4096,
    #[value(name = "EC-P256")]
    EcP256,
    #[value(name = "EC-P384")]
    EcP384,
    #[value(name = "Ed25519")]
    Ed25519,
}

impl From<KeyTypeArg> for KeyType {
    fn from(arg: KeyTypeArg) -> Self {
        match arg {
            KeyTypeArg::Rsa2048 => KeyType::Rsa2048,
            KeyTypeArg::Rsa3072 => KeyType::Rsa3072,
            KeyTypeArg::Rsa4096 => KeyType::Rsa4096,
            KeyTypeArg::EcP256 => KeyType::EcP256,
            KeyTypeArg::EcP384 => KeyType::EcP384,
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
        }
    }
}

/// `generate --format`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum KeystoreFormatArg {
    #[value(alias = "p12")]
    Pkcs12,
    Jks,
}

impl From<KeystoreFormatArg> for KeystoreFormat {
    fn from(arg: KeystoreFormatArg) -> Self {
        match arg {
            KeystoreFormatArg::Pkcs12 => KeystoreFormat::Pkcs12,
            KeystoreFormatArg::Jks => KeystoreFormat::Jks,
        }
    }
}

/// `keys inspect --format` and `admin credentials import --format`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FormatArg {
    Pem,
    Der,
    Jwk,
    Jwks,
    #[value(alias = "p12")]
    Pkcs12,
    Jks,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Pem => Format::Pem,
            FormatArg::Der => Format::Der,
            FormatArg::Jwk => Format::Jwk,
            FormatArg::Jwks => Format::Jwks,
            FormatArg::Pkcs12 => Format::Pkcs12,
            FormatArg::Jks => Format::Jks,
        }
    }
}

pub(crate) fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate(args) => generate(args),
        KeysCommand::Inspect(args) => inspect(args),
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let store_password = password(STORE_PASSWORD_ENV, "Store password", true)?;
    let key_password = if args.key_password || std::env::var_os(KEY_PASSWORD_ENV).is_some() {
        Some(password(KEY_PASSWORD_ENV, "Key password", true)?)
    } else {
        None
    };
    let generated = keyward_keys::generate(&KeystoreSpec {
        key_type: args.key_type.into(),
        format: args.format.into(),
        alias: &args.alias,
        store_password: &store_password,
        key_password: key_password.as_ref(),
        common_name: &args.cn,
        validity_days: args.validity_days,
        now: keyward_types::Clock::now(&keyward_types::SystemClock),
    })?;
    write_new(&args.out, &generated.keystore)?;
    eprintln!("wrote {}", args.out.display());
    print_key(&generated.key, false)
}

fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let file = &args.file;
    let data = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let format = match args.format {
        Some(f) => f.into(),
        None => Format::detect(&data).context("cannot tell the file's format; pass --format")?,
    };
    let (password, key_password) = if matches!(format, Format::Pkcs12 | Format::Jks) {
        let store = password(STORE_PASSWORD_ENV, "Store password", false)?;
        let key = std::env::var(KEY_PASSWORD_ENV).ok().map(Password::new);
        (Some(store), key)
    } else {
        (None, None)
    };
    let options = ImportOptions {
        password: password.as_ref(),
        key_password: key_password.as_ref(),
        alias: args.alias.as_deref(),
    };
    let keys = isolated(file, || keyward_keys::import(format, &data, options))??;
    // Every key must pass before anything is printed: no half output on a refusal.
    for key in &keys {
        keyward_jose::check_public_jwk(&key.jwk, None)?;
    }
    if !args.json {
        println!("format: {format}");
    }
    for key in &keys {
        print_key(key, args.json)?;
    }
    Ok(())
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
pub(crate) fn password(env: &str, label: &str, confirm: bool) -> anyhow::Result<Password> {
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
    let mut file = create_new(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// `path` created empty, owner-only on Unix; an error if it exists.
pub(crate) fn create_new(path: &Path) -> anyhow::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
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
    match &key.jwk.params {
        JwkParams::Rsa { n, .. } => {
            let bits = n.decode().map_or(0, |n| n.len() * 8);
            format!("RSA-{bits}")
        }
        JwkParams::Ec { crv, .. } => format!("EC-{}", crv.as_str().replace('-', "")),
        JwkParams::Okp { crv, .. } => crv.as_str().to_owned(),
    }
}
