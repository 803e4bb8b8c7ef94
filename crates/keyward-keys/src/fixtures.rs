//! Keystores that attack the importer, built in code for the tests and the upload benchmark
//! (feature `fixtures`; not an API). Each is the smallest file that shows one attack; none is
//! kept on disk.

use crate::{
    budget::{KdfHash, MAX_KDF_ITERATIONS, MAX_KDF_WORK},
    pkcs12::{encode, oid, protect},
    Password,
};

/// A password-protected PKCS#12 file of `safes` (already encoded content infos) with a valid
/// HMAC-SHA-256 MAC at `mac_iterations`.
fn with_mac(password: &str, safes: &[Vec<u8>], mac_iterations: u32) -> Vec<u8> {
    let auth_safe = encode::authenticated_safe(safes);
    let salt = [0x5a; 20];
    let iterations = i32::try_from(mac_iterations).unwrap_or(i32::MAX);
    let mac =
        protect::mac_sha256(&Password::new(password), &salt, iterations, &auth_safe).unwrap_or_default();
    let mac_data = encode::mac_data(&oid::SHA256, &mac, &salt, mac_iterations.into());
    encode::pfx(&auth_safe, Some(&mac_data))
}

/// An encrypted SafeContents holding `bags`, under `password` at `iterations`
/// (PBES2, PBKDF2-HMAC-SHA-256, AES-256-CBC), as keytool encrypts its certificates.
fn sealed(password: &str, bags: &[Vec<u8>], iterations: u32) -> Vec<u8> {
    let (salt, iv) = ([0x33; 16], [0x44; 16]);
    let parts: Vec<&[u8]> = bags.iter().map(Vec::as_slice).collect();
    let plaintext = encode::seq(&parts);
    let ciphertext = protect::pbes2_encrypt(&Password::new(password), &salt, iterations, &iv, &plaintext)
        .unwrap_or_default();
    let algorithm = encode::pbes2_pbkdf2_aes256(&oid::HMAC_SHA256, &salt, iterations.into(), &iv);
    encode::encrypted_safe(&algorithm, &ciphertext)
}

/// A shrouded key bag whose protection is `algorithm` and whose ciphertext is never meant to
/// be decrypted (the attacks below are refused before it would be).
fn shrouded_bag(algorithm: &[u8], name: &str) -> Vec<u8> {
    encode::safe_bag(
        &oid::SHROUDED_KEY_BAG,
        &encode::encrypted_private_key_info(algorithm, &[0u8; 32]),
        Some(name),
        None,
    )
}

/// The scrypt crash: one shrouded key bag under PBES2 with scrypt `N = cost` (r = 8, p = 1),
/// without a MAC, so any password reaches the key bag. `N = 0` made the `pkcs5` crate panic
/// ("should always fit"); the file is about 200 bytes.
pub fn pkcs12_scrypt_key_bag(cost: u64) -> Vec<u8> {
    let scrypt = encode::seq(&[
        &encode::octets(&[0x11; 8]),
        &encode::uint(cost),
        &encode::uint(8),
        &encode::uint(1),
    ]);
    let kdf = encode::algorithm(&oid::SCRYPT, &scrypt);
    let cipher = encode::algorithm(&oid::AES_256_CBC, &encode::octets(&[0x22; 16]));
    let algorithm = encode::algorithm(&oid::PBES2, &encode::seq(&[&kdf, &cipher]));
    let safe = encode::data_safe(&[shrouded_bag(&algorithm, "k")]);
    encode::pfx(&encode::authenticated_safe(&[safe]), None)
}

/// `count` shrouded key bags, each declaring PBKDF2-HMAC-SHA-512 at `iterations`, with a
/// valid MAC under `password`. With `hidden` they sit inside an encrypted SafeContents, so
/// they only appear once it is decrypted. 30 bags at 1,000,000 iterations declare about 12 s
/// of CPU. The bags' ciphertexts are stubs: keyward refuses the file from the declared
/// parameters alone, so real ones (whose encryption would cost the builder those 12 s) would
/// change nothing.
pub fn pkcs12_shrouded_key_bags(password: &str, count: usize, iterations: u32, hidden: bool) -> Vec<u8> {
    let algorithm =
        encode::pbes2_pbkdf2_aes256(&oid::HMAC_SHA512, &[0x66; 16], iterations.into(), &[0x77; 16]);
    let bags: Vec<Vec<u8>> = (1..=count)
        .map(|i| shrouded_bag(&algorithm, &format!("key-{i}")))
        .collect();
    let safe = if hidden {
        sealed(password, &bags, 2048)
    } else {
        encode::data_safe(&bags)
    };
    with_mac(password, &[safe], 2048)
}

/// `count` certificate bags (each a stub, never parsed), with a valid MAC under `password`.
pub fn pkcs12_certificate_bags(password: &str, count: usize) -> Vec<u8> {
    let bags: Vec<Vec<u8>> = (1..=count)
        .map(|i| {
            encode::safe_bag(
                &oid::CERT_BAG,
                &encode::cert_bag(&[0x30, 0x00]),
                Some(&format!("cert-{i}")),
                None,
            )
        })
        .collect();
    with_mac(password, &[encode::data_safe(&bags)], 2048)
}

/// The most expensive PKCS#12 file the limits let through, for the upload-pressure benchmark:
/// a MAC and encrypted SafeContents at the per-derivation maximum, and a last shrouded key bag
/// that takes the rest of [`MAX_KDF_WORK`], all under `password` so that every derivation
/// really runs. The key is not a key, so the import is refused after all of that work
/// (`unsupported_key_type`) and nothing is stored. Building it costs as much as reading it
/// (about half a second).
pub fn pkcs12_worst_allowed(password: &str) -> Vec<u8> {
    let max = u32::try_from(MAX_KDF_ITERATIONS).unwrap_or(u32::MAX);
    let mac_cost = KdfHash::Sha256.pkcs12_kdf_cost(MAX_KDF_ITERATIONS, &[32]);
    let safe_cost = KdfHash::Sha256.pbkdf2_cost(MAX_KDF_ITERATIONS, 32);
    let rest = MAX_KDF_WORK.saturating_sub(mac_cost);
    // Leave at least one unit of work for the key bag.
    let safes = rest.saturating_sub(1) / safe_cost;
    let key_iterations =
        rest.saturating_sub(safes.saturating_mul(safe_cost)) / KdfHash::Sha256.pbkdf2_cost(1, 32);
    let key_iterations = u32::try_from(key_iterations.min(MAX_KDF_ITERATIONS)).unwrap_or(max);

    let pw = Password::new(password);
    let (salt, iv) = ([0x55; 16], [0x66; 16]);
    let not_a_key =
        protect::pbes2_encrypt(&pw, &salt, key_iterations, &iv, b"not a private key").unwrap_or_default();
    let key_alg = encode::pbes2_pbkdf2_aes256(&oid::HMAC_SHA256, &salt, key_iterations.into(), &iv);
    let key_bag = encode::safe_bag(
        &oid::SHROUDED_KEY_BAG,
        &encode::encrypted_private_key_info(&key_alg, &not_a_key),
        Some("worst"),
        None,
    );
    let mut content = Vec::new();
    for i in 0..safes {
        let bags = if i + 1 == safes {
            vec![key_bag.clone()]
        } else {
            Vec::new()
        };
        content.push(sealed(password, &bags, max));
    }
    if safes == 0 {
        content.push(encode::data_safe(&[key_bag]));
    }
    with_mac(password, &content, max)
}

/// A JKS keystore of `count` trusted-certificate entries (stub certificates), sealed with
/// `password`.
pub fn jks_trusted_certificates(password: &str, count: usize) -> Vec<u8> {
    crate::jks::trusted_certificates(count, &[0x30, 0x00], password)
}
