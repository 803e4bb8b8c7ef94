#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Integration tests of the offline key tools, `keyward keys generate` and `keyward keys
//! inspect`, run as the real binary; and the end-to-end proof against
//! the real server that the private key of a generated client keystore never reaches the logs,
//! the database or an admin response.
//!
//! Generated keystores are read back by `keytool` and `openssl`; inspected files are the real
//! interop files in `../shared/interop/`. Thumbprints are checked against the `kid`s of the
//! interop JWKs (made by jwcrypto) and against RFC 7638 thumbprints computed here from the
//! public key as `openssl` prints it, so no check relies on keyward's own thumbprint code.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use keyward_jose::SigningKey;
use keyward_testkit::{
    fixtures::{interop, KEYPASS, STOREPASS},
    jose::{assertion_claims, sign_jws},
    process::{keyward, output_text, serve, start},
    remote::{admin_token, create_client_as, http, ADMIN_SECRET},
    JWT_BEARER,
};
use keyward_types::SigningAlg;
use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};
use zeroize::Zeroizing;

const STORE_ENV: &str = "KEYWARD_STORE_PASSWORD";
const KEY_ENV: &str = "KEYWARD_KEY_PASSWORD";

const RSA_JWK: &str = "sample-rsa2048-public.jwk";
const EC256_JWK: &str = "sample-ec256-public.jwk";
const ED25519_JWK: &str = "sample-ed25519-public.jwk";

// --- Running things ---------------------------------------------------------------------------

/// `keyward keys ARGS` in `dir`, with only the given `KEYWARD_*` variables and stdin from
/// /dev/null (so never a terminal).
fn keys(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = keyward(dir);
    cmd.arg("keys").args(args).envs(env.iter().copied());
    cmd.stdin(Stdio::null());
    cmd.output().expect("run keyward keys")
}

/// Runs an external tool with `stdin` fed to it.
fn tool(program: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn show(o: &Output) -> String {
    output_text(o)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit status 0, else a panic with the whole output.
fn ok(o: Output, what: &str) -> Output {
    assert_eq!(o.status.code(), Some(0), "{what} failed\n{}", show(&o));
    o
}

/// Exit status 1 (keyward's error exit: not 0, and not 101, a panic), and the error on stderr.
fn failed(o: &Output, what: &str) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "{what}: expected exit status 1\n{}",
        show(o)
    );
    let err = stderr(o);
    assert!(
        err.starts_with("keyward: ") || err.starts_with("error: "),
        "{what}: no error message\n{}",
        show(o)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    for name in ["type", "kid", "thumbprint", "alg"] {
        assert!(
            fields(&out, name).is_empty(),
            "{what}: reported a key\n{}",
            show(o)
        );
    }
    err
}

/// The values of every `name: value` line of keyward's text output.
fn fields(text: &str, name: &str) -> Vec<String> {
    let prefix = format!("{name}: ");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

/// The value of the one `name: value` line.
fn field(text: &str, name: &str) -> String {
    let values = fields(text, name);
    assert_eq!(values.len(), 1, "expected one '{name}:' line in:\n{text}");
    values[0].clone()
}

fn jwk_kid(file: &str) -> String {
    let jwk: Value = serde_json::from_slice(&std::fs::read(interop(file)).unwrap()).unwrap();
    jwk["kid"].as_str().unwrap().to_owned()
}

fn rfc3339(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().unwrap_or_else(|| panic!("not a string: {v}")),
        &Rfc3339,
    )
    .unwrap()
}

// --- Independent RFC 7638 thumbprints, from what openssl prints ---------------------------------

/// The bytes of the hex block under the line `header` (`Modulus:`, `pub:`, `priv:`) in the
/// `-text` output of `openssl pkey`.
fn hex_block(text: &str, header: &str) -> Vec<u8> {
    let mut lines = text.lines().skip_while(|l| l.trim() != header);
    assert!(lines.next().is_some(), "no '{header}' in:\n{text}");
    let hex: String = lines
        .take_while(|l| l.starts_with(' ') && l.trim().chars().all(|c| c.is_ascii_hexdigit() || c == ':'))
        .flat_map(|l| l.chars().filter(char::is_ascii_hexdigit))
        .collect();
    assert!(
        !hex.is_empty() && hex.len().is_multiple_of(2),
        "bad hex under '{header}' in:\n{text}"
    );
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    let o = ok(
        tool("openssl", &["dgst", "-sha256", "-binary"], data),
        "openssl dgst",
    );
    assert_eq!(o.stdout.len(), 32);
    o.stdout
}

/// The RFC 7638 thumbprint of the public key in a PEM certificate or `PUBLIC KEY`, computed
/// from `openssl pkey -text` output.
fn openssl_thumbprint(pem: &[u8]) -> String {
    let spki = if String::from_utf8_lossy(pem).contains("BEGIN CERTIFICATE") {
        ok(
            tool("openssl", &["x509", "-noout", "-pubkey"], pem),
            "openssl x509 -pubkey",
        )
        .stdout
    } else {
        pem.to_vec()
    };
    let text = stdout(&ok(
        tool("openssl", &["pkey", "-pubin", "-text", "-noout"], &spki),
        "openssl pkey -text",
    ));
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let canonical = if text.contains("Modulus:") {
        let mut n = hex_block(&text, "Modulus:");
        while n.first() == Some(&0) {
            n.remove(0);
        }
        let e: u64 = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Exponent: "))
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        let e_bytes = e.to_be_bytes();
        let e_bytes: Vec<u8> = e_bytes.iter().copied().skip_while(|b| *b == 0).collect();
        format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(&e_bytes), b64(&n))
    } else if text.starts_with("ED25519 Public-Key") {
        let x = hex_block(&text, "pub:");
        assert_eq!(x.len(), 32);
        format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(&x))
    } else {
        let point = hex_block(&text, "pub:");
        let crv = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("NIST CURVE: "))
            .unwrap_or_else(|| panic!("no curve in:\n{text}"));
        let len = (point.len() - 1) / 2;
        assert_eq!(point[0], 4, "not an uncompressed point");
        format!(
            r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
            b64(&point[1..=len]),
            b64(&point[len + 1..])
        )
    };
    b64(&sha256(canonical.as_bytes()))
}

/// The certificate's notAfter, as openssl reads it.
fn openssl_not_after(cert_pem: &[u8]) -> OffsetDateTime {
    let o = ok(
        tool(
            "openssl",
            &["x509", "-noout", "-enddate", "-dateopt", "iso_8601"],
            cert_pem,
        ),
        "openssl x509 -enddate",
    );
    let text = stdout(&o);
    let date = text.trim().strip_prefix("notAfter=").unwrap().replace(' ', "T");
    OffsetDateTime::parse(&date, &Rfc3339).unwrap_or_else(|e| panic!("{date}: {e}"))
}

/// The certificate of a PKCS#12 file, as PEM, read by openssl.
fn p12_cert(file: &Path, password: &str, legacy: bool) -> Vec<u8> {
    let pass = format!("pass:{password}");
    let mut args = vec![
        "pkcs12",
        "-in",
        file.to_str().unwrap(),
        "-nokeys",
        "-passin",
        &pass,
    ];
    if legacy {
        args.push("-legacy");
    }
    ok(tool("openssl", &args, b""), "openssl pkcs12 -nokeys").stdout
}

/// The certificate of a JKS or PKCS#12 entry, as PEM, read by keytool.
fn keytool_cert(file: &Path, storetype: &str, password: &str, alias: &str) -> Vec<u8> {
    let o = tool(
        "keytool",
        &[
            "-exportcert",
            "-rfc",
            "-alias",
            alias,
            "-keystore",
            file.to_str().unwrap(),
            "-storetype",
            storetype,
            "-storepass",
            password,
        ],
        b"",
    );
    ok(o, "keytool -exportcert").stdout
}

// --- 1. generate, read back by keytool and openssl ------------------------------------------------

const STORE_PASSWORD: &str = "store-pass-123";
const KEY_PASSWORD: &str = "key-pass-4567";
const VALIDITY_DAYS: i64 = 30;

/// `keyward keys generate` of one key type and format, and every check of the keystore.
fn generate_roundtrip(key_type: &str, format: &str, alg: &str, cert_signature: &str) {
    let dir = tempfile::tempdir().unwrap();
    let jks = format == "jks";
    let out = dir.path().join(if jks { "client.jks" } else { "client.p12" });
    let out_arg = out.to_str().unwrap();
    let alias = format!("{}-key", key_type.to_ascii_lowercase());
    let cn = format!("cli-{}", key_type.to_ascii_lowercase());
    let mut env = vec![(STORE_ENV, STORE_PASSWORD)];
    if jks {
        env.push((KEY_ENV, KEY_PASSWORD));
    }
    let days = VALIDITY_DAYS.to_string();
    let before = keyward_types::Clock::now(&keyward_types::SystemClock)
        .replace_nanosecond(0)
        .unwrap();
    let o = keys(
        dir.path(),
        &[
            "generate",
            "--type",
            key_type,
            "--format",
            format,
            "--alias",
            &alias,
            "--cn",
            &cn,
            "--validity-days",
            &days,
            "--out",
            out_arg,
        ],
        &env,
    );
    let after = keyward_types::Clock::now(&keyward_types::SystemClock);
    let o = ok(o, &format!("keyward keys generate {key_type} {format}"));
    assert_eq!(stderr(&o), format!("wrote {out_arg}\n"));

    // The file: owner-only.
    let meta = std::fs::metadata(&out).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "mode of {out_arg}");
    }
    assert!(meta.len() > 0);

    // What generate prints.
    let printed = stdout(&o);
    assert_eq!(field(&printed, "alias"), alias, "{printed}");
    assert_eq!(field(&printed, "type"), key_type, "{printed}");
    assert_eq!(field(&printed, "alg"), alg, "{printed}");
    let kid = field(&printed, "kid");
    let thumbprint = field(&printed, "thumbprint");
    assert_eq!(thumbprint.len(), 43, "{printed}");
    assert!(
        URL_SAFE_NO_PAD.decode(&thumbprint).is_ok_and(|t| t.len() == 32),
        "{printed}"
    );
    assert_eq!(
        kid, thumbprint,
        "a generated key's kid is its thumbprint\n{printed}"
    );
    let certificate = field(&printed, "certificate");
    assert!(
        certificate.starts_with(&format!("subject CN={cn}; issuer CN={cn}; serial ")),
        "{printed}"
    );
    assert_eq!(fields(&printed, "valid").len(), 1, "{printed}");

    // keytool reads it with the store password and shows the alias and subject.
    let storetype = if jks { "JKS" } else { "PKCS12" };
    let list = ok(
        tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                out_arg,
                "-storetype",
                storetype,
                "-storepass",
                STORE_PASSWORD,
            ],
            b"",
        ),
        "keytool -list -v",
    );
    let listing = stdout(&list);
    for expected in [
        format!("Keystore type: {storetype}"),
        "Your keystore contains 1 entry".to_owned(),
        format!("Alias name: {alias}"),
        "Entry type: PrivateKeyEntry".to_owned(),
        "Certificate chain length: 1".to_owned(),
        format!("Owner: CN={cn}"),
        format!("Issuer: CN={cn}"),
        "Version: 3".to_owned(),
    ] {
        assert!(
            listing.lines().any(|l| l.trim() == expected),
            "keytool -list -v lacks '{expected}':\n{listing}"
        );
    }

    // openssl reads the PKCS#12 (for JKS: after keytool converted it with the key password).
    let p12 = if jks {
        let converted = dir.path().join("converted.p12");
        let conv_arg = converted.to_str().unwrap();
        let import = |srckeypass: &str, dest: &str| {
            tool(
                "keytool",
                &[
                    "-importkeystore",
                    "-noprompt",
                    "-srckeystore",
                    out_arg,
                    "-srcstoretype",
                    "JKS",
                    "-srcstorepass",
                    STORE_PASSWORD,
                    "-srcalias",
                    &alias,
                    "-srckeypass",
                    srckeypass,
                    "-destkeystore",
                    dest,
                    "-deststoretype",
                    "PKCS12",
                    "-deststorepass",
                    STORE_PASSWORD,
                    "-destkeypass",
                    STORE_PASSWORD,
                ],
                b"",
            )
        };
        // The key entry is protected by the key password, not by the store password.
        let wrong = dir.path().join("wrong.p12");
        let refused = import(STORE_PASSWORD, wrong.to_str().unwrap());
        assert_ne!(
            refused.status.code(),
            Some(0),
            "keytool recovered the JKS key with the store password\n{}",
            show(&refused)
        );
        ok(
            import(KEY_PASSWORD, conv_arg),
            "keytool -importkeystore with the key password",
        );
        converted
    } else {
        out.clone()
    };
    let pass = format!("pass:{STORE_PASSWORD}");
    let info = ok(
        tool(
            "openssl",
            &[
                "pkcs12",
                "-in",
                p12.to_str().unwrap(),
                "-info",
                "-nodes",
                "-passin",
                &pass,
            ],
            b"",
        ),
        "openssl pkcs12 -info",
    );
    let info_text = format!("{}{}", stdout(&info), stderr(&info));
    for expected in [
        "-----BEGIN PRIVATE KEY-----".to_owned(),
        "-----BEGIN CERTIFICATE-----".to_owned(),
        format!("subject=CN = {cn}"),
        format!("friendlyName: {alias}"),
    ] {
        assert!(
            info_text.lines().any(|l| l.trim() == expected),
            "openssl pkcs12 -info lacks '{expected}':\n{info_text}"
        );
    }
    if !jks {
        // Written by keyward itself: PBES2 with AES-256 and a SHA-256 MAC, as the spec asks.
        assert!(info_text.contains("PBES2, PBKDF2, AES-256-CBC"), "{info_text}");
        assert!(info_text.contains("MAC: sha256"), "{info_text}");
    }

    // The certificate: X.509 v3, self-signed with the expected signature, and its key has the
    // printed thumbprint (computed here from openssl's view of the key).
    let cert = if jks {
        keytool_cert(&out, "JKS", STORE_PASSWORD, &alias)
    } else {
        p12_cert(&out, STORE_PASSWORD, false)
    };
    let x509 = stdout(&ok(
        tool("openssl", &["x509", "-noout", "-text"], &cert),
        "openssl x509 -text",
    ));
    for expected in [
        "Version: 3 (0x2)".to_owned(),
        format!("Signature Algorithm: {cert_signature}"),
        format!("Subject: CN = {cn}"),
        format!("Issuer: CN = {cn}"),
    ] {
        assert!(
            x509.lines().any(|l| l.trim() == expected),
            "certificate lacks '{expected}':\n{x509}"
        );
    }
    assert_eq!(
        openssl_thumbprint(&cert),
        thumbprint,
        "thumbprint of the certificate's key"
    );

    // inspect reads it back with the passwords from the environment: the same key.
    let inspected = stdout(&ok(
        keys(dir.path(), &["inspect", out_arg], &env),
        "keyward keys inspect",
    ));
    assert_eq!(field(&inspected, "format"), if jks { "jks" } else { "pkcs12" });
    assert_eq!(field(&inspected, "alias"), alias);
    assert_eq!(field(&inspected, "type"), key_type);
    assert_eq!(field(&inspected, "kid"), kid);
    assert_eq!(field(&inspected, "thumbprint"), thumbprint);
    assert_eq!(field(&inspected, "alg"), alg);
    let json = stdout(&ok(
        keys(dir.path(), &["inspect", "--json", out_arg], &env),
        "keyward keys inspect --json",
    ));
    let v: Value = serde_json::from_str(json.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"));
    assert_eq!(v["type"], key_type);
    assert_eq!(v["kid"], kid.as_str());
    assert_eq!(v["thumbprint"], thumbprint.as_str());
    assert_eq!(v["alg"], alg);
    assert_eq!(v["alias"], alias.as_str());
    assert_eq!(v["certificate"]["subject"], format!("CN={cn}"));
    // Valid from a minute before the run (clock skew) for --validity-days days.
    let not_before = rfc3339(&v["certificate"]["not_before"]);
    let not_after = rfc3339(&v["certificate"]["not_after"]);
    assert_eq!(
        not_after - not_before,
        Duration::days(VALIDITY_DAYS) + Duration::minutes(1),
        "{v}"
    );
    assert!(
        not_after >= before + Duration::days(VALIDITY_DAYS)
            && not_after <= after + Duration::days(VALIDITY_DAYS),
        "not_after {not_after} is not {VALIDITY_DAYS} days after the run ({before} .. {after})"
    );
    assert_eq!(openssl_not_after(&cert), not_after);
}

#[test]
fn generate_pkcs12_rsa_2048() {
    generate_roundtrip("RSA-2048", "pkcs12", "RS256", "sha256WithRSAEncryption");
}

#[test]
fn generate_pkcs12_rsa_3072() {
    generate_roundtrip("RSA-3072", "pkcs12", "RS256", "sha256WithRSAEncryption");
}

#[test]
fn generate_pkcs12_rsa_4096() {
    generate_roundtrip("RSA-4096", "pkcs12", "RS256", "sha256WithRSAEncryption");
}

#[test]
fn generate_pkcs12_ec_p256() {
    generate_roundtrip("EC-P256", "pkcs12", "ES256", "ecdsa-with-SHA256");
}

#[test]
fn generate_pkcs12_ec_p384() {
    generate_roundtrip("EC-P384", "pkcs12", "ES384", "ecdsa-with-SHA384");
}

#[test]
fn generate_pkcs12_ed25519() {
    generate_roundtrip("Ed25519", "pkcs12", "EdDSA", "ED25519");
}

#[test]
fn generate_jks_rsa_2048_with_separate_key_password() {
    generate_roundtrip("RSA-2048", "jks", "RS256", "sha256WithRSAEncryption");
}

#[test]
fn generate_jks_ec_p256_with_separate_key_password() {
    generate_roundtrip("EC-P256", "jks", "ES256", "ecdsa-with-SHA256");
}

#[test]
fn generate_jks_ed25519_with_separate_key_password() {
    generate_roundtrip("Ed25519", "jks", "EdDSA", "ED25519");
}

// --- 2. generate: refusals, and passwords never from argv -----------------------------------------

fn generate_args(out: &str) -> Vec<&str> {
    vec![
        "generate", "--type", "EC-P256", "--format", "pkcs12", "--alias", "a", "--out", out,
    ]
}

#[test]
fn generate_refuses_to_overwrite_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("existing.p12");
    let before = b"not a keystore, but mine".to_vec();
    std::fs::write(&out, &before).unwrap();
    let o = keys(
        dir.path(),
        &generate_args(out.to_str().unwrap()),
        &[(STORE_ENV, STORE_PASSWORD)],
    );
    let err = failed(&o, "generate over an existing file");
    assert!(err.contains(&format!("cannot create {}", out.display())), "{err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the existing file was changed"
    );
}

#[test]
fn generate_rejects_store_password_shorter_than_8_characters() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("short.p12");
    let o = keys(
        dir.path(),
        &generate_args(out.to_str().unwrap()),
        &[(STORE_ENV, "7-chars")],
    );
    let err = failed(&o, "generate with a 7-character store password");
    assert!(err.contains("at least 8 characters"), "{err}");
    assert!(!err.contains("7-chars"), "the password is echoed: {err}");
    assert!(!out.exists(), "a keystore was written");
}

#[test]
fn generate_rejects_jks_key_password_shorter_than_8_characters() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("short.jks");
    let args = [
        "generate",
        "--type",
        "EC-P256",
        "--format",
        "jks",
        "--alias",
        "a",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = keys(
        dir.path(),
        &args,
        &[(STORE_ENV, STORE_PASSWORD), (KEY_ENV, "short")],
    );
    let err = failed(&o, "generate with a 5-character key password");
    assert!(
        err.contains("key_password must be at least 8 characters"),
        "{err}"
    );
    assert!(!out.exists(), "a keystore was written");
}

#[test]
fn generate_without_password_env_or_terminal_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nopass.p12");
    // `keys` sets no KEYWARD_* variable and stdin is /dev/null: nothing to read a password from.
    let o = keys(dir.path(), &generate_args(out.to_str().unwrap()), &[]);
    let err = failed(&o, "generate without a password");
    assert!(err.contains(STORE_ENV), "{err}");
    assert!(err.contains("terminal"), "{err}");
    assert!(!out.exists(), "a keystore was written");

    // inspect of a keystore likewise.
    let o = keys(
        dir.path(),
        &["inspect", interop("sample-rsa2048-keytool.p12").to_str().unwrap()],
        &[],
    );
    let err = failed(&o, "inspect a keystore without a password");
    assert!(err.contains(STORE_ENV), "{err}");
}

#[test]
fn generate_and_inspect_take_no_password_from_argv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("argv.p12");
    let out_arg = out.to_str().unwrap();
    for extra in [
        &["--store-password", "argv-pass-123"][..],
        &["--store-password=argv-pass-123"][..],
        &["--password", "argv-pass-123"][..],
        &["--storepass", "argv-pass-123"][..],
        &["--key-password", "argv-pass-123"][..],
        &["--key-password=argv-pass-123"][..],
    ] {
        let mut args = generate_args(out_arg);
        args.extend_from_slice(extra);
        // Even with the environment set, the argument parser refuses the command line.
        let o = keys(dir.path(), &args, &[(STORE_ENV, STORE_PASSWORD)]);
        assert_eq!(o.status.code(), Some(2), "argv {extra:?} accepted\n{}", show(&o));
        let err = stderr(&o);
        // "unexpected argument '--store-password'", or for the --key-password switch
        // "unexpected value 'argv-pass-123' for '--key-password'" / "unexpected argument 'argv-pass-123'".
        assert!(err.starts_with("error: unexpected "), "{extra:?}: {err}");
        assert!(o.stdout.is_empty());
        assert!(!out.exists(), "argv {extra:?}: a keystore was written");
    }
    let p12 = interop("sample-rsa2048-keytool.p12");
    for extra in [
        &["--store-password", STOREPASS][..],
        &["--password", STOREPASS][..],
    ] {
        let mut args = vec!["inspect", p12.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = keys(dir.path(), &args, &[]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "inspect argv {extra:?} accepted\n{}",
            show(&o)
        );
        assert!(
            stderr(&o).starts_with("error: unexpected argument '"),
            "{}",
            show(&o)
        );
    }
}

// --- 3. inspect every import format -----------------------------------------------------------

struct Expect<'a> {
    file: &'a str,
    args: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
    format: &'a str,
    key_type: &'a str,
    alg: &'a str,
    /// The thumbprint (and kid) this key must have.
    thumbprint: String,
    alias: Option<&'a str>,
    /// The certificate as PEM, when the input carries one.
    cert: Option<Vec<u8>>,
}

/// `inspect` in text and JSON: the expected type, kid, thumbprint, algorithm, alias, and for
/// certificate inputs the certificate's notAfter as openssl reads it.
fn inspect_one(e: &Expect<'_>) {
    let dir = tempfile::tempdir().unwrap();
    let file = interop(e.file);
    let mut args = vec!["inspect", file.to_str().unwrap()];
    args.extend_from_slice(e.args);
    let text = stdout(&ok(
        keys(dir.path(), &args, e.env),
        &format!("inspect {}", e.file),
    ));
    assert_eq!(field(&text, "format"), e.format, "{text}");
    assert_eq!(field(&text, "type"), e.key_type, "{text}");
    assert_eq!(field(&text, "kid"), e.thumbprint, "{text}");
    assert_eq!(field(&text, "thumbprint"), e.thumbprint, "{text}");
    assert_eq!(field(&text, "alg"), e.alg, "{text}");
    assert_eq!(
        fields(&text, "alias"),
        e.alias.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>(),
        "{text}"
    );
    assert_eq!(
        fields(&text, "certificate").len(),
        usize::from(e.cert.is_some()),
        "{text}"
    );
    assert_eq!(
        fields(&text, "valid").len(),
        usize::from(e.cert.is_some()),
        "{text}"
    );

    args.push("--json");
    let json = stdout(&ok(
        keys(dir.path(), &args, e.env),
        &format!("inspect --json {}", e.file),
    ));
    assert_eq!(json.lines().count(), 1, "{json}");
    let v: Value = serde_json::from_str(json.trim()).unwrap_or_else(|err| panic!("not JSON ({err}): {json}"));
    assert_eq!(v["type"], e.key_type, "{v}");
    assert_eq!(v["kid"], e.thumbprint.as_str(), "{v}");
    assert_eq!(v["thumbprint"], e.thumbprint.as_str(), "{v}");
    assert_eq!(v["alg"], e.alg, "{v}");
    assert_eq!(v.get("alias").and_then(Value::as_str), e.alias, "{v}");
    match &e.cert {
        Some(cert) => {
            assert_eq!(
                openssl_thumbprint(cert),
                e.thumbprint,
                "thumbprint of the certificate's key"
            );
            let not_after = rfc3339(&v["certificate"]["not_after"]);
            assert_eq!(not_after, openssl_not_after(cert), "{v}");
            let not_before = rfc3339(&v["certificate"]["not_before"]);
            assert!(not_before < not_after, "{v}");
            for f in ["subject", "issuer", "serial"] {
                assert!(v["certificate"][f].as_str().is_some_and(|s| !s.is_empty()), "{v}");
            }
        }
        None => assert!(v.get("certificate").is_none(), "{v}"),
    }
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(interop(name)).unwrap()
}

const P12_ENV: &[(&str, &str)] = &[(STORE_ENV, STOREPASS)];
const JKS_ENV: &[(&str, &str)] = &[(STORE_ENV, STOREPASS), (KEY_ENV, KEYPASS)];

/// The interop RSA-2048 key, in a file of `format`.
fn rsa<'a>(file: &'a str, format: &'a str, cert: bool) -> Expect<'a> {
    Expect {
        file,
        args: &[],
        env: &[],
        format,
        key_type: "RSA-2048",
        alg: "RS256",
        thumbprint: jwk_kid(RSA_JWK),
        alias: None,
        cert: cert.then(|| pem("sample-rsa2048-cert.pem")),
    }
}

#[test]
fn inspect_certificate_pem() {
    inspect_one(&rsa("sample-rsa2048-cert.pem", "pem", true));
}

#[test]
fn inspect_certificate_der() {
    inspect_one(&rsa("sample-rsa2048-cert.der", "der", true));
}

#[test]
fn inspect_spki_public_key_pem() {
    inspect_one(&rsa("sample-rsa2048-public-spki.pem", "pem", false));
}

#[test]
fn inspect_pkcs1_rsa_public_key_pem() {
    inspect_one(&rsa("sample-rsa2048-public-pkcs1.pem", "pem", false));
}

#[test]
fn inspect_jwk() {
    inspect_one(&rsa(RSA_JWK, "jwk", false));
    inspect_one(&Expect {
        key_type: "EC-P256",
        alg: "ES256",
        thumbprint: jwk_kid(EC256_JWK),
        ..rsa(EC256_JWK, "jwk", false)
    });
    inspect_one(&Expect {
        key_type: "Ed25519",
        alg: "EdDSA",
        thumbprint: jwk_kid(ED25519_JWK),
        ..rsa(ED25519_JWK, "jwk", false)
    });
}

#[test]
fn inspect_jwks_with_three_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = interop("sample-jwks.json");
    let expected = [
        ("RSA-2048", "RS256", jwk_kid(RSA_JWK)),
        ("EC-P256", "ES256", jwk_kid(EC256_JWK)),
        ("Ed25519", "EdDSA", jwk_kid(ED25519_JWK)),
    ];
    let jwks: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, expected.iter().map(|e| e.2.as_str()).collect::<Vec<_>>());

    let text = stdout(&ok(
        keys(dir.path(), &["inspect", file.to_str().unwrap()], &[]),
        "inspect jwks",
    ));
    assert_eq!(field(&text, "format"), "jwks");
    let want = |i: usize| {
        expected
            .iter()
            .map(|e| [e.0, e.1, e.2.as_str()][i].to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&text, "type"), want(0), "{text}");
    assert_eq!(fields(&text, "alg"), want(1), "{text}");
    assert_eq!(fields(&text, "kid"), want(2), "{text}");
    assert_eq!(fields(&text, "thumbprint"), want(2), "{text}");
    assert!(fields(&text, "certificate").is_empty());

    let json = stdout(&ok(
        keys(dir.path(), &["inspect", "--json", file.to_str().unwrap()], &[]),
        "inspect --json jwks",
    ));
    let lines: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{json}");
    for (v, (key_type, alg, kid)) in lines.iter().zip(&expected) {
        assert_eq!(v["type"], *key_type, "{v}");
        assert_eq!(v["alg"], *alg, "{v}");
        assert_eq!(v["kid"], kid.as_str(), "{v}");
        assert_eq!(v["thumbprint"], kid.as_str(), "{v}");
        assert!(v.get("certificate").is_none(), "{v}");
    }
}

#[test]
fn inspect_keytool_pkcs12() {
    let file = "sample-rsa2048-keytool.p12";
    inspect_one(&Expect {
        env: P12_ENV,
        alias: Some("clientkey"),
        cert: Some(p12_cert(&interop(file), STOREPASS, false)),
        ..rsa(file, "pkcs12", false)
    });
}

#[test]
fn inspect_openssl_aes_pkcs12() {
    let file = "sample-rsa2048-openssl-aes.p12";
    inspect_one(&Expect {
        env: P12_ENV,
        alias: Some("clientkey"),
        cert: Some(p12_cert(&interop(file), STOREPASS, false)),
        ..rsa(file, "pkcs12", false)
    });
}

#[test]
fn inspect_openssl_legacy_pkcs12() {
    let file = "sample-rsa2048-openssl-legacy.p12";
    inspect_one(&Expect {
        env: P12_ENV,
        alias: Some("clientkey"),
        cert: Some(p12_cert(&interop(file), STOREPASS, true)),
        ..rsa(file, "pkcs12", false)
    });
}

#[test]
fn inspect_jks_rsa() {
    let file = "sample-rsa2048.jks";
    inspect_one(&Expect {
        env: JKS_ENV,
        alias: Some("clientkey"),
        cert: Some(keytool_cert(&interop(file), "JKS", STOREPASS, "clientkey")),
        ..rsa(file, "jks", false)
    });
}

#[test]
fn inspect_jks_ec() {
    let file = "sample-ec256.jks";
    let cert = keytool_cert(&interop(file), "JKS", STOREPASS, "clientkey-ec");
    inspect_one(&Expect {
        env: JKS_ENV,
        key_type: "EC-P256",
        alg: "ES256",
        // Not the key of sample-ec256-public.jwk: this entry has its own certificate.
        thumbprint: openssl_thumbprint(&cert),
        alias: Some("clientkey-ec"),
        cert: Some(cert),
        ..rsa(file, "jks", false)
    });
}

#[test]
fn inspect_multi_jks_with_alias() {
    let file = "sample-multi.jks";
    let cert = keytool_cert(&interop(file), "JKS", STOREPASS, "second-key");
    inspect_one(&Expect {
        args: &["--alias", "second-key"],
        env: JKS_ENV,
        key_type: "EC-P256",
        alg: "ES256",
        thumbprint: openssl_thumbprint(&cert),
        alias: Some("second-key"),
        cert: Some(cert),
        ..rsa(file, "jks", false)
    });
}

#[test]
fn inspect_ec_p384_certificate() {
    let file = "sample-ec384-cert.pem";
    let cert = pem(file);
    inspect_one(&Expect {
        key_type: "EC-P384",
        alg: "ES384",
        thumbprint: openssl_thumbprint(&cert),
        cert: Some(cert),
        ..rsa(file, "pem", false)
    });
}

#[test]
fn inspect_ed25519_certificate() {
    let file = "sample-ed25519-cert.pem";
    inspect_one(&Expect {
        key_type: "Ed25519",
        alg: "EdDSA",
        thumbprint: jwk_kid(ED25519_JWK),
        cert: Some(pem(file)),
        ..rsa(file, "pem", false)
    });
}

#[test]
fn inspect_with_explicit_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = interop("sample-rsa2048-cert.der");
    let text = stdout(&ok(
        keys(
            dir.path(),
            &["inspect", "--format", "der", file.to_str().unwrap()],
            &[],
        ),
        "inspect --format der",
    ));
    assert_eq!(field(&text, "format"), "der");
    assert_eq!(field(&text, "thumbprint"), jwk_kid(RSA_JWK));
}

// --- 3. inspect: rejections -------------------------------------------------------------------

#[test]
fn inspect_rejects_wrong_store_password() {
    let dir = tempfile::tempdir().unwrap();
    for (file, env) in [
        (
            "sample-rsa2048-keytool.p12",
            &[(STORE_ENV, "not-the-password")][..],
        ),
        (
            "sample-rsa2048-openssl-legacy.p12",
            &[(STORE_ENV, "not-the-password")][..],
        ),
        (
            "sample-rsa2048.jks",
            &[(STORE_ENV, "not-the-password"), (KEY_ENV, KEYPASS)][..],
        ),
    ] {
        let o = keys(dir.path(), &["inspect", interop(file).to_str().unwrap()], env);
        let err = failed(&o, &format!("inspect {file} with a wrong store password"));
        assert!(err.contains("the store password is wrong"), "{file}: {err}");
        assert!(
            !err.contains("not-the-password"),
            "{file}: the password is echoed: {err}"
        );
    }
}

#[test]
fn inspect_rejects_wrong_jks_key_password() {
    let dir = tempfile::tempdir().unwrap();
    let file = interop("sample-rsa2048.jks");
    // Without KEYWARD_KEY_PASSWORD the key password defaults to the store password, which is
    // not this entry's.
    for env in [
        &[(STORE_ENV, STOREPASS)][..],
        &[(STORE_ENV, STOREPASS), (KEY_ENV, "wrong-key-pass")][..],
    ] {
        let o = keys(dir.path(), &["inspect", file.to_str().unwrap()], env);
        let err = failed(&o, "inspect a JKS with a wrong key password");
        assert!(err.contains("the key password is wrong"), "{err}");
    }
}

#[test]
fn inspect_multi_jks_without_alias_lists_the_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let o = keys(
        dir.path(),
        &["inspect", interop("sample-multi.jks").to_str().unwrap()],
        JKS_ENV,
    );
    let err = failed(&o, "inspect multi JKS without --alias");
    assert!(err.contains("name one with `alias`"), "{err}");
    let listed = err.trim().rsplit(": ").next().unwrap();
    let mut aliases: Vec<&str> = listed.split(", ").collect();
    aliases.sort_unstable();
    assert_eq!(aliases, ["clientkey", "partner-cert", "second-key"], "{err}");

    let o = keys(
        dir.path(),
        &[
            "inspect",
            "--alias",
            "no-such",
            interop("sample-multi.jks").to_str().unwrap(),
        ],
        JKS_ENV,
    );
    let err = failed(&o, "inspect multi JKS with an unknown alias");
    assert!(err.contains("no entry with alias 'no-such'"), "{err}");
    for alias in ["clientkey", "partner-cert", "second-key"] {
        assert!(err.contains(alias), "{err}");
    }
}

#[test]
fn inspect_rejects_rsa_1024_certificate_as_too_weak() {
    let dir = tempfile::tempdir().unwrap();
    let o = keys(
        dir.path(),
        &["inspect", interop("sample-rsa1024-cert.pem").to_str().unwrap()],
        &[],
    );
    let err = failed(&o, "inspect an RSA-1024 certificate");
    assert!(err.contains("1024 bits is too weak"), "{err}");
    assert!(err.contains("at least 2048"), "{err}");
}

/// Deterministic noise, never starting like PEM, JSON, JKS or DER.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut out: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    out[0] = 0x9c;
    out
}

#[test]
fn inspect_rejects_random_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("noise.bin");
    std::fs::write(&file, random_bytes(4096, 0x5eed_1234_abcd_9876)).unwrap();
    let path = file.to_str().unwrap();

    let o = keys(dir.path(), &["inspect", path], &[]);
    let err = failed(&o, "inspect random bytes");
    assert_eq!(err, "keyward: cannot tell the file's format; pass --format\n");

    // Told what it should be, every reader still refuses it, saying why, without panicking.
    for (format, message) in [
        ("pem", "no PEM block (-----BEGIN ...-----) found"),
        (
            "der",
            "DER data is neither an X.509 certificate nor a public key (SubjectPublicKeyInfo)",
        ),
        ("jwk", "not JSON (a JWK or a JWK Set is a JSON object)"),
        ("jwks", "not JSON (a JWK or a JWK Set is a JSON object)"),
        (
            "pkcs12",
            "the file is broken: not a complete PKCS#12 file (truncated or damaged)",
        ),
        ("jks", "not a JKS keystore"),
    ] {
        let o = keys(dir.path(), &["inspect", "--format", format, path], P12_ENV);
        let err = failed(&o, &format!("inspect random bytes as {format}"));
        assert_eq!(err, format!("keyward: {message}\n"), "{format}");
    }
}

#[test]
fn inspect_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let o = keys(dir.path(), &["inspect", missing.to_str().unwrap()], &[]);
    let err = failed(&o, "inspect a missing file");
    assert_eq!(err, format!("keyward: cannot read {}\n", missing.display()));
}

// --- 4. Secrecy of a server-generated key, end to end -----------------------------------------

/// The one PEM block labelled `label`, decoded.
fn pem_block(text: &str, label: &str) -> Vec<u8> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    assert_eq!(
        text.matches(&begin).count(),
        1,
        "expected one {label} in:\n{text}"
    );
    let body = text.split(&begin).nth(1).unwrap().split(&end).next().unwrap();
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(b64).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`, with its contents.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

#[tokio::test]
async fn generated_private_key_signs_a_token_and_is_never_stored_or_logged() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    cmd.env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
        .env("KEYWARD_LOG", "trace");
    let (mut proc, base) = start(cmd);
    let client = http();
    let admin = admin_token(&client, &base).await;

    create_client_as(
        &client,
        &base,
        &admin,
        json!({"client_id": "gen", "token_endpoint_auth_method": "private_key_jwt"}),
    )
    .await;

    let store_password = "store-pass-1";
    let resp = client
        .post(format!("{base}/admin/clients/gen/credentials/generate"))
        .bearer_auth(&admin)
        .json(&json!({"key_type": "EC-P256", "format": "pkcs12", "alias": "client-key", "store_password": store_password}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let cache_control = resp
        .headers()
        .get("cache-control")
        .map(|h| h.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    assert_eq!(cache_control.as_deref(), Some("no-store"));
    let generated: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(generated["filename"], "gen.p12", "{generated}");
    let credential = &generated["credential"];
    let kid = credential["kid"].as_str().unwrap().to_owned();
    let keystore_b64 = generated["keystore"].as_str().unwrap().to_owned();
    let keystore = STANDARD.decode(&keystore_b64).unwrap();

    // The private key, out of the keystore with openssl.
    let p12 = work.path().join("gen.p12");
    std::fs::write(&p12, &keystore).unwrap();
    let pass = format!("pass:{store_password}");
    let o = ok(
        tool(
            "openssl",
            &[
                "pkcs12",
                "-in",
                p12.to_str().unwrap(),
                "-nocerts",
                "-nodes",
                "-passin",
                &pass,
            ],
            b"",
        ),
        "openssl pkcs12 -nocerts",
    );
    let key_pem = stdout(&o);
    let pkcs8 = pem_block(&key_pem, "PRIVATE KEY");
    let o = ok(
        tool("openssl", &["pkey", "-text", "-noout"], key_pem.as_bytes()),
        "openssl pkey -text",
    );
    let scalar = hex_block(&stdout(&o), "priv:");
    assert_eq!(scalar.len(), 32, "P-256 private scalar");
    assert!(contains(&pkcs8, &scalar), "the scalar is not inside the PKCS#8");

    // The key signs an assertion that gets a token.
    let signer = SigningKey::from_pkcs8(SigningAlg::ES256, Zeroizing::new(pkcs8.clone())).unwrap();
    assert_eq!(
        signer.kid(),
        kid,
        "the credential's kid is the key's RFC 7638 thumbprint"
    );
    assert_eq!(credential["thumbprint"], kid.as_str());
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
    let assertion = sign_jws(&signer, &header, &assertion_claims("gen", &base, now, 60));
    let resp = client
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "gen"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "private_key_jwt with the generated key: {text}");
    let token: Value = serde_json::from_str(&text).unwrap();
    assert!(
        token["access_token"].as_str().is_some_and(|t| !t.is_empty()),
        "{token}"
    );

    // What the admin API shows afterwards.
    let mut responses = Vec::new();
    for path in ["/admin/audit", "/admin/clients/gen/credentials"] {
        let resp = client
            .get(format!("{base}{path}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.bytes().await.unwrap().to_vec();
        assert_eq!(status, 200, "GET {path}: {}", String::from_utf8_lossy(&body));
        responses.push((path.to_owned(), body));
    }
    let audit = String::from_utf8_lossy(&responses[0].1).into_owned();
    assert!(
        audit.contains(&kid),
        "the audit log does not record the generated credential:\n{audit}"
    );
    let listed = String::from_utf8_lossy(&responses[1].1).into_owned();
    assert!(
        listed.contains(&kid),
        "the credential list lacks the generated key:\n{listed}"
    );

    // The database files while the server runs (the WAL still holds the latest writes) ...
    let data = dir.path().join("keyward-data");
    let running = files_under(&data);
    proc.stop();
    // ... and after it stopped.
    let stopped = files_under(&data);
    assert!(
        stopped
            .iter()
            .any(|(p, _)| p.file_name().is_some_and(|n| n == "keyward.db")),
        "no keyward.db in {}",
        data.display()
    );

    // Positive control: the scan below reads what the server stored (the public thumbprint is
    // in the database).
    assert!(
        stopped.iter().any(|(_, bytes)| contains(bytes, kid.as_bytes())),
        "the credential's thumbprint is in no file under {}",
        data.display()
    );

    let log = format!("{}\n{}", proc.stdout_text(), proc.stderr_text());
    // Nothing on this path logs at TRACE level; DEBUG lines prove the filter went below the
    // default `info`.
    assert!(
        log.contains("DEBUG"),
        "KEYWARD_LOG=trace did not turn on verbose logging:\n{log}"
    );

    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("PKCS#8 DER", pkcs8.clone()),
        ("PKCS#8 base64", STANDARD.encode(&pkcs8).into_bytes()),
        ("PKCS#8 base64url", URL_SAFE_NO_PAD.encode(&pkcs8).into_bytes()),
        ("PKCS#8 hex", hex(&pkcs8).into_bytes()),
        ("EC private scalar", scalar.clone()),
        ("EC private scalar, hex", hex(&scalar).into_bytes()),
        (
            "EC private scalar, base64url (JWK d)",
            URL_SAFE_NO_PAD.encode(&scalar).into_bytes(),
        ),
        ("EC private scalar, base64", STANDARD.encode(&scalar).into_bytes()),
        ("EC private scalar, Debug", format!("{scalar:?}").into_bytes()),
    ];
    let mut places: Vec<(String, Vec<u8>)> = vec![("the server's log output".to_owned(), log.into_bytes())];
    for (when, files) in [("running", &running), ("stopped", &stopped)] {
        for (path, bytes) in files {
            places.push((format!("{} ({when})", path.display()), bytes.clone()));
        }
    }
    for (path, body) in &responses {
        places.push((format!("the response of GET {path}"), body.clone()));
    }
    for (place, bytes) in &places {
        for (what, secret) in &secrets {
            assert!(
                !contains(bytes, secret),
                "the {what} of the generated key appears in {place}"
            );
        }
    }
    // The store password, and the keystore itself (the key under that password), stay out of
    // the log and the database files.
    let log_and_db: Vec<&(String, Vec<u8>)> = places
        .iter()
        .filter(|(p, _)| !p.starts_with("the response"))
        .collect();
    for (place, bytes) in log_and_db {
        assert!(
            !contains(bytes, store_password.as_bytes()),
            "the store password appears in {place}"
        );
        assert!(
            !contains(bytes, keystore_b64.as_bytes()),
            "the returned keystore (base64) appears in {place}"
        );
        assert!(
            !contains(bytes, &keystore),
            "the returned keystore appears in {place}"
        );
    }
}
