#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Integration tests of the remote admin commands (`keyward admin clients|secret|credentials|
//! keys-cache|audit`): the real binary against a real `keyward serve` on a loopback port, with
//! the server's state checked afterwards through the admin API and the token endpoint. Each test
//! starts one server and runs several steps on it.

use std::{
    path::Path,
    process::{Command, Output, Stdio},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_jose::SigningKey;
use keyward_testkit::{
    fixtures::{interop, interop_key, KEYPASS, STOREPASS},
    jose::{assertion_claims, sign_jws},
    process::{keyward, output_text, serve, start, Proc},
    remote::{admin, assert_invalid_client, http, token_assertion, token_basic, ADMIN_SECRET},
};
use keyward_types::SigningAlg;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use zeroize::Zeroizing;

// --- Running things ---------------------------------------------------------------------------

/// A server with the test admin secret, in its own directory.
fn server() -> (tempfile::TempDir, Proc, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    cmd.env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET);
    let (proc, base) = start(cmd);
    (dir, proc, base)
}

/// `keyward admin ARGS` against `base` with the admin secret in the environment, plus `env`
/// (which may replace it); stdin is not a terminal, so nothing is ever prompted.
fn cli_env(dir: &Path, base: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd: Command = keyward(dir);
    cmd.arg("admin")
        .args(args)
        .env("KEYWARD_URL", base)
        .env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    cmd.output().expect("run keyward admin")
}

fn cli(dir: &Path, base: &str, args: &[&str]) -> Output {
    cli_env(dir, base, args, &[])
}

fn show(o: &Output) -> String {
    output_text(o)
}

/// Exit status 0 and the standard output; a panic with the whole output otherwise.
fn ok(o: &Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(0), "{what} failed\n{}", show(o));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Exit status 1 with nothing on stdout, and the one-line error (without "keyward: ").
fn failed(o: &Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(1), "{what}: expected exit 1\n{}", show(o));
    assert!(o.stdout.is_empty(), "{what}: printed a result\n{}", show(o));
    let err = String::from_utf8_lossy(&o.stderr).trim_end().to_owned();
    assert_eq!(err.lines().count(), 1, "{what}: not one line\n{}", show(o));
    err.strip_prefix("keyward: ")
        .unwrap_or_else(|| panic!("{what}: no keyward: prefix\n{}", show(o)))
        .to_owned()
}

/// `--output json`'s document.
fn json_out(o: &Output, what: &str) -> Value {
    let text = ok(o, what);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
}

/// The value of the `name:` line of a table command's output.
fn field(text: &str, name: &str) -> String {
    let prefix = format!("{name}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name}: line in\n{text}"))
        .trim()
        .to_owned()
}

/// `GET path` with a fresh admin token: the server's state, not the CLI's account of it.
async fn api_get(base: &str, path: &str) -> (StatusCode, Value) {
    admin(&http(), base, Method::GET, path, None).await
}

async fn assert_basic_token(base: &str, id: &str, secret: &str) {
    let (status, body) = token_basic(&http(), base, id, secret).await;
    assert_eq!(status, StatusCode::OK, "token for {id}: {body}");
}

async fn assert_basic_refused(base: &str, id: &str, secret: &str) {
    assert_invalid_client(&token_basic(&http(), base, id, secret).await);
}

/// A `private_key_jwt` token request for `client_id` signed by `key`.
async fn assertion_token(base: &str, client_id: &str, key: &SigningKey, alg: &str) -> (StatusCode, Value) {
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let header = json!({"alg": alg, "typ": "JWT", "kid": key.kid()});
    let assertion = sign_jws(key, &header, &assertion_claims(client_id, base, now, 60));
    token_assertion(&http(), base, &assertion).await
}

/// The PKCS#8 private key of a PKCS#12 file, read by openssl.
fn p12_private_key(file: &Path, password_env: &str) -> Vec<u8> {
    let o = Command::new("openssl")
        .args([
            "pkcs12",
            "-in",
            file.to_str().unwrap(),
            "-nocerts",
            "-nodes",
            "-passin",
        ])
        .arg(format!("env:{password_env}"))
        .env(password_env, STORE_PASSWORD)
        .output()
        .expect("run openssl");
    let text = ok(&o, "openssl pkcs12 -nocerts");
    let body: String = text
        .split("-----BEGIN PRIVATE KEY-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END PRIVATE KEY-----").next())
        .unwrap_or_else(|| panic!("no private key in\n{text}"))
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(body).unwrap()
}

const STORE_PASSWORD: &str = "cli-store-pass-1";

// --- Tests ------------------------------------------------------------------------------------

#[tokio::test]
async fn clients_create_list_get_update_delete() {
    let (dir, mut proc, base) = server();
    let d = dir.path();

    // Create: the table shows the client and its secret once; the secret gets a token.
    let o = cli(
        d,
        &base,
        &[
            "clients",
            "create",
            "--client-id",
            "billing",
            "--scope",
            "invoices:read invoices:write",
            "--name",
            "Billing",
        ],
    );
    let out = ok(&o, "clients create");
    assert_eq!(field(&out, "client_id"), "billing", "{out}");
    assert_eq!(field(&out, "method"), "client_secret_basic", "{out}");
    assert!(out.contains("shown once"), "{out}");
    let secret = field(&out, "client_secret");
    assert_basic_token(&base, "billing", &secret).await;

    // A second client from a metadata file, with flags over it.
    let meta = d.join("ledger.json");
    std::fs::write(
        &meta,
        r#"{"client_id":"ledger","scope":"a","access_token_lifetime":120}"#,
    )
    .unwrap();
    let o = cli(
        d,
        &base,
        &[
            "clients",
            "create",
            "--metadata",
            meta.to_str().unwrap(),
            "--method",
            "client_secret_post",
            "--redirect-uri",
            "https://ledger.example/cb",
            "--redirect-uri",
            "com.example.ledger:/cb",
            "--first-party",
            "--output",
            "json",
        ],
    );
    let created = json_out(&o, "clients create --metadata");
    assert_eq!(created["client_id"], "ledger");
    assert_eq!(
        created["redirect_uris"],
        json!(["https://ledger.example/cb", "com.example.ledger:/cb"])
    );
    assert_eq!(created["first_party"], true);
    assert_eq!(created["require_pushed_authorization_requests"], false);
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(created["access_token_lifetime"], 120);
    assert!(
        created["client_secret"].as_str().is_some_and(|s| s.len() >= 43),
        "{created}"
    );

    // List, as a table and as JSON: the bootstrap client and both new ones.
    let out = ok(&cli(d, &base, &["clients", "list"]), "clients list");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("CLIENT_ID") && lines[0].contains("METHOD"),
        "{out}"
    );
    let row = lines
        .iter()
        .find(|l| l.starts_with("billing "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("client_secret_basic") && row.contains("true") && row.contains("Billing"),
        "{row}"
    );
    assert!(lines.iter().any(|l| l.starts_with("keyward-admin ")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("ledger ")), "{out}");
    let listed = json_out(
        &cli(d, &base, &["clients", "list", "--output", "json"]),
        "clients list json",
    );
    let ids: Vec<&str> = listed["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["billing", "keyward-admin", "ledger"], "{listed}");
    assert!(!listed.to_string().contains(&secret), "a secret in the list");
    // --search: id or name contains it, ignoring case.
    let found = json_out(
        &cli(
            d,
            &base,
            &["clients", "list", "--search", "BILL", "--output", "json"],
        ),
        "clients list --search",
    );
    let ids: Vec<&str> = found["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["billing"], "{found}");

    // Update sends only what was given: --disable and one --set; the name stays.
    let o = cli(
        d,
        &base,
        &[
            "clients",
            "update",
            "billing",
            "--disable",
            "--require-par",
            "--set",
            "access_token_lifetime=90",
        ],
    );
    let out = ok(&o, "clients update");
    assert_eq!(field(&out, "enabled"), "false", "{out}");
    assert_eq!(field(&out, "require_par"), "true", "{out}");
    assert_eq!(field(&out, "first_party"), "false", "{out}");
    let (status, stored) = api_get(&base, "/admin/clients/billing").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["enabled"], false, "{stored}");
    assert_eq!(stored["access_token_lifetime"], 90, "{stored}");
    assert_eq!(stored["client_name"], "Billing", "{stored}");
    assert_eq!(stored["scope"], "invoices:read invoices:write", "{stored}");
    assert_basic_refused(&base, "billing", &secret).await;
    let err = failed(&cli(d, &base, &["clients", "update", "billing"]), "empty update");
    assert!(err.contains("nothing to change"), "{err}");

    // Get, then delete: the client is gone from the server.
    let got = json_out(
        &cli(d, &base, &["clients", "get", "billing", "--output", "json"]),
        "clients get",
    );
    assert_eq!(got["enabled"], false);
    let out = ok(
        &cli(d, &base, &["clients", "delete", "billing"]),
        "clients delete",
    );
    assert!(out.contains("deleted client billing"), "{out}");
    let (status, _) = api_get(&base, "/admin/clients/billing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // keys-cache clear answers with the number of URLs cleared (none here).
    let out = ok(&cli(d, &base, &["keys-cache", "clear"]), "keys-cache clear");
    assert!(out.contains("cleared the cached keys of 0 JWKS URL"), "{out}");
    proc.stop();
}

#[tokio::test]
async fn secret_rotate_and_audit() {
    let (dir, mut proc, base) = server();
    let d = dir.path();
    let o = cli(
        d,
        &base,
        &["clients", "create", "--client-id", "svc", "--output", "json"],
    );
    let first = json_out(&o, "clients create")["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_basic_token(&base, "svc", &first).await;

    // Without a grace period the old secret stops at once; the new one printed works.
    let out = ok(&cli(d, &base, &["secret", "rotate", "svc"]), "secret rotate");
    let second = field(&out, "client_secret");
    assert_ne!(second, first);
    assert_eq!(field(&out, "previous secret"), "stopped working", "{out}");
    assert!(out.contains("shown once"), "{out}");
    assert_basic_refused(&base, "svc", &first).await;
    assert_basic_token(&base, "svc", &second).await;

    // With one, both work until it ends.
    let o = cli(
        d,
        &base,
        &[
            "secret",
            "rotate",
            "svc",
            "--grace-period",
            "600",
            "--output",
            "json",
        ],
    );
    let rotated = json_out(&o, "secret rotate --grace-period");
    let third = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(
        rotated["previous_secret_expires_at"].as_i64().is_some(),
        "{rotated}"
    );
    assert_basic_token(&base, "svc", &second).await;
    assert_basic_token(&base, "svc", &third).await;

    // The audit log shows the create and both rotations, newest first, and no secret.
    let out = ok(&cli(d, &base, &["audit", "--client-id", "svc"]), "audit");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("AT") && lines[0].contains("ACTION"), "{out}");
    let actions: Vec<&str> = lines[1..]
        .iter()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        actions,
        ["client.secret.rotate", "client.secret.rotate", "client.create"],
        "{out}"
    );
    assert!(lines[1..].iter().all(|l| l.contains("keyward-admin")), "{out}");
    for s in [&first, &second, &third] {
        assert!(!out.contains(s.as_str()), "a secret in the audit output");
    }
    let page = json_out(
        &cli(
            d,
            &base,
            &[
                "audit",
                "--action",
                "client.create",
                "--limit",
                "5",
                "--output",
                "json",
            ],
        ),
        "audit json",
    );
    let events = page["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "client.create" && e["target"] == "svc"),
        "{page}"
    );
    assert!(events.iter().all(|e| e["action"] == "client.create"), "{page}");
    proc.stop();
}

#[tokio::test]
async fn credentials_generate_import_disable_and_delete() {
    let (dir, mut proc, base) = server();
    let d = dir.path();
    let o = cli(
        d,
        &base,
        &[
            "clients",
            "create",
            "--client-id",
            "jwt",
            "--method",
            "private_key_jwt",
        ],
    );
    let out = ok(&o, "clients create private_key_jwt");
    assert!(
        !out.contains("client_secret:"),
        "a secret for a key client\n{out}"
    );

    // Generate a PKCS#12 keystore: written owner-only, readable by openssl.
    let p12 = d.join("jwt.p12");
    let p12_arg = p12.to_str().unwrap();
    let generate = [
        "credentials",
        "generate",
        "jwt",
        "--key-type",
        "EC-P256",
        "--format",
        "pkcs12",
        "--alias",
        "jwt",
        "--name",
        "cli",
        "--out",
        p12_arg,
    ];
    let pass_env = [("KEYWARD_KEYSTORE_PASSWORD", STORE_PASSWORD)];
    let o = cli_env(d, &base, &generate, &pass_env);
    let out = ok(&o, "credentials generate");
    assert!(out.lines().next().unwrap().starts_with("ID"), "{out}");
    assert!(!out.contains("keystore"), "the keystore on stdout\n{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p12).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "keystore mode {mode:o}");
    }
    let certs = Command::new("openssl")
        .args(["pkcs12", "-in", p12_arg, "-nokeys", "-passin", "env:P12_PASS"])
        .env("P12_PASS", STORE_PASSWORD)
        .output()
        .unwrap();
    assert!(ok(&certs, "openssl pkcs12 -nokeys").contains("BEGIN CERTIFICATE"));

    // The generated key gets a token with private_key_jwt.
    let pkcs8 = p12_private_key(&p12, "P12_PASS");
    let generated = SigningKey::from_pkcs8(SigningAlg::ES256, Zeroizing::new(pkcs8)).unwrap();
    let (status, body) = assertion_token(&base, "jwt", &generated, "ES256").await;
    assert_eq!(status, StatusCode::OK, "generated key: {body}");

    // A second generate never overwrites the file, and registers nothing.
    let before = std::fs::read(&p12).unwrap();
    let err = failed(&cli_env(d, &base, &generate, &pass_env), "generate over a file");
    assert!(err.contains(&format!("cannot create {p12_arg}")), "{err}");
    assert_eq!(std::fs::read(&p12).unwrap(), before, "the keystore was changed");
    let (_, listed) = api_get(&base, "/admin/clients/jwt/credentials").await;
    assert_eq!(listed["credentials"].as_array().unwrap().len(), 1, "{listed}");
    let generated_id = listed["credentials"][0]["id"].as_str().unwrap().to_owned();

    // Import a PEM public key; its private half gets a token.
    let spki = interop("sample-rsa2048-public-spki.pem");
    let o = cli(
        d,
        &base,
        &[
            "credentials",
            "import",
            "jwt",
            "--file",
            spki.to_str().unwrap(),
            "--format",
            "pem",
            "--name",
            "laptop",
            "--output",
            "json",
        ],
    );
    let imported = json_out(&o, "credentials import pem");
    let imported_id = imported["credentials"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(imported["credentials"][0]["name"], "laptop");
    assert_eq!(
        imported["credentials"][0]["alg"],
        serde_json::Value::Null,
        "no alg: any RSA algorithm"
    );
    let rsa = interop_key("rsa2048", SigningAlg::RS256);
    let (status, body) = assertion_token(&base, "jwt", &rsa, "RS256").await;
    assert_eq!(status, StatusCode::OK, "imported key: {body}");

    // Disable the generated key: refused; enable: accepted again.
    let out = ok(
        &cli(d, &base, &["credentials", "disable", "jwt", &generated_id]),
        "disable",
    );
    assert!(out.contains(&generated_id) && out.contains("false"), "{out}");
    assert_invalid_client(&assertion_token(&base, "jwt", &generated, "ES256").await);
    let (_, listed) = api_get(&base, "/admin/clients/jwt/credentials").await;
    let stored = listed["credentials"].as_array().unwrap();
    assert!(
        stored
            .iter()
            .any(|c| c["id"] == generated_id.as_str() && c["enabled"] == false),
        "{listed}"
    );
    ok(
        &cli(d, &base, &["credentials", "enable", "jwt", &generated_id]),
        "enable",
    );
    let (status, body) = assertion_token(&base, "jwt", &generated, "ES256").await;
    assert_eq!(status, StatusCode::OK, "re-enabled key: {body}");

    // Delete the PEM key, then import a JKS with both passwords from the environment.
    ok(
        &cli(d, &base, &["credentials", "delete", "jwt", &imported_id]),
        "delete",
    );
    assert_invalid_client(&assertion_token(&base, "jwt", &rsa, "RS256").await);
    let jks = interop("sample-ec256.jks");
    let o = cli_env(
        d,
        &base,
        &[
            "credentials",
            "import",
            "jwt",
            "--file",
            jks.to_str().unwrap(),
            "--format",
            "jks",
        ],
        &[
            ("KEYWARD_KEYSTORE_PASSWORD", STOREPASS),
            ("KEYWARD_KEY_PASSWORD", KEYPASS),
        ],
    );
    ok(&o, "credentials import jks");
    let out = ok(
        &cli(d, &base, &["credentials", "list", "jwt"]),
        "credentials list",
    );
    assert_eq!(out.lines().count(), 3, "header and two keys\n{out}");
    assert!(
        out.contains(&generated_id) && !out.contains(&imported_id),
        "{out}"
    );
    proc.stop();
}

#[tokio::test]
async fn errors_name_the_url_the_secret_and_the_server_answer() {
    let (dir, mut proc, base) = server();
    let d = dir.path();

    // Server down: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://127.0.0.1:{port}");
    let err = failed(&cli(d, &down, &["clients", "list"]), "server down");
    assert!(err.contains(&format!("cannot connect to {down}/token")), "{err}");
    assert!(err.contains("is the server running"), "{err}");
    assert!(err.contains("refused"), "the cause is missing: {err}");

    // Wrong admin secret: the token request's 401, named as such.
    let o = cli_env(
        d,
        &base,
        &["clients", "list"],
        &[("KEYWARD_ADMIN_SECRET", "not-the-admin-secret")],
    );
    let err = failed(&o, "wrong admin secret");
    assert!(err.contains("refused the admin client 'keyward-admin'"), "{err}");
    assert!(err.contains("401 invalid_client"), "{err}");
    assert!(
        err.contains("KEYWARD_ADMIN_SECRET") && !err.contains("not-the-admin-secret"),
        "{err}"
    );

    // No secret at all and no terminal: the variable is named.
    let mut cmd = keyward(d);
    cmd.args(["admin", "clients", "list", "--url", &base])
        .stdin(Stdio::null());
    let err = failed(&cmd.output().unwrap(), "no admin secret");
    assert!(err.contains("KEYWARD_ADMIN_SECRET"), "{err}");

    // Unknown client: the server's status, error and description.
    let err = failed(&cli(d, &base, &["clients", "get", "nope"]), "unknown client");
    assert_eq!(err, "404 not_found: no client 'nope'");
    let err = failed(&cli(d, &base, &["secret", "rotate", "nope"]), "rotate unknown");
    assert_eq!(err, "404 not_found: no client 'nope'");

    // A refused field: the server's 400 with the field it names.
    let o = cli(
        d,
        &base,
        &["clients", "create", "--client-id", "x", "--method", "none-such"],
    );
    let err = failed(&o, "bad method");
    assert!(
        err.starts_with("400 invalid_client_metadata: token_endpoint_auth_method"),
        "{err}"
    );

    // Secrets and passwords are never taken from the command line.
    for args in [
        &["clients", "list", "--admin-secret", ADMIN_SECRET][..],
        &["clients", "list", "--secret", ADMIN_SECRET][..],
        &[
            "credentials",
            "generate",
            "x",
            "--key-type",
            "EC-P256",
            "--alias",
            "a",
            "--out",
            "k.p12",
            "--store-password",
            "p4ssword-1",
        ][..],
        &[
            "credentials",
            "generate",
            "x",
            "--key-type",
            "EC-P256",
            "--alias",
            "a",
            "--out",
            "k.p12",
            "--password=p4ssword-1",
        ][..],
        &[
            "credentials",
            "import",
            "x",
            "--file",
            "k.p12",
            "--format",
            "pkcs12",
            "--password",
            "p4ssword-1",
        ][..],
        &[
            "credentials",
            "import",
            "x",
            "--file",
            "k.jks",
            "--format",
            "jks",
            "--key-password",
            "p4ssword-1",
        ][..],
    ] {
        let o = cli(d, &base, args);
        assert_eq!(o.status.code(), Some(2), "{args:?} accepted\n{}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.starts_with("error: unexpected argument"), "{args:?}: {err}");
    }
    assert!(!d.join("k.p12").exists(), "a keystore was written");

    // Nothing of the above changed the server: only the bootstrap client exists.
    let (_, listed) = api_get(&base, "/admin/clients").await;
    assert_eq!(listed["clients"].as_array().unwrap().len(), 1, "{listed}");
    proc.stop();
}

#[tokio::test]
async fn https_server_trusted_with_ca_cert_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cert = keyward_testkit::tls::TestCert::make(d, "server");
    let mut cmd = serve(d);
    cmd.env("KEYWARD_TLS_CERT_FILE", &cert.cert)
        .env("KEYWARD_TLS_KEY_FILE", &cert.key)
        .env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET);
    let (mut proc, base) = start(cmd);
    assert!(base.starts_with("https://"), "{base}");

    // The public web roots do not vouch for a self-signed certificate: refused, naming the URL.
    let err = failed(&cli(d, &base, &["clients", "list"]), "untrusted https");
    assert!(err.contains(&format!("{base}/token")), "{err}");
    assert!(err.contains("certificate"), "the cause is missing: {err}");

    // With the certificate trusted, the same command works over TLS.
    let ca = cert.cert.to_str().unwrap();
    let out = ok(
        &cli(d, &base, &["clients", "list", "--ca-cert", ca]),
        "https with --ca-cert",
    );
    assert!(out.lines().any(|l| l.starts_with("keyward-admin ")), "{out}");
    proc.stop();
}
