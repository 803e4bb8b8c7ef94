#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! A client's PEM key in each of the encodings OpenSSL writes: PKCS#8, PKCS#1 (`RSA PRIVATE
//! KEY`, `openssl genrsa -traditional`) and SEC1 (`EC PRIVATE KEY`, `openssl ecparam -genkey`,
//! which puts an `EC PARAMETERS` block first). Each signs an assertion that verifies with the
//! public key OpenSSL derives from the same file.

use std::{path::Path, process::Command};

use keyward_client::{ClientConfig, TokenClient};
use keyward_jose::{CompactJws, PublicJwk, VerifyingKey};
use keyward_types::SigningAlg;
use serde_json::json;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The assertion a `private_key_jwt` config over `key` signs, and the client's published key.
fn sign_with(dir: &Path, key: &str) -> (String, PublicJwk) {
    let config = dir.join("c.json");
    std::fs::write(
        &config,
        json!({"issuer": "https://as", "client_id": "c", "method": "private_key_jwt", "key_file": key})
            .to_string(),
    )
    .unwrap();
    let client = TokenClient::new(ClientConfig::load(&config).unwrap()).unwrap();
    let jwk = client.jwks().keys.remove(0);
    (client.assertion().unwrap().unwrap(), jwk)
}

fn verifies(token: &str, jwk: &PublicJwk, alg: SigningAlg) {
    let jws = CompactJws::parse(token).unwrap();
    VerifyingKey::from_jwk(jwk, alg)
        .unwrap()
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .unwrap();
}

#[test]
fn pkcs1_rsa_key_signs_rs256() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &["genrsa", "-traditional", "-out", "rsa1.pem", "2048"],
    );
    let pem = std::fs::read_to_string(dir.path().join("rsa1.pem")).unwrap();
    assert!(
        pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "{}",
        &pem[..40]
    );
    let (token, jwk) = sign_with(dir.path(), "rsa1.pem");
    verifies(&token, &jwk, SigningAlg::RS256);
}

#[test]
fn sec1_ec_key_after_its_parameters_block_signs_es256_and_es384() {
    for (curve, alg) in [
        ("prime256v1", SigningAlg::ES256),
        ("secp384r1", SigningAlg::ES384),
    ] {
        let dir = tempfile::tempdir().unwrap();
        openssl(
            dir.path(),
            &["ecparam", "-name", curve, "-genkey", "-out", "ec.pem"],
        );
        let pem = std::fs::read_to_string(dir.path().join("ec.pem")).unwrap();
        assert!(pem.starts_with("-----BEGIN EC PARAMETERS-----"), "{}", &pem[..40]);
        let (token, jwk) = sign_with(dir.path(), "ec.pem");
        verifies(&token, &jwk, alg);
    }
}

#[test]
fn an_encrypted_pem_key_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes256",
            "-pass",
            "pass:secret-pass",
            "-out",
            "enc.pem",
        ],
    );
    let config = dir.path().join("c.json");
    std::fs::write(
        &config,
        json!({"issuer": "https://as", "client_id": "c", "method": "private_key_jwt", "key_file": "enc.pem"})
            .to_string(),
    )
    .unwrap();
    let err = ClientConfig::load(&config).unwrap_err().to_string();
    assert!(
        err.contains("ENCRYPTED PRIVATE KEY") && err.contains("openssl pkey"),
        "{err}"
    );
    assert!(!err.contains("secret-pass"));
}
