//! Key material a client uploads or registers: JWK, JWK Set, PEM, DER certificate or SPKI,
//! PKCS#12 and JKS, through `keyward_keys::import` (and the JWK check inline `jwks` use).
//! Every key that imports is in canonical form and its RFC 7638 thumbprint survives a round
//! trip, so "the same key cannot be added twice" holds for it.

use keyward_jose::{b64_decode, check_public_jwk, PublicJwk};
use keyward_keys::{import, Format, ImportOptions, ImportedKey, Password};
use keyward_types::{Base64Url, EcCurve, JwkParams};
use sha1::{Digest, Sha1};

/// The store password of the seed keystores (`/work/shared/interop`).
const STOREPASS: &str = "storepass";
/// The key password of the seed JKS key entries.
const KEYPASS: &str = "keypass";

pub fn jwk(data: &[u8]) {
    imports(Format::Jwk, data, ImportOptions::default());
    // Inline `jwks` in client metadata reach the check without the importer's own parser.
    if let Ok(jwk) = serde_json::from_slice::<PublicJwk>(data) {
        if check_public_jwk(&jwk, None).is_ok() {
            assert_canonical(&jwk);
        }
    }
}

pub fn jwks(data: &[u8]) {
    imports(Format::Jwks, data, ImportOptions::default());
    let _ = Format::detect(data);
}

pub fn pem(data: &[u8]) {
    imports(Format::Pem, data, ImportOptions::default());
}

/// A DER certificate or SubjectPublicKeyInfo, and the format guess `keyward keys inspect` makes.
pub fn der(data: &[u8]) {
    imports(Format::Der, data, ImportOptions::default());
    let _ = Format::detect(data);
}

pub fn pkcs12(data: &[u8]) {
    let password = Password::new(STOREPASS);
    let options = ImportOptions {
        password: Some(&password),
        ..ImportOptions::default()
    };
    imports(Format::Pkcs12, data, options);
}

/// The bytes as they are, and again with the store's integrity digest made right, so that
/// mutations reach the entries behind it (the digest is a plain SHA-1, not a secret).
pub fn jks(data: &[u8]) {
    let (password, key_password) = (Password::new(STOREPASS), Password::new(KEYPASS));
    let options = ImportOptions {
        password: Some(&password),
        key_password: Some(&key_password),
        alias: None,
    };
    imports(Format::Jks, data, options);
    if let Some(body) = data.len().checked_sub(20).and_then(|n| data.get(..n)) {
        let mut fixed = body.to_vec();
        fixed.extend_from_slice(&jks_digest(body));
        imports(Format::Jks, &fixed, options);
    }
}

/// JKS's integrity digest: SHA-1 over the password (UTF-16BE), "Mighty Aphrodite" and the body.
fn jks_digest(body: &[u8]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    for unit in STOREPASS.encode_utf16() {
        hasher.update(unit.to_be_bytes());
    }
    hasher.update(b"Mighty Aphrodite");
    hasher.update(body);
    hasher.finalize().into()
}

fn imports(format: Format, data: &[u8], options: ImportOptions<'_>) {
    match import(format, data, options) {
        Ok(keys) => keys.iter().for_each(check_imported),
        Err(e) => assert!(!e.code().is_empty() && !e.to_string().is_empty()),
    }
}

/// What every imported key must be: public only, canonical, and the same key again when its
/// JWK is imported again.
fn check_imported(key: &ImportedKey) {
    let jwk = &key.jwk;
    let json = serde_json::to_value(jwk).unwrap_or_default();
    assert!(
        ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
            .iter()
            .all(|m| json.get(m).is_none()),
        "an imported key carries private material"
    );
    assert_canonical(jwk);
    let json = serde_json::to_vec(jwk).unwrap_or_default();
    let again = import(Format::Jwk, &json, ImportOptions::default());
    let same = again.as_deref().is_ok_and(|keys| match keys {
        [k] => k.jwk.thumbprint() == jwk.thumbprint() && k.jwk.params == jwk.params,
        _ => false,
    });
    assert!(
        same,
        "an imported key does not import again as itself from its JWK"
    );
}

/// One key, one encoding (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2): integers without leading zero
/// octets, coordinates and Ed25519 keys of their exact size. A second encoding of one key would
/// have a second thumbprint, and the key could be registered twice.
fn assert_canonical(jwk: &PublicJwk) {
    let bytes = |member: &Base64Url| member.decode().unwrap_or_default();
    let thumbprint = jwk.thumbprint();
    assert!(
        thumbprint.len() == 43 && b64_decode(&thumbprint).is_some_and(|t| t.len() == 32),
        "the thumbprint is not a base64url SHA-256"
    );
    match &jwk.params {
        JwkParams::Rsa { n, e } => {
            for (name, value) in [("n", bytes(n)), ("e", bytes(e))] {
                assert!(
                    value.first().is_some_and(|&b| b != 0),
                    "RSA {name} is empty or has a leading zero octet"
                );
            }
        }
        JwkParams::Ec { crv, x, y } => {
            let size = if *crv == EcCurve::P384 { 48 } else { 32 };
            assert_eq!(bytes(x).len(), size, "EC x is not {size} octets");
            assert_eq!(bytes(y).len(), size, "EC y is not {size} octets");
        }
        JwkParams::Okp { x, .. } => assert_eq!(bytes(x).len(), 32, "Ed25519 x is not 32 octets"),
    }
}
