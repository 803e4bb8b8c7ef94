//! What protects the parts of a PKCS#12 file, priced before it runs: PBES2 with PBKDF2 and
//! AES-CBC (RFC 8018, as keytool and OpenSSL 3 write), the legacy PKCS#12 PBE schemes with
//! 3DES or RC2-40 (RFC 7292 appendix C, OpenSSL `-legacy`, old keytool), and the HMAC over the
//! contents keyed by the PKCS#12 KDF (RFC 7292 appendix B).
//!
//! Parameters are checked here rather than handed to a KDF crate: an iteration count of zero,
//! an absurd one, or scrypt with `N = 0` (which makes the `pkcs5` crate panic) never reaches
//! the derivation. scrypt is refused outright: no keytool or OpenSSL PKCS#12 export writes it,
//! and its memory cost would need a budget of its own.

use cbc::cipher::{block_padding::Pkcs7, BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit};
use der::{Decode, Encode};
use hmac::Mac;
use pkcs12::{kdf, pbe_params::Pbes2Params, pbe_params::Pkcs12PbeParams, MacData};
use pkcs5::pbes2::{EncryptionScheme, Kdf, Parameters, Pbkdf2Prf};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::oid;
use crate::{
    budget::{self, KdfHash},
    KeyError, Password,
};

/// How one encrypted part (a SafeContents or a shrouded key bag) is protected.
pub(super) enum Protection {
    Pbes2 {
        prf: KdfHash,
        salt: Vec<u8>,
        iterations: u32,
        cipher: AesCbc,
    },
    Pkcs12Pbe {
        cipher: LegacyCipher,
        salt: Vec<u8>,
        iterations: i32,
    },
}

#[derive(Clone, Copy)]
pub(super) enum AesCbc {
    Aes128([u8; 16]),
    Aes192([u8; 16]),
    Aes256([u8; 16]),
}

impl AesCbc {
    fn key_len(self) -> usize {
        match self {
            AesCbc::Aes128(_) => 16,
            AesCbc::Aes192(_) => 24,
            AesCbc::Aes256(_) => 32,
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum LegacyCipher {
    TripleDes,
    Rc2_40,
}

impl LegacyCipher {
    fn key_len(self) -> usize {
        match self {
            LegacyCipher::TripleDes => 24,
            LegacyCipher::Rc2_40 => 5,
        }
    }
}

/// Both ciphers have 8-byte blocks, so both IVs are 8 bytes.
const LEGACY_IV_LEN: usize = 8;
const MAX_KEY_LEN: usize = 32;

fn unsupported(what: &str) -> KeyError {
    KeyError::UnsupportedProtection(what.into())
}

fn broken(what: &str) -> KeyError {
    KeyError::Broken(format!("the PKCS#12 file's {what} cannot be read"))
}

impl Protection {
    /// Reads an `AlgorithmIdentifier` of an encrypted part. Nothing is derived here.
    pub(super) fn parse(alg: &AlgorithmIdentifierOwned) -> Result<Self, KeyError> {
        let params = alg
            .parameters
            .as_ref()
            .ok_or_else(|| broken("encryption parameters"))?
            .to_der()
            .map_err(|_| broken("encryption parameters"))?;
        if alg.oid == oid::PBES2 {
            return Self::parse_pbes2(&params);
        }
        let cipher = match alg.oid {
            oid::PBE_SHA1_3DES => LegacyCipher::TripleDes,
            oid::PBE_SHA1_RC2_40 => LegacyCipher::Rc2_40,
            other => return Err(unsupported(&format!("the encryption scheme {other}"))),
        };
        let p = Pkcs12PbeParams::from_der(&params).map_err(|_| broken("PBE parameters"))?;
        budget::iterations(p.iterations.into())?;
        Ok(Protection::Pkcs12Pbe {
            cipher,
            salt: p.salt.as_bytes().to_vec(),
            iterations: p.iterations,
        })
    }

    fn parse_pbes2(params: &[u8]) -> Result<Self, KeyError> {
        // The algorithm OIDs first, so that scrypt's parameters are never even decoded.
        let outline = Pbes2Params::from_der(params).map_err(|_| broken("PBES2 parameters"))?;
        if outline.kdf.oid == oid::SCRYPT {
            return Err(unsupported("PBES2 with scrypt"));
        }
        if outline.kdf.oid != oid::PBKDF2 {
            return Err(unsupported(&format!(
                "PBES2 with the key derivation {}",
                outline.kdf.oid
            )));
        }
        if ![oid::AES_128_CBC, oid::AES_192_CBC, oid::AES_256_CBC].contains(&outline.encryption.oid) {
            return Err(unsupported(&format!(
                "PBES2 with the cipher {}",
                outline.encryption.oid
            )));
        }
        let parsed = Parameters::from_der(params).map_err(|_| broken("PBES2 parameters"))?;
        let Kdf::Pbkdf2(pbkdf2) = parsed.kdf else {
            return Err(unsupported("PBES2 with a key derivation other than PBKDF2"));
        };
        let cipher = match parsed.encryption {
            EncryptionScheme::Aes128Cbc { iv } => AesCbc::Aes128(iv),
            EncryptionScheme::Aes192Cbc { iv } => AesCbc::Aes192(iv),
            EncryptionScheme::Aes256Cbc { iv } => AesCbc::Aes256(iv),
            _ => return Err(unsupported("PBES2 with a cipher other than AES-CBC")),
        };
        if pbkdf2
            .key_length
            .is_some_and(|n| usize::from(n) != cipher.key_len())
        {
            return Err(broken("PBES2 key length"));
        }
        let prf = match pbkdf2.prf {
            Pbkdf2Prf::HmacWithSha1 => KdfHash::Sha1,
            Pbkdf2Prf::HmacWithSha224 => KdfHash::Sha224,
            Pbkdf2Prf::HmacWithSha256 => KdfHash::Sha256,
            Pbkdf2Prf::HmacWithSha384 => KdfHash::Sha384,
            Pbkdf2Prf::HmacWithSha512 => KdfHash::Sha512,
            _ => return Err(unsupported("PBKDF2 with an unknown pseudo-random function")),
        };
        budget::iterations(pbkdf2.iteration_count.into())?;
        Ok(Protection::Pbes2 {
            prf,
            salt: pbkdf2.salt.as_ref().to_vec(),
            iterations: pbkdf2.iteration_count,
            cipher,
        })
    }

    /// The price of [`Protection::decrypt`] in budget units.
    pub(super) fn cost(&self) -> u64 {
        match self {
            Protection::Pbes2 {
                prf,
                iterations,
                cipher,
                ..
            } => prf.pbkdf2_cost(u64::from(*iterations), cipher.key_len()),
            Protection::Pkcs12Pbe {
                cipher, iterations, ..
            } => KdfHash::Sha1.pkcs12_kdf_cost(
                u64::try_from(*iterations).unwrap_or(u64::MAX),
                &[cipher.key_len(), LEGACY_IV_LEN],
            ),
        }
    }

    /// Derives the key and decrypts. `None` means the padding was wrong: a wrong password,
    /// which the caller names (store or key password).
    pub(super) fn decrypt(
        &self,
        password: &Password,
        ciphertext: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError> {
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let mut key = Zeroizing::new([0u8; MAX_KEY_LEN]);
        let len = match self {
            Protection::Pbes2 {
                prf,
                salt,
                iterations,
                cipher,
            } => {
                let key = key.get_mut(..cipher.key_len()).ok_or_else(|| broken("key"))?;
                pbkdf2(*prf, password.expose().as_bytes(), salt, *iterations, key);
                match cipher {
                    AesCbc::Aes128(iv) => cbc_decrypt::<aes::Aes128Dec>(key, iv, &mut buf),
                    AesCbc::Aes192(iv) => cbc_decrypt::<aes::Aes192Dec>(key, iv, &mut buf),
                    AesCbc::Aes256(iv) => cbc_decrypt::<aes::Aes256Dec>(key, iv, &mut buf),
                }
            }
            Protection::Pkcs12Pbe {
                cipher,
                salt,
                iterations,
            } => {
                let pass = bmp_password(password);
                let derived = Zeroizing::new(kdf::derive_key::<sha1::Sha1>(
                    &pass,
                    salt,
                    kdf::Pkcs12KeyType::EncryptionKey,
                    *iterations,
                    cipher.key_len(),
                ));
                let iv = kdf::derive_key::<sha1::Sha1>(
                    &pass,
                    salt,
                    kdf::Pkcs12KeyType::Iv,
                    *iterations,
                    LEGACY_IV_LEN,
                );
                match cipher {
                    LegacyCipher::TripleDes => cbc_decrypt::<des::TdesEde3>(&derived, &iv, &mut buf),
                    LegacyCipher::Rc2_40 => cbc_decrypt::<rc2::Rc2>(&derived, &iv, &mut buf),
                }
            }
        };
        Ok(len.map(|n| {
            buf.truncate(n);
            buf
        }))
    }
}

fn pbkdf2(prf: KdfHash, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    use pbkdf2::pbkdf2_hmac;
    match prf {
        KdfHash::Sha1 => pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, out),
        KdfHash::Sha224 => pbkdf2_hmac::<sha2::Sha224>(password, salt, iterations, out),
        KdfHash::Sha256 => pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out),
        KdfHash::Sha384 => pbkdf2_hmac::<sha2::Sha384>(password, salt, iterations, out),
        KdfHash::Sha512 => pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, out),
        KdfHash::Sha512_224 => pbkdf2_hmac::<sha2::Sha512_224>(password, salt, iterations, out),
        KdfHash::Sha512_256 => pbkdf2_hmac::<sha2::Sha512_256>(password, salt, iterations, out),
    }
}

/// The plaintext length after CBC decryption and PKCS#7 unpadding, or `None` for bad padding.
fn cbc_decrypt<C: BlockCipherDecrypt + KeyInit>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Option<usize> {
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded::<Pkcs7>(buf)
        .ok()
        .map(<[u8]>::len)
}

/// The password as the PKCS#12 KDF takes it (RFC 7292 appendix B.1): big-endian UTF-16 code
/// units, as Java and OpenSSL encode it (characters outside the BMP as surrogate pairs), and
/// two zero bytes.
fn bmp_password(password: &Password) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.expose().len().saturating_mul(2) + 2));
    out.extend(password.expose().encode_utf16().flat_map(u16::to_be_bytes));
    out.extend([0, 0]);
    out
}

/// The integrity check of a PFX (RFC 7292 §4): HMAC over the authenticated safe's contents.
pub(super) struct MacCheck {
    hash: KdfHash,
    salt: Vec<u8>,
    iterations: i32,
    expected: Vec<u8>,
}

impl MacCheck {
    pub(super) fn parse(mac: &MacData) -> Result<Self, KeyError> {
        let hash = match mac.mac.algorithm.oid {
            oid::SHA1 => KdfHash::Sha1,
            oid::SHA224 => KdfHash::Sha224,
            oid::SHA256 => KdfHash::Sha256,
            oid::SHA384 => KdfHash::Sha384,
            oid::SHA512 => KdfHash::Sha512,
            oid::SHA512_224 => KdfHash::Sha512_224,
            oid::SHA512_256 => KdfHash::Sha512_256,
            other => return Err(unsupported(&format!("the MAC digest {other}"))),
        };
        budget::iterations(mac.iterations.into())?;
        Ok(Self {
            hash,
            salt: mac.mac_salt.as_bytes().to_vec(),
            iterations: mac.iterations,
            expected: mac.mac.digest.as_bytes().to_vec(),
        })
    }

    pub(super) fn cost(&self) -> u64 {
        self.hash.pkcs12_kdf_cost(
            u64::try_from(self.iterations).unwrap_or(u64::MAX),
            &[self.hash.output_len()],
        )
    }

    /// Whether `data` carries this MAC under `password` (constant-time comparison).
    pub(super) fn verify(&self, password: &Password, data: &[u8]) -> bool {
        let pass = bmp_password(password);
        macro_rules! check {
            ($h:ty) => {{
                let key = Zeroizing::new(kdf::derive_key::<$h>(
                    &pass,
                    &self.salt,
                    kdf::Pkcs12KeyType::Mac,
                    self.iterations,
                    self.hash.output_len(),
                ));
                match <hmac::Hmac<$h> as hmac::KeyInit>::new_from_slice(&key) {
                    Ok(mut mac) => {
                        mac.update(data);
                        mac.verify_slice(&self.expected).is_ok()
                    }
                    Err(_) => false,
                }
            }};
        }
        match self.hash {
            KdfHash::Sha1 => check!(sha1::Sha1),
            KdfHash::Sha224 => check!(sha2::Sha224),
            KdfHash::Sha256 => check!(sha2::Sha256),
            KdfHash::Sha384 => check!(sha2::Sha384),
            KdfHash::Sha512 => check!(sha2::Sha512),
            KdfHash::Sha512_224 => check!(sha2::Sha512_224),
            KdfHash::Sha512_256 => check!(sha2::Sha512_256),
        }
    }
}

/// PBES2 encryption with PBKDF2-HMAC-SHA-256 and AES-256-CBC, as keytool 17 writes it; the
/// caller supplies fresh random `salt` and `iv` and encodes the parameters.
pub(crate) fn pbes2_encrypt(
    password: &Password,
    salt: &[u8],
    iterations: u32,
    iv: &[u8; 16],
    plaintext: &[u8],
) -> Option<Vec<u8>> {
    use cbc::cipher::BlockModeEncrypt;
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2(
        KdfHash::Sha256,
        password.expose().as_bytes(),
        salt,
        iterations,
        &mut *key,
    );
    let mut buf = Zeroizing::new(vec![0u8; plaintext.len() + 16]);
    if let Some(head) = buf.get_mut(..plaintext.len()) {
        head.copy_from_slice(plaintext);
    }
    cbc::Encryptor::<aes::Aes256Enc>::new_from_slices(&*key, iv)
        .ok()
        .and_then(|c| c.encrypt_padded::<Pkcs7>(&mut buf, plaintext.len()).ok())
        .map(<[u8]>::to_vec)
}

/// The HMAC-SHA-256 of `data` keyed by the PKCS#12 KDF, for `MacData`.
pub(crate) fn mac_sha256(password: &Password, salt: &[u8], iterations: i32, data: &[u8]) -> Option<Vec<u8>> {
    let key = Zeroizing::new(kdf::derive_key::<sha2::Sha256>(
        &bmp_password(password),
        salt,
        kdf::Pkcs12KeyType::Mac,
        iterations,
        32,
    ));
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(&key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().to_vec())
}
