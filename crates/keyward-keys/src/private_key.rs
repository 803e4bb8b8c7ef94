//! A client's own private key, read from the keystore or PEM file it was given, for the client
//! library that signs its assertions with it (`private_key_jwt`). The server's import path never
//! calls this: what an upload holds stays in [`crate::import`], which drops the private half.

use std::fmt;

use x509_parser::pem::Pem;
use zeroize::Zeroizing;

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
/// certificate check as [`crate::import`]) or of a PEM private key: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
/// (`EC PRIVATE KEY`), the last two converted to PKCS#8.
pub fn load_private_key(
    format: Format,
    data: &[u8],
    options: ImportOptions<'_>,
) -> Result<PrivateKey, KeyError> {
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

/// An RSA `RSAPrivateKey` (PKCS#1, `openssl genrsa` before 3.0) as PKCS#8.
fn pkcs1_to_pkcs8(der: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    let unreadable =
        |_| KeyError::Unrecognized("the RSA PRIVATE KEY block is not a readable PKCS#1 key".into());
    let key = aws_lc_rs::rsa::KeyPair::from_der(der).map_err(unreadable)?;
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(&key)
        .map_err(|_| KeyError::Unrecognized("the RSA key cannot be re-encoded as PKCS#8".into()))?;
    Ok(Zeroizing::new(pkcs8.as_ref().to_vec()))
}

/// An EC `ECPrivateKey` (SEC1 / RFC 5915, `openssl ecparam -genkey`) as PKCS#8; the curve is
/// the one of P-256, P-384 and P-521 that the key names.
fn sec1_to_pkcs8(der: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use aws_lc_rs::signature::{
        EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
        ECDSA_P521_SHA512_FIXED_SIGNING,
    };
    [
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &ECDSA_P384_SHA384_FIXED_SIGNING,
        &ECDSA_P521_SHA512_FIXED_SIGNING,
    ]
    .into_iter()
    .find_map(|alg| EcdsaKeyPair::from_private_key_der(alg, der).ok())
    .and_then(|key| key.to_pkcs8v1().ok())
    .map(|doc| Zeroizing::new(doc.as_ref().to_vec()))
    .ok_or_else(|| {
        KeyError::Unrecognized(
            "the EC PRIVATE KEY block is not a readable SEC1 key on P-256, P-384 or P-521".into(),
        )
    })
}

fn pem_private_key(data: &[u8]) -> Result<PrivateKey, KeyError> {
    // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key.
    let mut blocks =
        Pem::iter_from_buffer(data).filter(|b| !matches!(b, Ok(b) if b.label == "EC PARAMETERS"));
    let mut block = match blocks.next() {
        Some(Ok(b)) => b,
        Some(Err(_)) | None => {
            return Err(KeyError::Unrecognized(
                "no readable PEM block (-----BEGIN PRIVATE KEY-----) found".into(),
            ))
        }
    };
    let contents = Zeroizing::new(std::mem::take(&mut block.contents));
    let pkcs8 = match block.label.as_str() {
        "PRIVATE KEY" => contents,
        "RSA PRIVATE KEY" => pkcs1_to_pkcs8(&contents)?,
        "EC PRIVATE KEY" => sec1_to_pkcs8(&contents)?,
        label => {
            return Err(KeyError::Unrecognized(format!(
                "PEM block '{label}' is not an unencrypted private key (PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY); an encrypted one can be decrypted with `openssl pkey`"
            )))
        }
    };
    let jwk = pkcs8::public_jwk(&pkcs8)?;
    keyward_jose::check_public_jwk(&jwk, None)?;
    Ok(PrivateKey {
        pkcs8,
        key: ImportedKey::bare(jwk),
    })
}
