//! The `keyward` binary with TLS and many sockets: the certificate reloaded on `SIGHUP`, a key
//! that is not the certificate's refused at start, and the open-files limit raised at start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use keyward_testkit::{
    process::*,
    tls::{https_client, peer_certificate, TestCert},
};

const PATIENCE: Duration = Duration::from_secs(20);

fn with_tls(mut cmd: Command, cert: &Path, key: &Path) -> Command {
    cmd.env("KEYWARD_TLS_CERT_FILE", cert)
        .env("KEYWARD_TLS_KEY_FILE", key)
        .env("KEYWARD_ADMIN_SECRET", "tls-cli-admin-secret-0123");
    cmd
}

async fn served(base: &str, roots: &[&TestCert]) -> Vec<u8> {
    let resp = https_client(roots, true)
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    peer_certificate(&resp)
}

#[tokio::test]
async fn sighup_reloads_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let original = TestCert::make(dir.path(), "original");
    let renewed = TestCert::make(dir.path(), "renewed");
    let live = TestCert::make(dir.path(), "live");
    original.install_as(&live);
    let mut cmd = with_tls(serve(dir.path()), &live.cert, &live.key);
    // The timer would take a day: only the signal can make the switch below.
    cmd.env("KEYWARD_TLS_RELOAD_SECONDS", "86400");
    let (mut proc, base) = start(cmd);
    assert!(base.starts_with("https://"), "{base}");
    let roots = [&original, &renewed];
    assert_eq!(served(&base, &roots).await, original.der());

    renewed.install_as(&live);
    proc.signal("HUP");
    let deadline = Instant::now() + PATIENCE;
    while served(&base, &roots).await != renewed.der() {
        assert!(
            Instant::now() < deadline,
            "not reloaded on SIGHUP\n{}",
            proc.stderr_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        proc.child.try_wait().unwrap().is_none(),
        "SIGHUP ended the process"
    );
    proc.wait_line(
        Stream::Stderr,
        |l| l.contains("TLS certificate reloaded"),
        PATIENCE,
    );
}

#[tokio::test]
async fn key_that_is_not_the_certificates_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestCert::make(dir.path(), "a");
    let b = TestCert::make(dir.path(), "b");
    let mut proc = Proc::spawn(with_tls(serve(dir.path()), &a.cert, &b.key));
    let status = proc.wait_exit(START_TIMEOUT);
    assert!(!status.success());
    let stderr = proc.stderr_text();
    assert!(
        stderr.contains("tls_key_file") && stderr.contains("is not the key of the certificate"),
        "{stderr}"
    );
    assert!(!stderr.contains(LISTENING), "{stderr}");
}

#[tokio::test]
async fn serve_raises_the_open_files_soft_limit_to_the_hard_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (proc, _base) = start(serve_with_open_files(dir.path(), 256));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", proc.child.id())).unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers.len(), 2, "{line}");
    assert_eq!(numbers[0], numbers[1], "soft limit is the hard limit: {line}");
    assert_ne!(numbers[0], "256", "{line}");
}
