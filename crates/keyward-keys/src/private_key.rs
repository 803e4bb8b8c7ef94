//! A client's own private key, read from the keystore or PEM file it was given, for the client
//! library that signs its assertions with it (`private_key_jwt`). The server's import path never
//! calls this: what an upload holds stays in [`crate::import`], which drops the private half.

use std::fmt;

use x509_parser::pem::Pem;
use zeroize::{Zeroize, Zeroizing};

use crate::{jks, pkcs12, pkcs8, Format, ImportOptions, ImportedKey, KeyError, WorkBudget, MAX_INPUT_BYTES};

/// A PKCS#8 private key and its public key. Zeroized on drop, redacted in `Debug`.
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    key: ImportedKey,
}

impl PrivateKey {
    /// The PKCS#8 DER, for `keyward_jose::SigningKey::from_pkcs8`.
    pub fn pkcs8(&self) -> &Zeroizing<Vec<u8>> {
        &self.pkcs8
    }

    /// The public key (with the certificate's facts when the entry had one).
    pub fn public(&self) -> &ImportedKey {
        &self.key
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("pkcs8", &"<redacted>")
            .field("key", &self.key)
            .finish()
    }
}

/// The private key of one keystore entry (JKS, PKCS#12: same entry choice, passwords and
/// certificate check as [`crate::import`]) or of a `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM.
pub fn load_private_key(format: Format, data: &[u8], options: ImportOptions<'_>) -> Result<PrivateKey, KeyError> {
    if data.len() > MAX_INPUT_BYTES {
        return Err(KeyError::TooLarge {
            limit: MAX_INPUT_BYTES,
        });
    }
    let (key, pkcs8) = match format {
        Format::Jks => jks::open(data, options.password, options.key_password, options.alias)?,
        Format::Pkcs12 => pkcs12::open(
            data,
            options.password,
            options.key_password,
            options.alias,
            &WorkBudget::new(),
        )?,
        Format::Pem => return pem_private_key(data),
        other => return Err(KeyError::Unrecognized(format!("{other} holds no private key"))),
    };
    let pkcs8 = pkcs8.ok_or_else(|| {
        KeyError::Unrecognized("the keystore entry is a certificate, not a private key entry".into())
    })?;
    Ok(PrivateKey { pkcs8, key })
}

fn pem_private_key(data: &[u8]) -> Result<PrivateKey, KeyError> {
    let mut block = match Pem::iter_from_buffer(data).next() {
        Some(Ok(b)) => b,
        Some(Err(_)) | None => {
            return Err(KeyError::Unrecognized(
                "no readable PEM block (-----BEGIN PRIVATE KEY-----) found".into(),
            ))
        }
    };
    if block.label != "PRIVATE KEY" {
        let label = block.label.clone();
        block.contents.zeroize();
        return Err(KeyError::Unrecognized(format!(
            "PEM block '{label}' is not an unencrypted PKCS#8 private key; convert it with `openssl pkcs8 -topk8 -nocrypt`"
        )));
    }
    let pkcs8 = Zeroizing::new(std::mem::take(&mut block.contents));
    let jwk = pkcs8::public_jwk(&pkcs8)?;
    keyward_jose::check_public_jwk(&jwk, None)?;
    Ok(PrivateKey {
        pkcs8,
        key: ImportedKey::bare(jwk),
    })
}
