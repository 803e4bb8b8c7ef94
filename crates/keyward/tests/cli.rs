//! Integration tests of the `keyward` binary itself: start-up, configuration, logging, signals,
//! the generated admin secret, and `keyward admin rotate-signing-key`. Every test runs the
//! already-built binary in its own temporary working directory, listening on port 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::Command,
    time::{Duration, Instant},
};

use keyward_testkit::{oauth::jwt_header, process::*, remote::*};
use serde_json::{json, Value};

// --- Helpers only these tests use -------------------------------------------------------------

async fn jwks_kids(base: &str) -> Vec<String> {
    let jwks = get_json(&http(), &format!("{base}/jwks")).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Raw HTTP/1.1 response up to EOF (or a 10 s read timeout).
fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut resp = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => resp.extend_from_slice(&buf[..n]),
        }
    }
    resp
}

// --- Tests ------------------------------------------------------------------------------------

#[tokio::test]
async fn serve_with_port_zero_logs_bound_address() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proc, base) = start(serve(dir.path()));

    let resp = http().get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let data = dir.path().join("keyward-data");
    assert!(
        data.join("keyward.db").is_file(),
        "default database keyward-data/keyward.db not created"
    );
    for name in ["pepper.key", "kek.key"] {
        let file = data.join(name);
        let meta =
            std::fs::metadata(&file).unwrap_or_else(|e| panic!("keyward-data/{name} not created: {e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "keyward-data/{name} has mode {mode:o}");
        }
        #[cfg(not(unix))]
        let _ = meta;
    }
    proc.stop();
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_finishing_in_flight_request() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proc, base) = start(serve(dir.path()));
    let addr = base.strip_prefix("http://").unwrap().to_owned();

    let body = "grant_type=client_credentials&client_id=nobody&client_secret=not-the-secret";
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST /token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // Let the server accept the connection and start on the request before the signal.
    std::thread::sleep(Duration::from_millis(300));

    proc.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        proc.child.try_wait().unwrap().is_none(),
        "keyward exited with a request in flight\n--- stderr:\n{}",
        proc.stderr_text()
    );
    // The signal was taken: shutdown began while the request was still unfinished.
    proc.wait_line(
        Stream::Stderr,
        |l| l.contains("shutting down"),
        Duration::from_secs(5),
    );
    stream.write_all(rest.as_bytes()).unwrap();
    stream.flush().unwrap();

    let resp = read_response(&mut stream);
    let text = String::from_utf8_lossy(&resp).into_owned();
    assert!(
        text.starts_with("HTTP/1.1 "),
        "in-flight request got no HTTP response: {text:?}"
    );
    // The whole response arrived: its body is as long as Content-Length says.
    let (head, resp_body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("incomplete response head: {text:?}"));
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().unwrap())
        })
        .unwrap_or_else(|| panic!("response without Content-Length: {text:?}"));
    assert_eq!(resp_body.len(), length, "truncated response: {text:?}");

    let status = proc.wait_exit(EXIT_TIMEOUT);
    assert!(
        status.success(),
        "keyward exited with {status} on SIGTERM\n--- stderr:\n{}",
        proc.stderr_text()
    );
}

#[tokio::test]
async fn sigint_shuts_down_with_exit_status_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proc, base) = start(serve(dir.path()));
    let resp = http().get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    proc.signal("INT");
    let status = proc.wait_exit(EXIT_TIMEOUT);
    assert!(
        status.success(),
        "keyward exited with {status} on SIGINT\n--- stderr:\n{}",
        proc.stderr_text()
    );
}

#[tokio::test]
async fn generated_admin_secret_printed_once() {
    let dir = tempfile::tempdir().unwrap();

    let (mut first, base) = start(serve(dir.path()));
    let line = first.wait_line(Stream::Stdout, |l| l.contains(CREATED_ADMIN), START_TIMEOUT);
    assert!(
        line.contains("'keyward-admin'") && line.contains("shown once"),
        "unexpected stdout line: {line}"
    );
    let secret = line
        .split_once("with secret ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no secret in: {line}"))
        .to_owned();
    assert!(secret.len() >= 16, "implausible secret {secret:?}");
    admin_token_with(&http(), &base, &secret).await;
    first.stop();
    assert_eq!(
        first.stdout_text().matches(CREATED_ADMIN).count(),
        1,
        "stdout:\n{}",
        first.stdout_text()
    );

    let (mut second, base) = start(serve(dir.path()));
    admin_token_with(&http(), &base, &secret).await;
    second.stop();
    assert!(
        !second.stdout_text().contains(CREATED_ADMIN),
        "second start printed the admin secret again:\n{}",
        second.stdout_text()
    );

    for (run, proc) in [("first", &first), ("second", &second)] {
        assert!(
            !proc.stderr_text().contains(&secret),
            "the generated admin secret appears in the log of the {run} run"
        );
    }
}

#[tokio::test]
async fn config_file_is_read_and_env_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keyward.toml"),
        "listen = \"127.0.0.1:0\"\n\
         issuer = \"https://from-file.example\"\n\
         admin_secret = \"file-secret-0123456789\"\n",
    )
    .unwrap();
    let mut cmd = keyward(dir.path());
    cmd.args(["--config", "keyward.toml", "serve"])
        .env("KEYWARD_ISSUER", "https://from-env.example");
    let (mut proc, base) = start(cmd);

    let discovery = get_json(&http(), &format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], "https://from-env.example");
    admin_token_with(&http(), &base, "file-secret-0123456789").await;
    proc.stop();
}

#[tokio::test]
async fn unknown_config_key_is_rejected_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keyward.toml"),
        "listen = \"127.0.0.1:0\"\nbogus_setting = 42\n",
    )
    .unwrap();
    let mut cmd = keyward(dir.path());
    cmd.args(["--config", "keyward.toml", "serve"]);
    let mut proc = Proc::spawn(cmd);
    let status = proc.wait_exit(START_TIMEOUT);
    assert!(
        !status.success(),
        "keyward accepted an unknown config key\n--- stderr:\n{}",
        proc.stderr_text()
    );
    assert!(
        proc.stderr_text().contains("bogus_setting"),
        "the error does not name the unknown key:\n{}",
        proc.stderr_text()
    );
}

#[tokio::test]
async fn json_log_format_emits_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = keyward(dir.path());
    cmd.args(["--log-format", "json", "serve"]);
    let (mut proc, _base) = start(cmd);

    let lines = proc.stderr_lines();
    let mut saw_listening = false;
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"));
        assert!(
            v.get("level").is_some_and(Value::is_string),
            "JSON log line without level: {line}"
        );
        if line.contains(LISTENING) {
            saw_listening = true;
            break;
        }
    }
    assert!(saw_listening);
    proc.stop();
}

#[tokio::test]
async fn rotate_signing_key_publishes_new_key_and_keeps_old() {
    let dir = tempfile::tempdir().unwrap();
    let with_env = |mut cmd: Command| {
        cmd.env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
            .env("KEYWARD_TOKEN_SIGNING_ALG", "ES256")
            .env("KEYWARD_SIGNING_KEY_RELOAD_SECONDS", "1");
        cmd
    };
    let (mut server, base) = start(with_env(serve(dir.path())));

    let old_kids = jwks_kids(&base).await;
    assert_eq!(old_kids.len(), 1, "{old_kids:?}");
    let old_kid = old_kids[0].clone();
    let old_token = admin_token(&http(), &base).await;
    assert_eq!(jwt_header(&old_token)["kid"], old_kid.as_str());
    assert_eq!(jwt_header(&old_token)["alg"], "ES256");

    let mut cmd = with_env(keyward(dir.path()));
    cmd.args(["admin", "rotate-signing-key"]);
    let mut rotate = Proc::spawn(cmd);
    let status = rotate.wait_exit(START_TIMEOUT);
    assert!(
        status.success(),
        "rotate-signing-key failed: {status}\n--- stdout:\n{}\n--- stderr:\n{}",
        rotate.stdout_text(),
        rotate.stderr_text()
    );
    let out = rotate.stdout_text();
    let new_kid = out
        .split_once("new active signing key: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no new kid in stdout: {out}"))
        .to_owned();
    assert_ne!(new_kid, old_kid);

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let kids = jwks_kids(&base).await;
        if kids.contains(&old_kid) && kids.contains(&new_kid) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/jwks does not list both {old_kid} and {new_kid} within 5 s: {kids:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let new_token = admin_token(&http(), &base).await;
    assert_eq!(jwt_header(&new_token)["kid"], new_kid.as_str());

    for (which, t) in [("pre-rotation", &old_token), ("post-rotation", &new_token)] {
        let resp = http()
            .get(format!("{base}/admin/clients"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{which} token rejected on /admin/clients");
    }
    server.stop();
}

#[tokio::test]
async fn secrets_never_appear_in_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    cmd.env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
        .env("KEYWARD_LOG", "debug");
    let (mut proc, base) = start(cmd);
    let mut tokens = Vec::new();

    let admin = admin_token(&http(), &base).await;
    tokens.push(admin.clone());

    let (id, secret) = create_client_as(&http(), &base, &admin, json!({"scope": "read"})).await;
    assert!(
        !secret.is_empty(),
        "no client_secret for a client_secret_basic client"
    );

    tokens.push(access_token(&token_basic(&http(), &base, &id, &secret).await));

    let wrong = "wrong-secret-zyxwvutsrqponm";
    let (status, _) = token_basic(&http(), &base, &id, wrong).await;
    assert_eq!(status, 401);

    let resp = http()
        .post(format!("{base}/admin/clients/{id}/secret"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let rotated: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    tokens.push(access_token(&token_basic(&http(), &base, &id, &new_secret).await));

    proc.stop();
    let log = proc.stderr_text();
    assert!(
        log.contains("DEBUG"),
        "KEYWARD_LOG=debug did not turn on debug logging:\n{log}"
    );
    for (what, value) in [
        ("admin secret", ADMIN_SECRET),
        ("client secret", secret.as_str()),
        ("rotated client secret", new_secret.as_str()),
        ("wrong presented secret", wrong),
    ] {
        assert!(!log.contains(value), "the {what} appears in the log");
    }
    for (i, t) in tokens.iter().enumerate() {
        assert!(!log.contains(t.as_str()), "access token #{i} appears in the log");
        // Nor its signature alone (say, a logged Authorization header cut short).
        let signature = t.rsplit('.').next().unwrap();
        assert!(
            !log.contains(signature),
            "the signature of access token #{i} appears in the log"
        );
    }
}
