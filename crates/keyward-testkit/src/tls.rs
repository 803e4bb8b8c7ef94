//! TLS for tests: certificates made by `openssl req -x509` in a temp dir, and HTTPS clients
//! that trust them (HTTP/1.1 only, or HTTP/2 when the server offers it by ALPN).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use rustls_pki_types::{pem::PemObject, CertificateDer};

/// A self-signed certificate for `localhost` and `127.0.0.1`, and its key, as PEM files.
pub struct TestCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCert {
    /// Makes `NAME.crt` and `NAME.key` (P-256, one day) in `dir` with OpenSSL.
    pub fn make(dir: &Path, name: &str) -> Self {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "1", "-subj"])
            .arg(format!("/CN={name}"))
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            // Not a CA: webpki refuses a CA certificate as the server's own (CaUsedAsEndEntity).
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("run openssl (the TLS tests need it on PATH)");
        assert!(
            out.status.success(),
            "openssl req -x509 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { cert, key }
    }

    pub fn pem(&self) -> Vec<u8> {
        std::fs::read(&self.cert).unwrap()
    }

    /// The certificate as the server sends it in the handshake.
    pub fn der(&self) -> Vec<u8> {
        CertificateDer::from_pem_slice(&self.pem()).unwrap().to_vec()
    }

    /// Copies this pair over `to`'s files (as a renewal does), certificate first.
    pub fn install_as(&self, to: &TestCert) {
        std::fs::copy(&self.cert, &to.cert).unwrap();
        std::fs::copy(&self.key, &to.key).unwrap();
    }
}

/// An HTTPS client that trusts `roots`, opens a new connection (and handshake) per request,
/// and records the peer certificate (`reqwest::tls::TlsInfo`). `http1_only` refuses HTTP/2;
/// otherwise ALPN offers both and the server chooses.
pub fn https_client(roots: &[&TestCert], http1_only: bool) -> reqwest::Client {
    keyward_server::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .tls_info(true)
        .pool_max_idle_per_host(0)
        .tls_built_in_root_certs(false);
    for root in roots {
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&root.pem()).unwrap());
    }
    if http1_only {
        builder = builder.http1_only();
    }
    builder.build().unwrap()
}

/// The DER certificate the server presented for `response`.
pub fn peer_certificate(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the response carries the TLS info (https_client sets tls_info)")
        .to_vec()
}
