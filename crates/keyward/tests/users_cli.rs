#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `keyward admin users`: the real binary against a real `keyward serve` on a loopback port,
//! the server's state checked afterwards through the admin API.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

use keyward_testkit::{
    process::{keyward, output_text, serve, start, Proc},
    remote::{admin, http, ADMIN_SECRET},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn server() -> (tempfile::TempDir, Proc, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    cmd.env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
        .env("KEYWARD_ADMIN_PASSWORD", "bootstrap-admin-password");
    let (proc, base) = start(cmd);
    (dir, proc, base)
}

/// `keyward admin ARGS` against `base`, with `env` and `stdin` (none: not a terminal, empty).
fn cli(dir: &Path, base: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd: Command = keyward(dir);
    cmd.arg("admin")
        .args(args)
        .env("KEYWARD_URL", base)
        .env("KEYWARD_ADMIN_SECRET", ADMIN_SECRET)
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run keyward admin");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn ok(o: &Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(0), "{what} failed\n{}", output_text(o));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[tokio::test]
async fn users_create_and_list() {
    let (dir, mut proc, base) = server();
    let dir = dir.path();

    // From standard input.
    let created = ok(
        &cli(
            dir,
            &base,
            &[
                "users",
                "create",
                "--username",
                "alice",
                "--name",
                "Alice",
                "--email",
                "alice@example.com",
                "--role",
                "admin",
                "--password-stdin",
            ],
            &[],
            Some("alice-password\n"),
        ),
        "users create --password-stdin",
    );
    assert!(
        created
            .lines()
            .any(|l| l.starts_with("username:") && l.ends_with("alice")),
        "{created}"
    );
    assert!(!created.contains("alice-password"), "{created}");

    // From KEYWARD_USER_PASSWORD, JSON output.
    let bob = ok(
        &cli(
            dir,
            &base,
            &["users", "create", "--username", "bob", "--output", "json"],
            &[("KEYWARD_USER_PASSWORD", "bob-password")],
            None,
        ),
        "users create with KEYWARD_USER_PASSWORD",
    );
    let bob: Value = serde_json::from_str(&bob).unwrap();
    assert_eq!(bob["username"], "bob");
    assert_eq!(bob["roles"], json!([]));

    // Without a password source: a clear error, nothing created.
    let refused = cli(dir, &base, &["users", "create", "--username", "carol"], &[], None);
    assert_eq!(refused.status.code(), Some(1), "{}", output_text(&refused));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("--password-stdin") && err.contains("KEYWARD_USER_PASSWORD"),
        "{err}"
    );

    let table = ok(&cli(dir, &base, &["users", "list"], &[], None), "users list");
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].starts_with("USERNAME"), "{table}");
    let names: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["admin", "alice", "bob"], "{table}");
    assert!(
        rows[2].contains("admin") && rows[2].contains("alice@example.com"),
        "{table}"
    );

    let listed = ok(
        &cli(dir, &base, &["users", "list", "--output", "json"], &[], None),
        "users list json",
    );
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["users"].as_array().unwrap().len(), 3);

    // The server's own account.
    let (status, alice) = admin(&http(), &base, Method::GET, "/admin/users/alice", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(alice["roles"], json!(["admin"]));
    assert_eq!(alice["name"], "Alice");
    let (status, carol) = admin(&http(), &base, Method::GET, "/admin/users/carol", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{carol}");

    proc.stop();
    assert!(
        !proc.stderr_text().contains("alice-password"),
        "the password reached the log"
    );
}
