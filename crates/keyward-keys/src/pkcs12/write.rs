//! Generated keystores as PKCS#12, laid out as Java 17's keytool writes them: the certificate in
//! an encrypted SafeContents, the key in a shrouded key bag, both PBES2 with
//! PBKDF2-HMAC-SHA-256 and AES-256-CBC, and an HMAC-SHA-256 MAC, all at 10,000 iterations.

use aws_lc_rs::rand::SecureRandom;

use super::{encode, oid, protect};
use crate::{KeyError, Password};

/// keytool's default for every derivation in the file.
const ITERATIONS: u32 = 10_000;

/// A PKCS#12 file with one key entry named `alias`, protected by `password`.
pub(crate) fn write(
    alias: &str,
    pkcs8: &[u8],
    cert_der: &[u8],
    password: &Password,
) -> Result<Vec<u8>, KeyError> {
    let failed = || KeyError::Generation("the PKCS#12 keystore could not be written".into());
    let rng = keyward_types::random::rng();
    let random = |n: usize| -> Result<Vec<u8>, KeyError> {
        let mut buf = vec![0u8; n];
        rng.fill(&mut buf)
            .map_err(|_| KeyError::Generation("no randomness".into()))?;
        Ok(buf)
    };
    let encrypt = |plaintext: &[u8]| -> Result<(Vec<u8>, Vec<u8>), KeyError> {
        let salt = random(20)?;
        let iv: [u8; 16] = random(16)?.try_into().map_err(|_| failed())?;
        let ciphertext =
            protect::pbes2_encrypt(password, &salt, ITERATIONS, &iv, plaintext).ok_or_else(failed)?;
        let algorithm = encode::pbes2_pbkdf2_aes256(&oid::HMAC_SHA256, &salt, ITERATIONS.into(), &iv);
        Ok((algorithm, ciphertext))
    };
    // Java and OpenSSL pair key and certificate by this id: the certificate's SHA-1.
    let local_key_id = sha1_of(cert_der);

    let cert_bag = encode::safe_bag(
        &oid::CERT_BAG,
        &encode::cert_bag(cert_der),
        Some(alias),
        Some(&local_key_id),
    );
    let (cert_alg, cert_ciphertext) = encrypt(&encode::seq(&[&cert_bag]))?;
    let (key_alg, key_ciphertext) = encrypt(pkcs8)?;
    let key_bag = encode::safe_bag(
        &oid::SHROUDED_KEY_BAG,
        &encode::encrypted_private_key_info(&key_alg, &key_ciphertext),
        Some(alias),
        Some(&local_key_id),
    );
    let auth_safe = encode::authenticated_safe(&[
        encode::encrypted_safe(&cert_alg, &cert_ciphertext),
        encode::data_safe(&[key_bag]),
    ]);
    let mac_salt = random(20)?;
    let iterations = i32::try_from(ITERATIONS).map_err(|_| failed())?;
    let mac = protect::mac_sha256(password, &mac_salt, iterations, &auth_safe).ok_or_else(failed)?;
    let mac_data = encode::mac_data(&oid::SHA256, &mac, &mac_salt, ITERATIONS.into());
    Ok(encode::pfx(&auth_safe, Some(&mac_data)))
}

fn sha1_of(data: &[u8]) -> Vec<u8> {
    use sha1::Digest;
    sha1::Sha1::digest(data).to_vec()
}
