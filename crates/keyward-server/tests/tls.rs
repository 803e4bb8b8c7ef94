//! TLS on the main listener: certificates made by OpenSSL in the test, real TLS clients
//! (reqwest over HTTP/1.1 and HTTP/2 by ALPN, curl), a start refused for a key that is not the
//! certificate's, and certificates renewed on disk served without a restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use keyward_server::{ServeError, TlsError};
use keyward_testkit::{
    connections::{read_until_closed, slow_socket, Outcome},
    server::*,
    tls::{https_client, peer_certificate, TestCert},
};
use reqwest::{StatusCode, Version};
use serde_json::Value;

const PATIENCE: Duration = Duration::from_secs(20);

/// A server with TLS from `cert`, its files re-read every second.
async fn tls_server(cert: &TestCert) -> TestServer {
    TestServer::start_with(|c| {
        c.tls_cert_file = Some(cert.cert.display().to_string());
        c.tls_key_file = Some(cert.key.display().to_string());
        c.tls_reload_seconds = 1;
    })
    .await
}

/// The certificate a new TLS connection to `srv` is given.
async fn served_certificate(srv: &TestServer, roots: &[&TestCert]) -> Vec<u8> {
    let resp = https_client(roots, true)
        .get(srv.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    peer_certificate(&resp)
}

/// Polls until new connections get `want`'s certificate.
async fn wait_for_certificate(srv: &TestServer, roots: &[&TestCert], want: &TestCert) {
    let deadline = Instant::now() + PATIENCE;
    while served_certificate(srv, roots).await != want.der() {
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn serves_http1_and_http2_by_alpn() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::make(dir.path(), "localhost");
    let srv = tls_server(&cert).await;
    assert!(srv.base.starts_with("https://"), "{}", srv.base);

    let h1 = https_client(&[&cert], true)
        .get(srv.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(h1.status(), StatusCode::OK);
    assert_eq!(h1.version(), Version::HTTP_11);

    let h2 = https_client(&[&cert], false)
        .get(srv.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(h2.status(), StatusCode::OK);
    assert_eq!(h2.version(), Version::HTTP_2);
    let discovery: Value = h2.json().await.unwrap();
    assert_eq!(
        discovery["issuer"], srv.base,
        "the default issuer is https:// + the address"
    );
}

#[tokio::test]
async fn token_request_over_http2() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::make(dir.path(), "localhost");
    let srv = tls_server(&cert).await;
    let (id, secret) = srv.basic_client().await;
    let resp = https_client(&[&cert], false)
        .post(srv.url("/token"))
        .header("authorization", basic_header(&id, &secret))
        .form(&[CC])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn curl_with_cacert_fetches_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::make(dir.path(), "localhost");
    let srv = tls_server(&cert).await;
    let url = srv.url("/healthz");
    let cacert = cert.cert.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "-w",
                "\\n%{http_code} %{http_version}",
                "--cacert",
            ])
            .arg(cacert)
            .arg(url)
            .output()
            .expect("run curl (the TLS tests need it on PATH)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.ends_with("\n200 2") || stdout.ends_with("\n200 1.1"),
        "{stdout}"
    );
}

#[tokio::test]
async fn plain_http_to_the_tls_port_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::make(dir.path(), "localhost");
    let srv = tls_server(&cert).await;
    let plain = srv.url("/healthz").replacen("https://", "http://", 1);
    let result = reqwest::Client::new().get(plain).send().await;
    assert!(result.is_err(), "a plain request got an answer: {result:?}");
}

#[tokio::test]
async fn handshake_that_never_comes_is_closed_at_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::make(dir.path(), "localhost");
    let srv = TestServer::start_with(|c| {
        c.tls_cert_file = Some(cert.cert.display().to_string());
        c.tls_key_file = Some(cert.key.display().to_string());
        c.header_read_timeout_ms = 300;
    })
    .await;
    let mut socket = slow_socket(srv.addr(), b"").await;
    let (outcome, took) = read_until_closed(&mut socket, PATIENCE).await;
    assert_eq!(outcome, Outcome::Closed(Vec::new()));
    assert!(took >= Duration::from_millis(250), "closed after {took:?}");
}

#[tokio::test]
async fn key_that_is_not_the_certificates_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestCert::make(dir.path(), "a");
    let b = TestCert::make(dir.path(), "b");
    let err = start_error(|c| {
        c.tls_cert_file = Some(a.cert.display().to_string());
        c.tls_key_file = Some(b.key.display().to_string());
    })
    .await;
    let message = err.to_string();
    assert!(
        matches!(
            err,
            keyward_app::StartupError::Serve(ServeError::Tls(TlsError::Mismatch { .. }))
        ),
        "{err:?}"
    );
    assert!(
        message.contains("tls_key_file") && message.contains("tls_cert_file"),
        "{message}"
    );
}

#[tokio::test]
async fn cert_file_without_key_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestCert::make(dir.path(), "a");
    let err = start_error(|c| c.tls_cert_file = Some(a.cert.display().to_string())).await;
    let message = err.to_string();
    assert!(message.contains("tls_key_file is not set"), "{message}");
}

#[tokio::test]
async fn replaced_files_are_served_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let original = TestCert::make(dir.path(), "original");
    let renewed = TestCert::make(dir.path(), "renewed");
    let live = TestCert::make(dir.path(), "live");
    original.install_as(&live);
    let srv = tls_server(&live).await;
    let roots = [&original, &renewed];
    assert_eq!(served_certificate(&srv, &roots).await, original.der());
    renewed.install_as(&live);
    wait_for_certificate(&srv, &roots, &renewed).await;
}

#[tokio::test]
async fn broken_new_files_keep_the_previous_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let original = TestCert::make(dir.path(), "original");
    let renewed = TestCert::make(dir.path(), "renewed");
    let live = TestCert::make(dir.path(), "live");
    original.install_as(&live);
    let srv = tls_server(&live).await;
    let roots = [&original, &renewed];
    // A certificate whose key is not there yet (a renewal half done), then garbage.
    std::fs::copy(&renewed.cert, &live.cert).unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(served_certificate(&srv, &roots).await, original.der());
    std::fs::write(&live.cert, b"not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(served_certificate(&srv, &roots).await, original.der());
    srv.assert_still_serving().await;
    // The renewal completes: picked up at the next look.
    renewed.install_as(&live);
    wait_for_certificate(&srv, &roots, &renewed).await;
}
