//! The interop key material in `shared/interop` beside the repository: keys, certificates and
//! keystores made by keytool, OpenSSL and jwcrypto, not by keyward.

use std::path::{Path, PathBuf};

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_types::SigningAlg;
use serde_json::Value;

/// The store password of every interop keystore.
pub const STOREPASS: &str = "storepass";
/// The key password of the interop JKS key entries.
pub const KEYPASS: &str = "keypass";

/// The path of `shared/interop/NAME`.
pub fn interop(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/interop")
        .join(name)
}

/// The bytes of `shared/interop/NAME`.
pub fn interop_bytes(name: &str) -> Vec<u8> {
    let path = interop(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `shared/interop/NAME`.
pub fn interop_text(name: &str) -> String {
    let path = interop(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Standard base64 of `shared/interop/NAME` (the import API's encoding for binary formats).
pub fn interop_b64(name: &str) -> String {
    STANDARD.encode(interop_bytes(name))
}

/// The PKCS#8 DER inside a `-----BEGIN PRIVATE KEY-----` file.
pub fn pem_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// An interop private key (`rsa2048`, `ec256`, `ec384`, `ed25519`) as a signer for `alg`.
pub fn interop_key(name: &str, alg: SigningAlg) -> keyward_jose::SigningKey {
    let der = pem_der(&interop(&format!("sample-{name}-private.pem")));
    keyward_jose::SigningKey::from_pkcs8(alg, zeroize::Zeroizing::new(der)).unwrap()
}

/// The public JWK file of an interop key (`rsa2048`, `ec256`, `ed25519`).
pub fn interop_jwk(name: &str) -> Value {
    serde_json::from_str(&interop_text(&format!("sample-{name}-public.jwk"))).unwrap()
}

/// The interop EC P-256 public JWK.
pub fn ec_jwk() -> Value {
    interop_jwk("ec256")
}

/// The `kid` of the interop EC P-256 JWK.
pub fn ec_kid() -> String {
    ec_jwk()["kid"].as_str().unwrap().to_owned()
}

/// The interop EC P-256 private key, signing ES256.
pub fn ec_key() -> keyward_jose::SigningKey {
    interop_key("ec256", SigningAlg::ES256)
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
