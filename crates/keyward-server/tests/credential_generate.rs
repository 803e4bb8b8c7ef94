//! Server-side key generation (issue #5 "Generate"): every key type in PKCS#12 and JKS, each
//! keystore read back by Java `keytool` and OpenSSL 3 with the given passwords, the key taken out
//! of the keystore signs an assertion that gets a token, the private key is nowhere in the
//! database, the audit log or the credential list, and every refused request changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use keyward_testkit::server::*;
use keyward_types::SigningAlg;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

const ALIAS: &str = "client-key";
const STORE_PASS: &str = "store-pass-1";
const KEY_PASS: &str = "key-pass-22";

/// Runs a tool, asserts it exits 0, returns stdout and stderr together.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed: {text}");
    text
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn signing_alg(key_type: &str) -> SigningAlg {
    match key_type {
        "EC-P256" => SigningAlg::ES256,
        "EC-P384" => SigningAlg::ES384,
        "Ed25519" => SigningAlg::EdDSA,
        _ => SigningAlg::RS256,
    }
}

fn kty(key_type: &str) -> &'static str {
    match key_type {
        "EC-P256" | "EC-P384" => "EC",
        "Ed25519" => "OKP",
        _ => "RSA",
    }
}

fn client_id(key_type: &str, format: &str) -> String {
    format!("gen-{}-{format}", key_type.to_ascii_lowercase())
}

fn request(key_type: &str, format: &str) -> Value {
    let mut body = json!({
        "key_type": key_type, "format": format, "alias": ALIAS,
        "store_password": STORE_PASS, "validity_days": 30,
    });
    if format == "jks" {
        body["key_password"] = json!(KEY_PASS);
    }
    body
}

/// A generated keystore on disk, and what the server answered.
struct Generated {
    credential: Value,
    file: PathBuf,
    format: String,
    _dir: tempfile::TempDir,
}

/// Generates for a new empty client `id`; asserts the response and the stored credential.
async fn generate_ok(srv: &TestServer, id: &str, body: Value) -> Generated {
    empty_key_client(srv, id).await;
    let key_type = body["key_type"].as_str().unwrap().to_owned();
    let days = body["validity_days"].as_i64().unwrap_or(365);
    let format = body["format"].as_str().unwrap().to_owned();
    let resp = generate_raw(srv, id, body).await;
    let status = resp.status();
    let cache = resp
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(cache.as_deref(), Some("no-store"));
    let body: Value = serde_json::from_str(&text).unwrap();
    let ext = if format == "jks" { "jks" } else { "p12" };
    let filename = body["filename"].as_str().unwrap();
    assert!(
        filename.starts_with(id) && filename.ends_with(&format!(".{ext}")),
        "{filename}"
    );
    assert!(!filename.contains('/') && !filename.contains(".."), "{filename}");
    let keystore = STANDARD.decode(body["keystore"].as_str().unwrap()).unwrap();
    assert!(!keystore.is_empty());
    for pw in [STORE_PASS, KEY_PASS] {
        assert!(!text.contains(pw), "the response repeats a password");
    }

    let c = body["credential"].clone();
    // RSA keys are registered without an algorithm (they verify RS* and PS*); EC and Ed25519
    // keys with their only one.
    if kty(&key_type) == "RSA" {
        assert_eq!(c["alg"], Value::Null, "{c}");
    } else {
        assert_eq!(c["alg"], signing_alg(&key_type).as_str(), "{c}");
    }
    assert_eq!(c["jwk"]["kty"], kty(&key_type), "{c}");
    assert_eq!(c["thumbprint"], rfc7638(&c["jwk"]), "{c}");
    assert_eq!(c["kid"], c["thumbprint"], "{c}");
    assert_eq!(c["enabled"], true);
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(c["jwk"].get(private).is_none(), "{c}");
    }
    let cert = &c["certificate"];
    assert!(
        cert["subject"].as_str().unwrap().contains(&format!("CN={id}")),
        "{c}"
    );
    assert_eq!(cert["issuer"], cert["subject"], "self-signed: {c}");
    assert_eq!(
        c["expires_at"], cert["not_after"],
        "expires_at is the notAfter: {c}"
    );
    let now = OffsetDateTime::from_unix_timestamp(srv.clock_now()).unwrap();
    let not_after = OffsetDateTime::parse(cert["not_after"].as_str().unwrap(), &Rfc3339).unwrap();
    let not_before = OffsetDateTime::parse(cert["not_before"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(
        (not_after - (now + Duration::days(days))).abs() <= Duration::minutes(2),
        "notAfter {not_after} is not {days} days after {now}"
    );
    assert!(
        not_before <= now + Duration::seconds(1),
        "notBefore {not_before} after {now}"
    );
    // Listed, exactly as returned.
    let list = credential_list(srv, id).await;
    assert_eq!(list.as_array().unwrap(), &vec![c.clone()]);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(filename);
    std::fs::write(&file, &keystore).unwrap();
    Generated {
        credential: c,
        file,
        format,
        _dir: dir,
    }
}

/// `keytool -list -v` with the store password: exit 0, the alias, the subject, a v3 key entry.
fn keytool_lists(g: &Generated, id: &str, key_type: &str) {
    let storetype = if g.format == "jks" { "JKS" } else { "PKCS12" };
    let out = run(
        "keytool",
        &[
            "-list",
            "-v",
            "-keystore",
            path_str(&g.file),
            "-storetype",
            storetype,
            "-storepass",
            STORE_PASS,
        ],
    );
    assert!(out.contains(&format!("Alias name: {ALIAS}")), "{out}");
    assert!(out.contains("PrivateKeyEntry"), "{out}");
    assert!(out.contains(&format!("CN={id}")), "{out}");
    assert!(out.contains("Version: 3"), "{out}");
    let sig = match key_type {
        "EC-P256" => Some("SHA256withECDSA"),
        "RSA-2048" | "RSA-3072" | "RSA-4096" => Some("SHA256withRSA"),
        _ => None,
    };
    if let Some(sig) = sig {
        assert!(out.contains(&format!("Signature algorithm name: {sig}")), "{out}");
    }
}

/// The keystore as a PKCS#12 file protected by the store password: itself, or for JKS the
/// result of `keytool -importkeystore` with the store and key passwords.
fn as_pkcs12(g: &Generated) -> PathBuf {
    if g.format != "jks" {
        return g.file.clone();
    }
    let dest = g.file.with_extension("converted.p12");
    run(
        "keytool",
        &[
            "-importkeystore",
            "-srckeystore",
            path_str(&g.file),
            "-srcstoretype",
            "JKS",
            "-srcstorepass",
            STORE_PASS,
            "-srckeypass",
            KEY_PASS,
            "-srcalias",
            ALIAS,
            "-destkeystore",
            path_str(&dest),
            "-deststoretype",
            "PKCS12",
            "-deststorepass",
            STORE_PASS,
            "-destkeypass",
            STORE_PASS,
            "-noprompt",
        ],
    );
    dest
}

/// The PKCS#8 DER of the keystore's private key, taken out with OpenSSL, and its PEM file.
fn private_key(p12: &Path) -> (Vec<u8>, PathBuf) {
    let pass = format!("pass:{STORE_PASS}");
    let out = run(
        "openssl",
        &[
            "pkcs12",
            "-in",
            path_str(p12),
            "-nocerts",
            "-nodes",
            "-passin",
            &pass,
        ],
    );
    let pem: String = out
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
        .take_while(|l| !l.starts_with("-----END PRIVATE KEY-----"))
        .chain(["-----END PRIVATE KEY-----"])
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{out}");
    let path = p12.with_extension("key.pem");
    std::fs::write(&path, &pem).unwrap();
    (pem_der(&path), path)
}

/// The secret scalar (`priv` of EC/Ed25519, `privateExponent` of RSA) as `openssl pkey -text`
/// prints it, without leading zero bytes (openssl adds one before a high bit).
fn secret_scalar(key_pem: &Path) -> Vec<u8> {
    let out = run("openssl", &["pkey", "-in", path_str(key_pem), "-noout", "-text"]);
    let hex: String = out
        .lines()
        .skip_while(|l| !(l.starts_with("priv:") || l.starts_with("privateExponent:")))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .flat_map(|l| l.chars().filter(char::is_ascii_hexdigit))
        .collect();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let first = bytes.iter().position(|b| *b != 0).unwrap();
    // A 32-byte key may itself start with zero bytes; what is left is still long enough to find.
    assert!(bytes.len() - first >= 24, "{out}");
    bytes[first..].to_vec()
}

/// The keystore's certificate, read by OpenSSL: its notAfter, serial and subject must be the
/// credential's.
fn openssl_reads_certificate(p12: &Path, g: &Generated, id: &str) {
    let pass = format!("pass:{STORE_PASS}");
    let certs = run(
        "openssl",
        &[
            "pkcs12",
            "-in",
            path_str(p12),
            "-nokeys",
            "-clcerts",
            "-passin",
            &pass,
        ],
    );
    let pem: String = certs
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .map(|l| format!("{l}\n"))
        .collect();
    let cert_file = p12.with_extension("cert.pem");
    std::fs::write(&cert_file, pem).unwrap();
    let out = run(
        "openssl",
        &[
            "x509",
            "-in",
            path_str(&cert_file),
            "-noout",
            "-enddate",
            "-serial",
            "-subject",
            "-dateopt",
            "iso_8601",
        ],
    );
    let line = |prefix: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {out}"))
            .trim()
            .to_owned()
    };
    let info = &g.credential["certificate"];
    assert_eq!(
        line("notAfter=").replace(' ', "T"),
        info["not_after"].as_str().unwrap(),
        "{out}"
    );
    assert_eq!(
        line("serial=").to_ascii_lowercase().trim_start_matches('0'),
        info["serial"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase()
            .trim_start_matches('0'),
        "{out}"
    );
    assert!(line("subject=").contains(id), "{out}");
}

/// Signs an assertion with the key from the keystore (header kid = the credential's kid) and
/// asserts a token.
async fn assertion_gets_token(srv: &TestServer, id: &str, key_type: &str, der: Vec<u8>, credential: &Value) {
    let alg = signing_alg(key_type);
    let key = keyward_jose::SigningKey::from_pkcs8(alg, zeroize::Zeroizing::new(der)).unwrap();
    assert_eq!(
        key.kid(),
        credential["thumbprint"],
        "the keystore's key is the registered one"
    );
    let header = json!({"alg": alg.as_str(), "kid": credential["kid"]});
    let assertion = sign_jws(&key, &header, &srv.claims(id));
    let resp = srv.token_assertion(&assertion, &[]).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], id);
}

/// The whole round trip for one key type and keystore format.
async fn round_trip(key_type: &str, format: &str) {
    let srv = TestServer::start().await;
    let id = client_id(key_type, format);
    let g = generate_ok(&srv, &id, request(key_type, format)).await;
    keytool_lists(&g, &id, key_type);
    if format == "pkcs12" {
        let pass = format!("pass:{STORE_PASS}");
        let out = run(
            "openssl",
            &[
                "pkcs12",
                "-in",
                path_str(&g.file),
                "-info",
                "-nodes",
                "-passin",
                &pass,
            ],
        );
        assert!(out.contains("BEGIN PRIVATE KEY"), "{out}");
        assert!(out.contains(&format!("friendlyName: {ALIAS}")), "{out}");
        assert!(out.contains("AES-256-CBC"), "PBES2/AES-256: {out}");
    }
    let p12 = as_pkcs12(&g);
    openssl_reads_certificate(&p12, &g, &id);
    let (der, _) = private_key(&p12);
    assertion_gets_token(&srv, &id, key_type, der, &g.credential).await;
}

// ---- every key type and format ----

#[tokio::test]
async fn generates_rsa2048_pkcs12() {
    round_trip("RSA-2048", "pkcs12").await;
}

#[tokio::test]
async fn generates_rsa2048_jks() {
    round_trip("RSA-2048", "jks").await;
}

#[tokio::test]
async fn generates_rsa3072_pkcs12() {
    round_trip("RSA-3072", "pkcs12").await;
}

#[tokio::test]
async fn generates_rsa3072_jks() {
    round_trip("RSA-3072", "jks").await;
}

#[tokio::test]
async fn generates_rsa4096_pkcs12() {
    round_trip("RSA-4096", "pkcs12").await;
}

#[tokio::test]
async fn generates_ec_p256_pkcs12() {
    round_trip("EC-P256", "pkcs12").await;
}

#[tokio::test]
async fn generates_ec_p256_jks() {
    round_trip("EC-P256", "jks").await;
}

#[tokio::test]
async fn generates_ec_p384_pkcs12() {
    round_trip("EC-P384", "pkcs12").await;
}

#[tokio::test]
async fn generates_ec_p384_jks() {
    round_trip("EC-P384", "jks").await;
}

#[tokio::test]
async fn generates_ed25519_pkcs12() {
    round_trip("Ed25519", "pkcs12").await;
}

#[tokio::test]
async fn generates_ed25519_jks() {
    round_trip("Ed25519", "jks").await;
}

#[tokio::test]
async fn generate_defaults_validity_to_365_days_and_uses_given_name() {
    let srv = TestServer::start().await;
    let body = json!({
        "key_type": "EC-P256", "format": "pkcs12", "alias": ALIAS,
        "store_password": STORE_PASS, "name": "default-validity",
    });
    let g = generate_ok(&srv, "gen-default", body).await;
    assert_eq!(g.credential["name"], "default-validity");
}

#[tokio::test]
async fn generated_credential_is_audited_with_thumbprint() {
    let srv = TestServer::start().await;
    let g = generate_ok(&srv, "gen-audit", request("EC-P256", "pkcs12")).await;
    let (events, log) = audit_log(&srv).await;
    let e = events
        .iter()
        .find(|e| e["action"] == "credential.create" && e["target"] == "gen-audit")
        .unwrap();
    assert_eq!(e["outcome"], "success");
    assert_eq!(
        e["detail"]["credentials"][0]["thumbprint"],
        g.credential["thumbprint"]
    );
    assert!(!log.contains(STORE_PASS), "{log}");
}

// ---- secrecy ----

/// Everything the server keeps or shows after generating: the database file and its WAL, the
/// audit log and the credential lists.
async fn everything_kept(srv: &TestServer, ids: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut kept = Vec::new();
    for name in ["keyward.db", "keyward.db-wal"] {
        let path = srv.dir.path().join(name);
        if path.exists() {
            kept.push((name.to_owned(), std::fs::read(&path).unwrap()));
        }
    }
    assert!(!kept.is_empty(), "no database file in {:?}", srv.dir.path());
    let (_, log) = audit_log(srv).await;
    kept.push(("audit".into(), log.into_bytes()));
    for id in ids {
        let list = credential_list(srv, id).await;
        kept.push((format!("credentials of {id}"), list.to_string().into_bytes()));
    }
    kept
}

#[tokio::test]
async fn generated_private_key_is_never_stored_audited_or_listed() {
    let srv = TestServer::start().await;
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    let mut thumbprints: Vec<String> = Vec::new();
    let cases = [("EC-P256", "pkcs12"), ("RSA-2048", "jks"), ("Ed25519", "pkcs12")];
    for (key_type, format) in cases {
        let id = client_id(key_type, format);
        let g = generate_ok(&srv, &id, request(key_type, format)).await;
        thumbprints.push(g.credential["thumbprint"].as_str().unwrap().to_owned());
        let (der, pem) = private_key(&as_pkcs12(&g));
        let scalar = secret_scalar(&pem);
        secrets.push((format!("{key_type} PKCS#8 DER"), der.clone()));
        secrets.push((
            format!("{key_type} PKCS#8 base64"),
            STANDARD.encode(&der).into_bytes(),
        ));
        secrets.push((
            format!("{key_type} PKCS#8 base64url"),
            URL_SAFE_NO_PAD.encode(&der).into_bytes(),
        ));
        secrets.push((format!("{key_type} private scalar"), scalar.clone()));
        secrets.push((
            format!("{key_type} private scalar base64url"),
            URL_SAFE_NO_PAD.encode(&scalar).into_bytes(),
        ));
        let keystore = std::fs::read(&g.file).unwrap();
        secrets.push((
            format!("{key_type} keystore base64"),
            STANDARD.encode(&keystore).into_bytes(),
        ));
    }
    secrets.push(("store password".into(), STORE_PASS.as_bytes().to_vec()));
    secrets.push(("key password".into(), KEY_PASS.as_bytes().to_vec()));
    let ids: Vec<String> = cases.iter().map(|(k, f)| client_id(k, f)).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let kept = everything_kept(&srv, &ids).await;
    // The search works on what was read: the public side of every key is in the database.
    let database: Vec<u8> = kept
        .iter()
        .filter(|(place, _)| place.starts_with("keyward.db"))
        .flat_map(|(_, bytes)| bytes.iter().copied())
        .collect();
    for t in &thumbprints {
        assert!(
            contains(&database, t.as_bytes()),
            "thumbprint {t} not found in the database files"
        );
    }
    for (place, bytes) in kept {
        for (what, secret) in &secrets {
            assert!(!contains(&bytes, secret), "{what} found in {place}");
        }
    }
}

// ---- refused requests ----

/// Sends a generate request for `id` and asserts the refusal, that nothing changed, and that no
/// password came back.
async fn refused(
    srv: &TestServer,
    id: &str,
    body: Value,
    status: StatusCode,
    error: &str,
    reason: &str,
    mention: &str,
) {
    let (list, before) = (credential_list(srv, id).await, srv.snapshot().await);
    let passwords: Vec<String> = ["store_password", "key_password"]
        .iter()
        .filter_map(|f| body[*f].as_str().map(str::to_owned))
        .collect();
    let resp = generate_raw(srv, id, body).await;
    assert_eq!(resp.status(), status);
    let text = resp.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["reason"], reason, "{v}");
    assert!(v.get("keystore").is_none(), "{v}");
    let description = v["error_description"].as_str().unwrap();
    assert!(
        description.contains(mention),
        "description does not name '{mention}': {v}"
    );
    for pw in &passwords {
        assert!(
            !text.contains(pw.as_str()),
            "the response repeats a password: {text}"
        );
    }
    assert_eq!(srv.snapshot().await, before, "something was stored");
    assert_eq!(
        credential_list(srv, id).await,
        list,
        "the credential list changed"
    );
    let (_, log) = audit_log(srv).await;
    for pw in &passwords {
        assert!(!log.contains(pw.as_str()), "the audit log holds a password");
    }
}

#[tokio::test]
async fn generate_rejects_store_password_of_seven_characters() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "g").await;
    let mut body = request("EC-P256", "pkcs12");
    body["store_password"] = json!("seven-7");
    refused(
        &srv,
        "g",
        body,
        StatusCode::BAD_REQUEST,
        "invalid_key",
        "password_too_short",
        "store_password",
    )
    .await;
}

#[tokio::test]
async fn generate_rejects_key_password_of_seven_characters() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "g").await;
    let mut body = request("EC-P256", "jks");
    body["key_password"] = json!("seven-7");
    refused(
        &srv,
        "g",
        body,
        StatusCode::BAD_REQUEST,
        "invalid_key",
        "password_too_short",
        "key_password",
    )
    .await;
}

#[tokio::test]
async fn generate_rejects_unknown_key_type() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "g").await;
    let mut body = request("EC-P256", "pkcs12");
    body["key_type"] = json!("RSA-1024");
    refused(
        &srv,
        "g",
        body,
        StatusCode::BAD_REQUEST,
        "invalid_key",
        "unknown_key_type",
        "RSA-1024",
    )
    .await;
}

#[tokio::test]
async fn generate_rejects_unknown_keystore_format() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "g").await;
    let mut body = request("EC-P256", "pkcs12");
    body["format"] = json!("pem");
    refused(
        &srv,
        "g",
        body,
        StatusCode::BAD_REQUEST,
        "invalid_key",
        "unknown_keystore_format",
        "pem",
    )
    .await;
}

#[tokio::test]
async fn generate_rejects_pkcs12_with_a_different_key_password() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "g").await;
    let mut body = request("EC-P256", "pkcs12");
    body["key_password"] = json!(KEY_PASS);
    refused(
        &srv,
        "g",
        body,
        StatusCode::BAD_REQUEST,
        "invalid_key",
        "invalid_request",
        "key_password",
    )
    .await;
}

#[tokio::test]
async fn generate_rejects_when_the_client_has_the_maximum() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "g").await;
    for _ in 0..2 {
        let resp = generate_raw(&srv, "g", request("EC-P256", "pkcs12")).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    refused(
        &srv,
        "g",
        request("EC-P256", "pkcs12"),
        StatusCode::CONFLICT,
        "conflict",
        "credential_limit",
        "2",
    )
    .await;
}
