//! X.509 certificates: the public key, the facts an admin recognises it by, and the DER kept as
//! the JWK's `x5c` so relying parties that want the certificate get it.

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_types::CertificateInfo;
use x509_parser::{certificate::X509Certificate, prelude::FromDer};

use crate::{spki::jwk_from_spki, ImportedKey, KeyError};

/// A DER certificate as an imported key.
pub(crate) fn import_der(der: &[u8]) -> Result<ImportedKey, KeyError> {
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|_| KeyError::Unrecognized("not an X.509 certificate".into()))?;
    if !rest.is_empty() {
        return Err(KeyError::Broken("trailing bytes after the certificate".into()));
    }
    let mut jwk = jwk_from_spki(cert.public_key())?;
    jwk.x5c = Some(vec![STANDARD.encode(der)]);
    let validity = cert.validity();
    let serial: String = cert.raw_serial().iter().map(|b| format!("{b:02x}")).collect();
    let serial = match serial.trim_start_matches('0') {
        "" => "0".to_owned(),
        s => s.to_owned(),
    };
    Ok(ImportedKey {
        jwk,
        certificate: Some(CertificateInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial,
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
        }),
        alias: None,
    })
}

/// Whether bytes parse as one DER certificate (format detection).
pub(crate) fn is_certificate(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(rest, _)| rest.is_empty())
}
