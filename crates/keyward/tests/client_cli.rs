#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `keyward client …`: the real binary against a real `keyward serve` on a loopback port. From a
//! Keycloak adapter `keycloak.json` to a token in one command; from a keystore to a running
//! `/k_jwks` that a keyward client uses as its `jwks_uri`; an assertion usable with curl; and
//! bad configs refused with a one-line error naming the key or file.

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use keyward_testkit::{
    fixtures::{interop, interop_text, KEYPASS, STOREPASS},
    process::{keyward, output_text, serve, start, Proc, Stream},
    remote::{admin, http, token_assertion, ADMIN_SECRET},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn server(dir: &Path) -> (Proc, String) {
    let mut cmd = serve(dir);
    cmd.env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
        .env("KEYWARD_JWKS_ALLOW_HTTP", "true")
        .env("KEYWARD_JWKS_ALLOW_PRIVATE_NETWORKS", "true");
    start(cmd)
}

async fn register(base: &str, metadata: Value) -> Value {
    let (status, body) = admin(&http(), base, Method::POST, "/admin/clients", Some(metadata)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn client_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = keyward(dir);
    cmd.arg("client").args(args).stdin(Stdio::null());
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    client_cmd(dir, args).output().unwrap()
}

fn show(o: &Output) -> String {
    output_text(o)
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", show(o));
    String::from_utf8(o.stdout.clone()).unwrap().trim().to_owned()
}

/// Exit 1, nothing on stdout, and a one-line error.
fn failed(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(1), "{}", show(o));
    assert!(o.stdout.is_empty(), "{}", show(o));
    let err = String::from_utf8(o.stderr.clone()).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&keyward_jose::b64_decode(payload).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.display().to_string()
}

fn keycloak_jks(client_id: &str) -> Value {
    json!({
        "realm": "demo", "auth-server-url": "https://sso.example", "resource": client_id,
        "ssl-required": "external",
        "credentials": {"jwt": {
            "client-keystore-file": interop("sample-rsa2048.jks").to_str().unwrap(),
            "client-keystore-type": "JKS", "client-keystore-password": "${env.KC_STOREPASS}",
            "client-key-password": KEYPASS, "client-key-alias": "clientkey", "token-expiration": 10
        }}
    })
}

#[tokio::test]
async fn from_keycloak_json_to_a_token_in_one_command() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = server(dir.path());
    let jwk: Value = serde_json::from_str(&interop_text("sample-rsa2048-public.jwk")).unwrap();
    register(
        &base,
        json!({"client_id": "kc-app", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [jwk]}, "scope": "read"}),
    )
    .await;
    let config = write(dir.path(), "keycloak.json", &keycloak_jks("kc-app"));
    let out = client_cmd(
        dir.path(),
        &["token", "--config", &config, "--issuer", &base, "--scope", "read"],
    )
    .env("KC_STOREPASS", STOREPASS)
    .output()
    .unwrap();
    let token = ok(&out);
    assert_eq!(claims(&token)["client_id"], "kc-app");
    assert_eq!(claims(&token)["scope"], "read");
    // --output json gives the metadata too.
    let out = client_cmd(
        dir.path(),
        &[
            "token", "--config", &config, "--issuer", &base, "--output", "json",
        ],
    )
    .env("KC_STOREPASS", STOREPASS)
    .output()
    .unwrap();
    let body: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_at"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn verbose_explains_what_is_sent_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = server(dir.path());
    let created = register(
        &base,
        json!({"client_id": "svc", "token_endpoint_auth_method": "client_secret_post", "scope": "read"}),
    )
    .await;
    let secret = created["client_secret"].as_str().unwrap();
    let config = write(
        dir.path(),
        "svc.json",
        &json!({"issuer": base, "client_id": "svc", "method": "client_secret_post", "secret": secret}),
    );
    let out = run(dir.path(), &["token", "--config", &config, "--verbose"]);
    let token = ok(&out);
    assert_eq!(claims(&token)["client_id"], "svc");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("client_secret_post"), "{stderr}");
    assert!(
        stderr.contains(&format!("token endpoint {base}/token")),
        "{stderr}"
    );
    assert!(stderr.contains("client_secret"), "names the parameter: {stderr}");
    assert!(!stderr.contains(secret), "never the value: {stderr}");
}

#[tokio::test]
async fn an_assertion_from_the_cli_is_accepted_at_the_token_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = server(dir.path());
    let jwk: Value = serde_json::from_str(&interop_text("sample-ec256-public.jwk")).unwrap();
    register(
        &base,
        json!({"client_id": "curl-user", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [jwk]}, "scope": "read"}),
    )
    .await;
    let config = write(
        dir.path(),
        "c.json",
        &json!({"issuer": base, "client_id": "curl-user", "method": "private_key_jwt",
            "key_file": interop("sample-ec256-private.pem").to_str().unwrap()}),
    );
    let assertion = ok(&run(dir.path(), &["assertion", "--config", &config]));
    let (status, body) = token_assertion(&http(), &base, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn serve_jwks_is_a_keyward_clients_jwks_uri_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = server(dir.path());
    let config = write(
        dir.path(),
        "c.json",
        &json!({"issuer": base, "client_id": "published", "method": "private_key_jwt",
            "key_file": interop("sample-rsa2048-keytool.p12").to_str().unwrap(),
            "store_password": STOREPASS, "key_alias": "clientkey"}),
    );
    let mut jwks = Proc::spawn(client_cmd(
        dir.path(),
        &["serve-jwks", "--config", &config, "--listen", "127.0.0.1:0"],
    ));
    let line = jwks.wait_line(Stream::Stderr, |l| l.contains("/k_jwks"), Duration::from_secs(20));
    let url = line
        .split_whitespace()
        .find(|w| w.ends_with("/k_jwks"))
        .unwrap()
        .to_owned();
    let served: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    let expected: Value = serde_json::from_str(&interop_text("sample-rsa2048-public.jwk")).unwrap();
    assert_eq!(served["keys"][0]["n"], expected["n"]);
    let well_known = url.replace("/k_jwks", "/.well-known/jwks.json");
    let same: Value = http()
        .get(&well_known)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(same, served);

    register(
        &base,
        json!({"client_id": "published", "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": url, "scope": "read"}),
    )
    .await;
    let token = ok(&run(dir.path(), &["token", "--config", &config]));
    assert_eq!(claims(&token)["client_id"], "published");
}

#[test]
fn bad_configs_are_refused_with_the_key_or_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jks = interop("sample-rsa2048.jks");
    let keycloak = |jwt: Value| json!({"realm": "r", "auth-server-url": "http://as", "resource": "app", "credentials": {"jwt": jwt}});
    let jwt = |extra: Value| {
        let mut base = json!({"client-keystore-file": jks.to_str().unwrap(), "client-keystore-type": "JKS",
            "client-keystore-password": STOREPASS, "client-key-password": KEYPASS, "client-key-alias": "clientkey"});
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    let cases = [
        (
            "missing keystore",
            keycloak(jwt(json!({"client-keystore-file": "classpath:nowhere.jks"}))),
            "nowhere.jks",
        ),
        (
            "wrong store password",
            keycloak(jwt(json!({"client-keystore-password": "wrong"}))),
            "password",
        ),
        (
            "wrong alias",
            keycloak(jwt(json!({"client-key-alias": "nope"}))),
            "nope",
        ),
        (
            "token-expiration 0",
            keycloak(jwt(json!({"token-expiration": 0}))),
            "credentials.jwt.token-expiration",
        ),
        (
            "unknown method",
            json!({"issuer": "http://as", "client_id": "a", "method": "client_secret_magic", "secret": "s"}),
            "client_secret_magic",
        ),
        (
            "missing secret",
            json!({"realm": "r", "auth-server-url": "http://as", "resource": "a", "credentials": {}}),
            "credentials.secret",
        ),
    ];
    for (what, config, named) in cases {
        let path = write(d, "bad.json", &config);
        let err = failed(&run(d, &["token", "--config", &path]));
        assert!(err.contains(named), "{what}: {err}");
        assert!(
            !err.contains(STOREPASS) && !err.contains(KEYPASS),
            "{what}: {err}"
        );
    }
}

#[tokio::test]
async fn introspect_and_revoke_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = server(dir.path());
    let created = register(&base, json!({"client_id": "cli-rs", "scope": "read"})).await;
    let secret = created["client_secret"].as_str().unwrap();
    let config = write(
        dir.path(),
        "client.json",
        &json!({"issuer": base, "client_id": "cli-rs", "method": "client_secret_basic", "secret": secret}),
    );
    let token = ok(&run(dir.path(), &["token", "--config", &config]));
    let active: Value = serde_json::from_str(&ok(&run(
        dir.path(),
        &["introspect", "--config", &config, &token],
    )))
    .unwrap();
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], "cli-rs");
    // The token from stdin (`-`), out of the process list; revoke prints nothing.
    let mut revoke = client_cmd(dir.path(), &["revoke", "--config", &config, "-"]);
    revoke
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = revoke.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(token.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(ok(&out), "");
    let inactive: Value = serde_json::from_str(&ok(&run(
        dir.path(),
        &["introspect", "--config", &config, &token],
    )))
    .unwrap();
    assert_eq!(inactive, json!({"active": false}));
    // A wrong secret: one line naming the refusal, exit 1.
    let wrong = write(
        dir.path(),
        "wrong.json",
        &json!({"issuer": base, "client_id": "cli-rs", "method": "client_secret_basic", "secret": "not-it"}),
    );
    let err = failed(&run(dir.path(), &["introspect", "--config", &wrong, &token]));
    assert!(err.contains("invalid_client"), "{err}");
}
