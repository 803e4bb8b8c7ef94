//! TLS on the main listener (rustls, the aws-lc-rs provider the JWKS client uses too), with
//! ALPN `h2` and `http/1.1`.
//!
//! The certificate is served through a resolver that holds the current pair, so a renewed
//! certificate takes effect for the next handshake without a restart: the files are re-read
//! every `tls_reload_seconds` and on `SIGHUP`. A new pair is used only once it loads and its key
//! matches its certificate; until then the previous one is kept and the error logged (a
//! renewal that replaces the certificate before the key is picked up when the key arrives).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use aws_lc_rs::digest;
use parking_lot::RwLock;
use rustls::{
    crypto::CryptoProvider,
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
    ServerConfig,
};
use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio::{net::TcpStream, task::JoinHandle};
use zeroize::Zeroizing;

/// Why the TLS files cannot be used. Each message names the configuration key at fault.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("{key} {path}: cannot read: {source}")]
    Read {
        key: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{key} {path}: not valid PEM: {source}")]
    Pem {
        key: &'static str,
        path: String,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("tls_cert_file {path}: holds no certificate")]
    NoCertificate { path: String },
    #[error("tls_key_file {path}: unusable private key: {source}")]
    Key {
        path: String,
        #[source]
        source: rustls::Error,
    },
    #[error("tls_cert_file {path}: unusable certificate: {source}")]
    Certificate {
        path: String,
        #[source]
        source: rustls::Error,
    },
    #[error("tls_key_file {key_path} is not the key of the certificate in tls_cert_file {cert_path}")]
    Mismatch { cert_path: String, key_path: String },
    #[error("cannot build the TLS configuration: {0}")]
    Config(#[source] rustls::Error),
}

/// Where the certificate chain and its key are read from.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
}

impl TlsFiles {
    pub(crate) fn new(cert: &str, key: &str) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
        }
    }
}

/// Accepts TLS connections with the current certificate.
#[derive(Clone)]
pub(crate) struct Acceptor(tokio_rustls::TlsAcceptor);

impl Acceptor {
    pub(crate) fn accept(&self, stream: TcpStream) -> tokio_rustls::Accept<TcpStream> {
        self.0.accept(stream)
    }
}

/// Loads the pair (refusing a start with unusable files) and makes the acceptor and its
/// reloader.
pub(crate) fn load(files: TlsFiles, reload_every: Duration) -> Result<(Acceptor, Reloader), TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let read = read_pair(&files)?;
    let key = certified(&read, &files, &provider)?;
    let current = Arc::new(Current(RwLock::new(Arc::new(key))));
    let mut config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(current.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = Acceptor(tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    let reloader = Reloader {
        seen: Some(read.digest()),
        files,
        current,
        provider,
        every: reload_every,
    };
    Ok((acceptor, reloader))
}

/// The pair every handshake gets.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().clone())
    }
}

/// The two files' bytes as read; the key's are wiped when dropped.
struct ReadPair {
    cert: Vec<u8>,
    key: Zeroizing<Vec<u8>>,
}

impl ReadPair {
    fn digest(&self) -> [u8; 32] {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&self.cert);
        ctx.update(&self.key);
        // SHA-256 is 32 bytes; the fallback is never taken.
        ctx.finish().as_ref().try_into().unwrap_or([0; 32])
    }
}

fn read_file(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.display().to_string(),
        source,
    })
}

fn read_pair(files: &TlsFiles) -> Result<ReadPair, TlsError> {
    Ok(ReadPair {
        cert: read_file("tls_cert_file", &files.cert)?,
        key: Zeroizing::new(read_file("tls_key_file", &files.key)?),
    })
}

/// The chain and key as rustls uses them, once the key is known to be the certificate's.
fn certified(read: &ReadPair, files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_path = || files.cert.display().to_string();
    let key_path = || files.key.display().to_string();
    let chain = CertificateDer::pem_slice_iter(&read.cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            key: "tls_cert_file",
            path: cert_path(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: cert_path() });
    }
    let key = PrivateKeyDer::from_pem_slice(&read.key).map_err(|source| TlsError::Pem {
        key: "tls_key_file",
        path: key_path(),
        source,
    })?;
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|source| TlsError::Key {
            path: key_path(),
            source,
        })?;
    let pair = CertifiedKey::new(chain, signer);
    match pair.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(pair),
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::Mismatch {
            cert_path: cert_path(),
            key_path: key_path(),
        }),
        Err(source) => Err(TlsError::Certificate {
            path: cert_path(),
            source,
        }),
    }
}

/// Re-reads the files every `every` and on `SIGHUP`, and swaps in a new pair that loads.
pub(crate) struct Reloader {
    files: TlsFiles,
    current: Arc<Current>,
    provider: Arc<CryptoProvider>,
    every: Duration,
    /// The digest of the files last looked at (`None`: they could not be read), so that an
    /// unchanged file is neither parsed nor reported again.
    seen: Option<[u8; 32]>,
}

impl Reloader {
    /// Starts reloading. The `SIGHUP` handler is in place when this returns, so a signal sent
    /// once the server says it listens never falls to the default action (ending the process).
    pub(crate) fn spawn(self) -> JoinHandle<()> {
        let hangup = Hangup::install();
        tokio::spawn(self.run(hangup))
    }

    async fn run(mut self, mut hangup: Hangup) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            let forced = tokio::select! {
                _ = tick.tick() => false,
                () = hangup.recv() => true,
            };
            self.check(forced);
        }
    }

    /// Loads the files if they changed since last time (or `forced`, on SIGHUP).
    fn check(&mut self, forced: bool) {
        let read = read_pair(&self.files);
        let seen = read.as_ref().ok().map(ReadPair::digest);
        if seen == self.seen && !forced {
            return;
        }
        self.seen = seen;
        match read.and_then(|r| certified(&r, &self.files, &self.provider)) {
            Ok(pair) => {
                *self.current.0.write() = Arc::new(pair);
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "TLS certificate not reloaded; the previous one is still served");
            }
        }
    }
}

/// `SIGHUP` asks for a reload now (unix); elsewhere only the timer reloads.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn install() -> Self {
        #[cfg(unix)]
        {
            let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .map_err(|e| tracing::warn!(error = %e, "SIGHUP cannot be handled; TLS files reload on the timer only"))
                .ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
            self.signal = None;
        }
        std::future::pending::<()>().await;
    }
}
