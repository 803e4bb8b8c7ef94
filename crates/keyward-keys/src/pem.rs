//! PEM text: a certificate, a `PUBLIC KEY` (SubjectPublicKeyInfo) or an `RSA PUBLIC KEY`
//! (PKCS#1). The first block decides, so a certificate chain imports its leaf. Private keys are
//! refused and their decoded bytes wiped at once.

use x509_parser::pem::Pem;
use zeroize::Zeroize;

use crate::{certificate, spki, ImportedKey, KeyError};

pub(crate) fn import(data: &[u8]) -> Result<ImportedKey, KeyError> {
    let mut block = match Pem::iter_from_buffer(data).next() {
        Some(Ok(b)) => b,
        Some(Err(x509_parser::error::PEMError::MissingHeader)) | None => {
            return Err(KeyError::Unrecognized(
                "no PEM block (-----BEGIN ...-----) found".into(),
            ))
        }
        Some(Err(_)) => {
            return Err(KeyError::Broken(
                "the PEM block is damaged (invalid base64 or no END line)".into(),
            ))
        }
    };
    let result = match block.label.as_str() {
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
            certificate::import_der(&block.contents)
        }
        "PUBLIC KEY" => spki::jwk_from_spki_der(&block.contents).map(ImportedKey::bare),
        "RSA PUBLIC KEY" => spki::jwk_from_pkcs1_der(&block.contents).map(ImportedKey::bare),
        l if l.ends_with("PRIVATE KEY") => Err(KeyError::PrivateKeyGiven),
        other => Err(KeyError::Unrecognized(format!(
            "PEM block '{other}' is not a certificate or public key"
        ))),
    };
    block.contents.zeroize();
    result
}

/// DER: a certificate, else a SubjectPublicKeyInfo.
pub(crate) fn import_der(data: &[u8]) -> Result<ImportedKey, KeyError> {
    if certificate::is_certificate(data) {
        return certificate::import_der(data);
    }
    match spki::jwk_from_spki_der(data) {
        Err(KeyError::Unrecognized(_)) => Err(KeyError::Unrecognized(
            "DER data is neither an X.509 certificate nor a public key (SubjectPublicKeyInfo)".into(),
        )),
        other => other.map(ImportedKey::bare),
    }
}
