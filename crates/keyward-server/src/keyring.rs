//! The server's own symmetric keys: the pepper that secret hashes are keyed with, and the
//! key-encryption key (KEK) under which private keys are stored. Each comes from the config or
//! from a file in the data directory, created on first start with owner-only permissions.

use std::{
    fs::{self, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use aws_lc_rs::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    error::Unspecified,
    hmac,
};
use keyward_jose::{b64_decode, b64_encode};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::Config;

/// Why a key of the keyring cannot be had or used.
#[derive(Debug, Error)]
pub enum KeyringError {
    #[error("keys: {name} from {from} must be base64url of exactly 32 bytes")]
    BadKey { name: &'static str, from: String },
    #[error("keys: cannot {action} {path}: {source}")]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("keys: the random number generator failed")]
    Rng(#[source] Unspecified),
    #[error("keys: encryption failed")]
    Seal(#[source] Unspecified),
    #[error("keys: stored key cannot be decrypted: wrong key_encryption_key?")]
    Open,
}

/// Cloned into every part that hashes secrets or opens stored keys; the keys themselves are
/// shared, never copied.
#[derive(Clone)]
pub struct Keyring {
    pub(crate) pepper: Arc<hmac::Key>,
    kek: Arc<LessSafeKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring([redacted])")
    }
}

impl Keyring {
    /// The pepper and key-encryption key from the config, else from (or into) `data_dir`.
    pub fn load(config: &Config) -> Result<Self, KeyringError> {
        let dir = Path::new(&config.data_dir);
        let pepper = key_bytes(config.pepper.as_deref(), &dir.join("pepper.key"), "pepper")?;
        let kek = key_bytes(
            config.key_encryption_key.as_deref(),
            &dir.join("kek.key"),
            "key_encryption_key",
        )?;
        let kek = UnboundKey::new(&AES_256_GCM, kek.as_ref()).map_err(|_| KeyringError::BadKey {
            name: "key_encryption_key",
            from: "the configuration".into(),
        })?;
        Ok(Self {
            pepper: Arc::new(hmac::Key::new(hmac::HMAC_SHA256, pepper.as_ref())),
            kek: Arc::new(LessSafeKey::new(kek)),
        })
    }

    /// The HMAC key that client secret hashes are keyed with.
    pub fn pepper(&self) -> &hmac::Key {
        &self.pepper
    }

    /// AES-256-GCM with a random nonce; `aad` binds the ciphertext to what it belongs to (a kid),
    /// so a stored blob cannot be swapped onto another row.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyringError> {
        let mut nonce = [0u8; NONCE_LEN];
        keyward_types::random::fill(&mut nonce).map_err(KeyringError::Rng)?;
        let mut buf = plaintext.to_vec();
        self.kek
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(KeyringError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyringError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyringError::Open)?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain = self
            .kek
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| KeyringError::Open)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }
}

impl keyward_client_auth::SecretVault for Keyring {
    fn open(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, keyward_client_auth::VaultError> {
        Keyring::open(self, aad, sealed).map_err(|e| keyward_client_auth::VaultError(e.into()))
    }
}

/// 32 key bytes from the configured base64url value, else from `file`, else fresh ones written
/// to `file`.
fn key_bytes(
    configured: Option<&str>,
    file: &Path,
    name: &'static str,
) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    if let Some(value) = configured {
        return check(value, name, &"the configuration");
    }
    if let Ok(text) = fs::read_to_string(file) {
        return check(&Zeroizing::new(text), name, &file.display());
    }
    create(file, name)
}

fn check(
    text: &str,
    name: &'static str,
    from: &dyn std::fmt::Display,
) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    match b64_decode(text.trim()) {
        Some(bytes) if bytes.len() == 32 => Ok(Zeroizing::new(bytes)),
        _ => Err(KeyringError::BadKey {
            name,
            from: from.to_string(),
        }),
    }
}

/// Fresh key bytes in a new `file` (0600, created exclusively so two processes never write
/// different keys); when another process created it first, theirs.
fn create(file: &Path, name: &'static str) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyringError::File { action, path, source }
    };
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir).map_err(io("create", dir))?;
    }
    let mut bytes = Zeroizing::new(vec![0u8; 32]);
    keyward_types::random::fill(&mut bytes).map_err(KeyringError::Rng)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(mut f) => {
            let text = Zeroizing::new(b64_encode(bytes.as_slice()));
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io("write", file))?;
            tracing::info!(file = %file.display(), "created {name} key file");
            Ok(bytes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = Zeroizing::new(fs::read_to_string(file).map_err(io("read", file))?);
            check(&text, name, &file.display())
        }
        Err(e) => Err(io("create", file)(e)),
    }
}
