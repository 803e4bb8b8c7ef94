//! What makes public key material fit to verify signatures, checked as a cryptographer would.
//!
//! Two places run these rules: [`crate::check_public_jwk`], wherever a key enters (import in
//! every format, inline `jwks`, `jwks_uri` documents, the CLI), and
//! [`crate::VerifyingKey::from_jwk`], so a key stored before a rule existed never verifies.
//! aws-lc builds a verifier from any of these keys without complaint, which is why keyward
//! checks them itself.

use curve25519_dalek::edwards::CompressedEdwardsY;

use crate::KeyCheckError;

/// Smallest RSA modulus accepted, in bits (NIST SP 800-131A: 2048 since 2014).
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits: what aws-lc verifies, and a bound on verification cost.
pub(crate) const RSA_MAX_BITS: usize = 8192;
/// Largest RSA public exponent accepted, in bits. aws-lc (like BoringSSL and ring) refuses
/// exponents above 33 bits to bound verification cost; every real key uses 65537 (17 bits).
pub(crate) const RSA_MAX_EXPONENT_BITS: usize = 33;

/// RSA `n` and `e` as the JWK carries them (RFC 7518 §6.3.1: big-endian, minimal octets).
///
/// - no leading zero octet (RFC 7518 §6.3.1.1): a JWK has one encoding, so one thumbprint;
/// - `n` of 2048..=8192 bits, counted exactly (a 256-octet `n` whose first octet is `0x01` has
///   2041 bits, not 2048);
/// - `n` odd: the product of two odd primes is odd, an even `n` is not an RSA modulus;
/// - `e` ≠ 1: with `e = 1` a "signature" is the padded message itself, so anyone can forge one;
/// - `e` odd: an even `e` shares the factor 2 with λ(n), so no private exponent exists (`e = 2`
///   is Rabin, not RSA);
/// - `e` at most 33 bits.
pub(crate) fn check_rsa(n: &[u8], e: &[u8]) -> Result<(), KeyCheckError> {
    let n_bits = bit_length(n)?;
    if n_bits < RSA_MIN_BITS {
        return Err(KeyCheckError::KeyTooWeak { bits: n_bits });
    }
    if n_bits > RSA_MAX_BITS {
        return Err(KeyCheckError::KeyTooLarge { bits: n_bits });
    }
    if n.last().is_none_or(|low| low & 1 == 0) {
        return Err(KeyCheckError::RsaModulusEven);
    }
    let e_bits = bit_length(e)?;
    if e_bits == 1 {
        return Err(KeyCheckError::RsaExponentOne);
    }
    if e.last().is_none_or(|low| low & 1 == 0) {
        return Err(KeyCheckError::RsaExponentEven);
    }
    if e_bits > RSA_MAX_EXPONENT_BITS {
        return Err(KeyCheckError::RsaExponentTooLarge { bits: e_bits });
    }
    Ok(())
}

/// The exact number of bits of a minimally encoded unsigned big-endian integer. A leading zero
/// octet is refused (RFC 7518 §6.3.1.1); the value zero is the single octet `0x00` (0 bits).
fn bit_length(octets: &[u8]) -> Result<usize, KeyCheckError> {
    match octets {
        [] => Err(KeyCheckError::Invalid),
        [0] => Ok(0),
        [0, ..] => Err(KeyCheckError::LeadingZero),
        [first, rest @ ..] => Ok(rest.len() * 8 + (8 - first.leading_zeros() as usize)),
    }
}

/// An Ed25519 public key (RFC 8032 §5.1.3): 32 octets that are the canonical encoding of a
/// point of prime order ℓ.
///
/// - not of small order: the eight points of order 1, 2, 4 or 8 make `[S]B = R + [k]A` hold for
///   `S = 0` and a small-order `R` whatever the message, so with such a key the signature
///   `01 00…00 ‖ 00…00` verifies for every assertion (the verifier does not refuse it);
/// - canonical: `y < p`, and no sign bit on `x = 0`. Another encoding of the same point is
///   another JWK, another thumbprint, and verifiers disagree on whether to accept it;
/// - in the prime-order subgroup: an honest key is `[a]B`; a key with a small-order component
///   added (mixed order) never comes from a key generator and makes signatures that cofactored
///   and cofactorless verifiers judge differently.
pub(crate) fn check_ed25519(x: &[u8]) -> Result<(), KeyCheckError> {
    let compressed = CompressedEdwardsY::from_slice(x).map_err(|_| KeyCheckError::Invalid)?;
    let point = compressed.decompress().ok_or(KeyCheckError::Invalid)?;
    if point.is_small_order() {
        return Err(KeyCheckError::Ed25519SmallOrder);
    }
    if point.compress() != compressed {
        return Err(KeyCheckError::Ed25519NonCanonical);
    }
    if !point.is_torsion_free() {
        return Err(KeyCheckError::Ed25519MixedOrder);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use curve25519_dalek::{constants, edwards::EdwardsPoint, Scalar};

    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    /// The canonical encodings of the eight points of small order (libsodium's blocklist,
    /// "Taming the many EdDSAs" table 6).
    pub(crate) const SMALL_ORDER: [&str; 8] = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ];

    /// Non-canonical encodings of small-order points: `x = 0` with the sign bit set, and
    /// `y = p` (0) and `y = p + 1` (1), each with and without the sign bit.
    pub(crate) const SMALL_ORDER_NON_CANONICAL: [&str; 6] = [
        "0100000000000000000000000000000000000000000000000000000000000080",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ];

    #[test]
    fn the_table_is_every_small_order_point() {
        let table: Vec<_> = SMALL_ORDER.iter().map(|h| hex32(h)).collect();
        for t in constants::EIGHT_TORSION {
            assert!(table.contains(&t.compress().to_bytes()));
        }
        for h in SMALL_ORDER_NON_CANONICAL {
            let p = CompressedEdwardsY(hex32(h)).decompress().unwrap();
            assert!(p.is_small_order(), "{h}");
            assert_ne!(p.compress().to_bytes(), hex32(h), "{h} is not canonical");
        }
    }

    #[test]
    fn refuses_every_small_order_encoding() {
        for h in SMALL_ORDER.iter().chain(&SMALL_ORDER_NON_CANONICAL) {
            assert_eq!(
                check_ed25519(&hex32(h)),
                Err(KeyCheckError::Ed25519SmallOrder),
                "{h}"
            );
        }
    }

    /// `y + p` for a small `y` that is on the curve and not of small order: the same point as
    /// the canonical `y`, so the only thing wrong with it is its encoding.
    #[test]
    fn refuses_non_canonical_y_of_a_large_order_point() {
        let mut found = 0;
        for y in 2u8..19 {
            let mut bytes = hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
            bytes[0] = 0xed + y;
            let Some(p) = CompressedEdwardsY(bytes).decompress() else {
                continue;
            };
            assert!(!p.is_small_order());
            assert_eq!(
                check_ed25519(&bytes),
                Err(KeyCheckError::Ed25519NonCanonical),
                "y = p + {y}"
            );
            found += 1;
        }
        assert!(found > 0, "some y + p below 2^255 is on the curve");
    }

    #[test]
    fn refuses_mixed_order_and_accepts_honest_keys() {
        let honest: EdwardsPoint = constants::ED25519_BASEPOINT_POINT * Scalar::from(0x1234_5678u64);
        assert_eq!(check_ed25519(honest.compress().as_bytes()), Ok(()));
        let mixed = honest + constants::EIGHT_TORSION[1];
        assert_eq!(
            check_ed25519(mixed.compress().as_bytes()),
            Err(KeyCheckError::Ed25519MixedOrder)
        );
    }

    #[test]
    fn refuses_wrong_lengths_and_points_off_the_curve() {
        assert_eq!(check_ed25519(&[1u8; 31]), Err(KeyCheckError::Invalid));
        assert_eq!(check_ed25519(&[1u8; 33]), Err(KeyCheckError::Invalid));
        // y = 2 is not the y-coordinate of any point.
        let mut y2 = [0u8; 32];
        y2[0] = 2;
        assert_eq!(check_ed25519(&y2), Err(KeyCheckError::Invalid));
    }

    fn modulus(bytes: usize, first: u8, last: u8) -> Vec<u8> {
        let mut n = vec![0xa5; bytes];
        n[0] = first;
        n[bytes - 1] = last;
        n
    }

    #[test]
    fn counts_modulus_bits_exactly() {
        let e = [1, 0, 1];
        assert_eq!(check_rsa(&modulus(256, 0x80, 0x01), &e), Ok(()));
        assert_eq!(
            check_rsa(&modulus(256, 0x01, 0x01), &e),
            Err(KeyCheckError::KeyTooWeak { bits: 2041 })
        );
        assert_eq!(
            check_rsa(&modulus(256, 0x7f, 0x01), &e),
            Err(KeyCheckError::KeyTooWeak { bits: 2047 })
        );
        assert_eq!(check_rsa(&modulus(1024, 0xff, 0x01), &e), Ok(()));
        assert_eq!(
            check_rsa(&modulus(1025, 0x01, 0x01), &e),
            Err(KeyCheckError::KeyTooLarge { bits: 8193 })
        );
    }

    #[test]
    fn refuses_leading_zero_octets() {
        let mut padded = vec![0u8];
        padded.extend(modulus(256, 0x80, 0x01));
        assert_eq!(check_rsa(&padded, &[1, 0, 1]), Err(KeyCheckError::LeadingZero));
        assert_eq!(
            check_rsa(&modulus(256, 0x80, 0x01), &[0, 1, 0, 1]),
            Err(KeyCheckError::LeadingZero)
        );
        assert_eq!(check_rsa(&[], &[1, 0, 1]), Err(KeyCheckError::Invalid));
    }

    #[test]
    fn refuses_even_modulus_and_bad_exponents() {
        let n = modulus(256, 0xc0, 0x01);
        assert_eq!(
            check_rsa(&modulus(256, 0xc0, 0x02), &[1, 0, 1]),
            Err(KeyCheckError::RsaModulusEven)
        );
        assert_eq!(check_rsa(&n, &[1]), Err(KeyCheckError::RsaExponentOne));
        assert_eq!(check_rsa(&n, &[2]), Err(KeyCheckError::RsaExponentEven));
        assert_eq!(check_rsa(&n, &[0]), Err(KeyCheckError::RsaExponentEven));
        assert_eq!(check_rsa(&n, &[3]), Ok(()));
        // 2^33 - 1 is the largest exponent accepted; 2^33 + 1 has 34 bits.
        assert_eq!(check_rsa(&n, &[1, 0xff, 0xff, 0xff, 0xff]), Ok(()));
        assert_eq!(
            check_rsa(&n, &[2, 0, 0, 0, 1]),
            Err(KeyCheckError::RsaExponentTooLarge { bits: 34 })
        );
        let mut huge = vec![0xffu8; 512];
        huge[0] = 0x80;
        assert_eq!(
            check_rsa(&n, &huge),
            Err(KeyCheckError::RsaExponentTooLarge { bits: 4096 })
        );
    }
}
