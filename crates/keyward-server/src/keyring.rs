//! The server's own symmetric keys: the pepper that secret hashes are keyed with, and the
//! key-encryption key (KEK) under which private keys are stored. Each comes from the config or
//! from a file in the data directory, created on first start with owner-only permissions.

use std::{
    fs::{self, OpenOptions},
    io::Write,
    path::Path,
};

use aws_lc_rs::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    hmac,
    rand::{SecureRandom, SystemRandom},
};
use keyward_jose::{b64_decode, b64_encode};
use zeroize::Zeroizing;

use crate::{error::StartError, Config};

pub(crate) struct Keyring {
    pub(crate) pepper: hmac::Key,
    kek: LessSafeKey,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring([redacted])")
    }
}

impl Keyring {
    pub(crate) fn load(config: &Config) -> Result<Self, StartError> {
        let dir = Path::new(&config.data_dir);
        let pepper = key_bytes(config.pepper.as_deref(), &dir.join("pepper.key"), "pepper")?;
        let kek = key_bytes(
            config.key_encryption_key.as_deref(),
            &dir.join("kek.key"),
            "key_encryption_key",
        )?;
        let kek = UnboundKey::new(&AES_256_GCM, kek.as_ref())
            .map_err(|_| StartError::Key("key_encryption_key must be 32 bytes".into()))?;
        Ok(Self {
            pepper: hmac::Key::new(hmac::HMAC_SHA256, pepper.as_ref()),
            kek: LessSafeKey::new(kek),
        })
    }

    /// AES-256-GCM with a random nonce; `aad` binds the ciphertext to what it belongs to (a kid),
    /// so a stored blob cannot be swapped onto another row.
    pub(crate) fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, StartError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| StartError::Key("RNG failure".into()))?;
        let mut buf = plaintext.to_vec();
        self.kek
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| StartError::Key("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub(crate) fn open(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, StartError> {
        let wrong = || StartError::Key("stored key cannot be decrypted: wrong key_encryption_key?".into());
        if sealed.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain = self
            .kek
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| wrong())?;
        Ok(Zeroizing::new(plain.to_vec()))
    }
}

impl keyward_client_auth::SecretVault for Keyring {
    fn open(&self, aad: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        Keyring::open(self, aad, sealed).ok()
    }
}

/// 32 key bytes from the configured base64url value, else from `file`, else fresh ones written
/// to `file` (0600, created exclusively so two processes never write different keys).
fn key_bytes(configured: Option<&str>, file: &Path, name: &str) -> Result<Zeroizing<Vec<u8>>, StartError> {
    let check = |bytes: Vec<u8>, from: &str| -> Result<Zeroizing<Vec<u8>>, StartError> {
        if bytes.len() == 32 {
            Ok(Zeroizing::new(bytes))
        } else {
            Err(StartError::Key(format!(
                "{name} from {from} must be base64url of exactly 32 bytes"
            )))
        }
    };
    if let Some(value) = configured {
        return check(b64_decode(value.trim()).unwrap_or_default(), "the configuration");
    }
    if let Ok(text) = fs::read_to_string(file) {
        return check(
            b64_decode(text.trim()).unwrap_or_default(),
            &file.display().to_string(),
        );
    }
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir).map_err(|e| StartError::Key(format!("create {}: {e}", dir.display())))?;
    }
    let mut bytes = Zeroizing::new(vec![0u8; 32]);
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StartError::Key("RNG failure".into()))?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(mut f) => {
            let text = Zeroizing::new(b64_encode(bytes.as_slice()));
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| StartError::Key(format!("write {}: {e}", file.display())))?;
            tracing::info!(file = %file.display(), "created {name} key file");
            Ok(bytes)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(file)
                .map_err(|e| StartError::Key(format!("read {}: {e}", file.display())))?;
            check(
                b64_decode(text.trim()).unwrap_or_default(),
                &file.display().to_string(),
            )
        }
        Err(e) => Err(StartError::Key(format!("create {}: {e}", file.display()))),
    }
}
