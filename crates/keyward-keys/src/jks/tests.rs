use std::process::{Command, Stdio};

use proptest::prelude::*;

use super::*;

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/interop/");

fn interop(name: &str) -> Vec<u8> {
    let path = format!("{INTEROP}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn base64_decode(text: &str) -> Vec<u8> {
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 character {c:#x}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The DER of the first `-----BEGIN PRIVATE KEY-----` block, skipping anything before it
/// (openssl prints bag attributes first).
fn private_key_pem_der(text: &str) -> Vec<u8> {
    let start = text
        .find("-----BEGIN PRIVATE KEY-----")
        .expect("no PRIVATE KEY block");
    let body: String = text[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64_decode(&body)
}

fn rsa_pkcs8() -> Vec<u8> {
    private_key_pem_der(&String::from_utf8(interop("sample-rsa2048-private.pem")).unwrap())
}

fn entry<'a>(entries: &'a [JksEntry], alias: &str) -> &'a JksEntry {
    entries
        .iter()
        .find(|e| e.alias == alias)
        .unwrap_or_else(|| panic!("no alias {alias}"))
}

fn key_parts(entry: &JksEntry) -> (&[u8], &[Vec<u8>]) {
    match &entry.kind {
        JksEntryKind::PrivateKey { protected_key, chain } => (protected_key, chain),
        JksEntryKind::TrustedCert { .. } => panic!("{} is not a private key entry", entry.alias),
    }
}

/// Appends the digest Java would compute, so hand-built files get past the integrity check.
fn seal(mut body: Vec<u8>, store_password: &str) -> Vec<u8> {
    let digest = sha1_of(&[&password_bytes(store_password), WHITENER, &body]);
    body.extend_from_slice(&digest);
    body
}

fn header(version: u32, count: u32) -> Vec<u8> {
    [MAGIC, version, count]
        .iter()
        .flat_map(|n| n.to_be_bytes())
        .collect()
}

fn entry_head(out: &mut Vec<u8>, tag: usize, alias: &str) {
    out.extend_from_slice(&(tag as u32).to_be_bytes());
    out.extend_from_slice(&(alias.len() as u16).to_be_bytes());
    out.extend_from_slice(alias.as_bytes());
    out.extend_from_slice(&1_700_000_000_000u64.to_be_bytes());
}

fn put_cert(out: &mut Vec<u8>, version: u32, cert: &[u8]) {
    if version == 2 {
        out.extend_from_slice(&5u16.to_be_bytes());
        out.extend_from_slice(b"X.509");
    }
    out.extend_from_slice(&(cert.len() as u32).to_be_bytes());
    out.extend_from_slice(cert);
}

/// The sample RSA key and certificate, owned so that tests can borrow a `NewKeyEntry` from it.
struct RsaSample {
    pkcs8: Vec<u8>,
    chain: Vec<Vec<u8>>,
}

impl RsaSample {
    fn load() -> Self {
        Self {
            pkcs8: rsa_pkcs8(),
            chain: vec![interop("sample-rsa2048-cert.der")],
        }
    }

    fn entry<'a>(&'a self, alias: &'a str) -> NewKeyEntry<'a> {
        NewKeyEntry {
            alias,
            pkcs8_der: &self.pkcs8,
            chain: &self.chain,
            created_ms: 1_700_000_000_000,
        }
    }
}

#[test]
fn reads_rsa_keystore_and_decrypts_the_pem_key() {
    let entries = read(&interop("sample-rsa2048.jks"), "storepass").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].alias, "clientkey");
    assert_eq!(entries[0].created_ms, 0x01A2_056E_5AF5);
    let (protected, chain) = key_parts(&entries[0]);
    assert_eq!(chain, [interop("sample-rsa2048-cert.der")]);
    let pkcs8 = decrypt_key(protected, "keypass").unwrap();
    assert_eq!(*pkcs8, rsa_pkcs8());
}

#[test]
fn reads_ec_keystore() {
    let entries = read(&interop("sample-ec256.jks"), "storepass").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].alias, "clientkey-ec");
    let (protected, chain) = key_parts(&entries[0]);
    assert_eq!(chain.len(), 1);
    let pkcs8 = decrypt_key(protected, "keypass").unwrap();
    // Not the key in sample-ec256-private.pem (a different key): check that it is a PKCS#8
    // SEQUENCE naming id-ecPublicKey. Java omits the optional public key, so it is 67 bytes.
    let id_ec_public_key = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
    assert_eq!(pkcs8.first(), Some(&0x30));
    assert!(pkcs8
        .windows(id_ec_public_key.len())
        .any(|w| w == id_ec_public_key));
    assert_eq!(pkcs8.len(), 67);
}

#[test]
fn reads_multi_entry_keystore() {
    let entries = read(&interop("sample-multi.jks"), "storepass").unwrap();
    let mut aliases: Vec<&str> = entries.iter().map(|e| e.alias.as_str()).collect();
    aliases.sort_unstable();
    assert_eq!(aliases, ["clientkey", "partner-cert", "second-key"]);
    for alias in ["clientkey", "second-key"] {
        let (protected, chain) = key_parts(entry(&entries, alias));
        assert_eq!(chain.len(), 1, "{alias}");
        assert!(decrypt_key(protected, "keypass").is_ok(), "{alias}");
    }
    let (rsa, _) = key_parts(entry(&entries, "clientkey"));
    assert_eq!(*decrypt_key(rsa, "keypass").unwrap(), rsa_pkcs8());
    match &entry(&entries, "partner-cert").kind {
        JksEntryKind::TrustedCert { cert } => assert_eq!(cert.first(), Some(&0x30)),
        JksEntryKind::PrivateKey { .. } => panic!("partner-cert should be a trusted certificate"),
    }
}

#[test]
fn wrong_store_password_is_an_integrity_error() {
    assert_eq!(
        read(&interop("sample-rsa2048.jks"), "storepasS"),
        Err(JksError::Integrity)
    );
    assert_eq!(read(&interop("sample-multi.jks"), ""), Err(JksError::Integrity));
}

#[test]
fn tampered_file_is_an_integrity_error() {
    // The flipped byte (offset 0x431) lies inside the encrypted key, so the structure still
    // parses and only the digest catches it.
    let good = interop("sample-rsa2048.jks");
    let tampered = interop("sample-tampered.jks");
    let diff: Vec<usize> = (0..good.len()).filter(|&i| good[i] != tampered[i]).collect();
    assert_eq!(diff, [0x431]);
    assert_eq!(read(&tampered, "storepass"), Err(JksError::Integrity));
}

#[test]
fn wrong_key_password_is_rejected() {
    let entries = read(&interop("sample-rsa2048.jks"), "storepass").unwrap();
    let (protected, _) = key_parts(&entries[0]);
    assert_eq!(
        decrypt_key(protected, "storepass"),
        Err(JksError::WrongKeyPassword)
    );
    assert_eq!(decrypt_key(protected, ""), Err(JksError::WrongKeyPassword));
}

#[test]
fn truncated_files_are_errors() {
    let data = interop("sample-rsa2048.jks");
    assert!(matches!(
        read(&data[..100], "storepass"),
        Err(JksError::Malformed(_))
    ));
    for len in 0..data.len() {
        let expected_not_jks = len < 4;
        match read(&data[..len], "storepass") {
            Err(JksError::NotJks) if expected_not_jks => {}
            Err(JksError::Malformed(_)) if !expected_not_jks => {}
            other => panic!("prefix of {len} bytes gave {other:?}"),
        }
    }
}

#[test]
fn trailing_data_is_malformed() {
    let mut data = interop("sample-rsa2048.jks");
    data.push(0);
    assert_eq!(
        read(&data, "storepass"),
        Err(JksError::Malformed("trailing data after the integrity digest"))
    );
}

#[test]
fn random_bytes_and_other_formats_are_not_jks() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..2048)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert_eq!(read(&noise, "storepass"), Err(JksError::NotJks));
    assert_eq!(
        read(&interop("sample-rsa2048-keytool.p12"), "storepass"),
        Err(JksError::NotJks)
    );
    assert_eq!(
        read(&[0xCE, 0xCE, 0xCE, 0xCE, 0, 0, 0, 2], "storepass"),
        Err(JksError::NotJks)
    );
}

#[test]
fn unsupported_version_is_malformed() {
    let data = seal(header(3, 0), "pw");
    assert_eq!(
        read(&data, "pw"),
        Err(JksError::Malformed("unsupported JKS version"))
    );
}

#[test]
fn empty_keystore_reads_as_no_entries() {
    assert_eq!(read(&seal(header(2, 0), "pw"), "pw"), Ok(vec![]));
}

#[test]
fn huge_entry_count_is_malformed() {
    let data = seal(header(2, u32::MAX), "pw");
    assert_eq!(
        read(&data, "pw"),
        Err(JksError::Malformed("entry count exceeds the file size"))
    );
}

#[test]
fn huge_certificate_length_is_malformed() {
    let mut data = header(2, 1);
    entry_head(&mut data, TAG_TRUSTED_CERT, "a");
    data.extend_from_slice(&5u16.to_be_bytes());
    data.extend_from_slice(b"X.509");
    data.extend_from_slice(&u32::MAX.to_be_bytes());
    data.extend_from_slice(&[0x30; 64]);
    let data = seal(data, "pw");
    assert_eq!(
        read(&data, "pw"),
        Err(JksError::Malformed("certificate length exceeds the file size"))
    );
}

#[test]
fn huge_key_length_and_chain_count_are_malformed() {
    let mut data = header(2, 1);
    entry_head(&mut data, TAG_PRIVATE_KEY, "a");
    data.extend_from_slice(&u32::MAX.to_be_bytes());
    data.extend_from_slice(&[0; 64]);
    assert_eq!(
        read(&seal(data, "pw"), "pw"),
        Err(JksError::Malformed("key length exceeds the file size"))
    );

    let mut data = header(2, 1);
    entry_head(&mut data, TAG_PRIVATE_KEY, "a");
    data.extend_from_slice(&4u32.to_be_bytes());
    data.extend_from_slice(&[0x30, 2, 5, 0]);
    data.extend_from_slice(&u32::MAX.to_be_bytes());
    data.extend_from_slice(&[0; 64]);
    assert_eq!(
        read(&seal(data, "pw"), "pw"),
        Err(JksError::Malformed("certificate count exceeds the file size"))
    );
}

#[test]
fn duplicate_aliases_are_malformed() {
    let mut data = header(2, 2);
    for alias in ["partner", "Partner"] {
        entry_head(&mut data, TAG_TRUSTED_CERT, alias);
        put_cert(&mut data, 2, &[0x30, 0]);
    }
    assert_eq!(
        read(&seal(data, "pw"), "pw"),
        Err(JksError::Malformed("duplicate alias"))
    );
}

#[test]
fn non_x509_certificate_type_is_malformed() {
    let mut data = header(2, 1);
    entry_head(&mut data, TAG_TRUSTED_CERT, "a");
    data.extend_from_slice(&3u16.to_be_bytes());
    data.extend_from_slice(b"PGP");
    data.extend_from_slice(&2u32.to_be_bytes());
    data.extend_from_slice(&[0x30, 0]);
    assert_eq!(
        read(&seal(data, "pw"), "pw"),
        Err(JksError::Malformed("certificate type is not X.509"))
    );
}

#[test]
fn reads_version_1_keystore() {
    let sample = read(&interop("sample-rsa2048.jks"), "storepass").unwrap();
    let (protected, chain) = key_parts(&sample[0]);
    let mut data = header(1, 2);
    entry_head(&mut data, TAG_PRIVATE_KEY, "clientkey");
    data.extend_from_slice(&(protected.len() as u32).to_be_bytes());
    data.extend_from_slice(protected);
    data.extend_from_slice(&1u32.to_be_bytes());
    put_cert(&mut data, 1, &chain[0]);
    entry_head(&mut data, TAG_TRUSTED_CERT, "partner");
    put_cert(&mut data, 1, &chain[0]);
    let entries = read(&seal(data, "old"), "old").unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(key_parts(&entries[0]), (protected, chain));
    assert_eq!(
        entries[1].kind,
        JksEntryKind::TrustedCert {
            cert: chain[0].clone()
        }
    );
}

#[test]
fn write_then_read_round_trips() {
    let sample = RsaSample::load();
    let new = sample.entry("exported-key");
    let data = write(&new, "store-secret", "key-secret", [7; 20]);
    let entries = read(&data, "store-secret").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].alias, new.alias);
    assert_eq!(entries[0].created_ms, new.created_ms);
    let (protected, chain) = key_parts(&entries[0]);
    assert_eq!(chain, new.chain);
    assert_eq!(*decrypt_key(protected, "key-secret").unwrap(), new.pkcs8_der);
    assert_eq!(
        decrypt_key(protected, "store-secret"),
        Err(JksError::WrongKeyPassword)
    );
    assert_eq!(read(&data, "key-secret"), Err(JksError::Integrity));
    // Deterministic for a given salt, so the salt really is the only randomness.
    assert_eq!(data, write(&new, "store-secret", "key-secret", [7; 20]));
    assert_ne!(data, write(&new, "store-secret", "key-secret", [8; 20]));
}

#[test]
fn writer_matches_keytool_key_protection() {
    // Re-protecting keytool's plaintext with keytool's own salt must give keytool's bytes.
    let sample = read(&interop("sample-rsa2048.jks"), "storepass").unwrap();
    let (protected, chain) = key_parts(&sample[0]);
    let pkcs8 = decrypt_key(protected, "keypass").unwrap();
    let mut alg = protected;
    let mut info = der_take(&mut alg, 0x30).unwrap();
    der_take(&mut info, 0x30).unwrap();
    let salt: [u8; 20] = der_take(&mut info, 0x04).unwrap()[..20].try_into().unwrap();
    let new = NewKeyEntry {
        alias: "clientkey",
        pkcs8_der: &pkcs8,
        chain,
        created_ms: 0,
    };
    let ours = read(&write(&new, "s", "keypass", salt), "s").unwrap();
    assert_eq!(key_parts(&ours[0]).0, protected);
}

#[test]
fn non_ascii_alias_uses_java_modified_utf8() {
    let alias = "clé\u{0}🔑";
    let data = write(&RsaSample::load().entry(alias), "s", "k", [1; 20]);
    let encoded = b"cl\xC3\xA9\xC0\x80\xED\xA0\xBD\xED\xB4\x91";
    assert_eq!(&data[16..18], &(encoded.len() as u16).to_be_bytes());
    assert_eq!(&data[18..18 + encoded.len()], encoded);
    assert_eq!(read(&data, "s").unwrap()[0].alias, alias);
}

#[test]
fn over_long_alias_is_cut_at_a_character_boundary() {
    let alias = "é".repeat(40_000);
    let entries = read(&write(&RsaSample::load().entry(&alias), "s", "k", [1; 20]), "s").unwrap();
    assert_eq!(entries[0].alias, "é".repeat(32_767));
}

#[test]
fn invalid_alias_encoding_is_malformed() {
    for alias in [&b"\xF0\x9F\x94\x91"[..], b"\xC3", b"\xED\xA0\xBD", b"\xC3\x28"] {
        let mut data = header(2, 1);
        data.extend_from_slice(&(TAG_TRUSTED_CERT as u32).to_be_bytes());
        data.extend_from_slice(&(alias.len() as u16).to_be_bytes());
        data.extend_from_slice(alias);
        data.extend_from_slice(&0u64.to_be_bytes());
        put_cert(&mut data, 2, &[0x30, 0]);
        assert_eq!(
            read(&seal(data, "pw"), "pw"),
            Err(JksError::Malformed("alias is not valid modified UTF-8")),
            "{alias:x?}"
        );
    }
}

#[test]
fn other_key_protection_is_unsupported() {
    let sample = read(&interop("sample-rsa2048.jks"), "storepass").unwrap();
    let mut protected = key_parts(&sample[0]).0.to_vec();
    // The last OID arc: 1.3.6.1.4.1.42.2.17.1.1 -> ...1.2.
    let oid_end = 4 + 2 + 2 + KEY_PROTECTOR_OID.len() - 1;
    assert_eq!(protected[oid_end], 1);
    protected[oid_end] = 2;
    assert_eq!(
        decrypt_key(&protected, "keypass"),
        Err(JksError::UnsupportedProtection)
    );
    // PBES2 (1.2.840.113549.1.5.13), as a PKCS#12 would use.
    let pbes2 = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D];
    let mut alg = der_tlv(0x06, &pbes2);
    alg.extend_from_slice(&der_tlv(0x30, &[]));
    let mut info = der_tlv(0x30, &alg);
    info.extend_from_slice(&der_tlv(0x04, &[0; 64]));
    assert_eq!(
        decrypt_key(&der_tlv(0x30, &info), "k"),
        Err(JksError::UnsupportedProtection)
    );
}

#[test]
fn broken_protected_keys_are_malformed() {
    let mut alg = der_tlv(0x06, &KEY_PROTECTOR_OID);
    alg.extend_from_slice(&[0x05, 0x00]);
    let protected = |payload: &[u8]| {
        let mut info = der_tlv(0x30, &alg);
        info.extend_from_slice(&der_tlv(0x04, payload));
        der_tlv(0x30, &info)
    };
    let short = Err(JksError::Malformed("protected key is too short"));
    assert_eq!(decrypt_key(&protected(&[0; 40]), "k"), short);
    assert_eq!(decrypt_key(&protected(&[0; 3]), "k"), short);
    assert_eq!(
        decrypt_key(&protected(&[0; 41]), "k"),
        Err(JksError::WrongKeyPassword)
    );
    let der = Err(JksError::Malformed("invalid DER in the protected key"));
    assert_eq!(decrypt_key(&[], "k"), der);
    assert_eq!(decrypt_key(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], "k"), der);
    assert_eq!(decrypt_key(&[0x30, 0x80, 0, 0], "k"), der);
    let mut trailing = protected(&[0; 41]);
    trailing.push(0);
    assert_eq!(
        decrypt_key(&trailing, "k"),
        Err(JksError::Malformed("trailing data in the protected key"))
    );
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn keytool_and_openssl_read_what_we_write() {
    let dir = tempfile::tempdir().unwrap();
    let (jks, p12) = (dir.path().join("export.jks"), dir.path().join("export.p12"));
    let sample = RsaSample::load();
    let new = sample.entry("exported-key");
    std::fs::write(&jks, write(&new, "store-secret", "key-secret", [0x5A; 20])).unwrap();

    let args = |line: &'static str| line.split(' ');
    let listing = run(Command::new("keytool")
        .args(args("-list -v -storetype JKS -storepass store-secret -keystore"))
        .arg(&jks));
    assert!(listing.contains("Alias name: exported-key"), "{listing}");
    assert!(listing.contains("Entry type: PrivateKeyEntry"), "{listing}");

    run(Command::new("keytool")
        .args(args(
            "-importkeystore -srcstoretype JKS -srcstorepass store-secret -srckeypass key-secret",
        ))
        .args(args(
            "-srcalias exported-key -deststoretype PKCS12 -deststorepass dest-secret",
        ))
        .args(args("-destkeypass dest-secret -noprompt"))
        .arg("-srckeystore")
        .arg(&jks)
        .arg("-destkeystore")
        .arg(&p12));

    let pem = run(Command::new("openssl")
        .args(args("pkcs12 -nocerts -nodes -passin pass:dest-secret -in"))
        .arg(&p12));
    assert_eq!(private_key_pem_der(&pem), new.pkcs8_der);
}

proptest! {
    #[test]
    fn read_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = read(&data, "storepass");
    }

    #[test]
    fn read_never_panics_after_a_real_header(
        version in 1u32..=2,
        rest in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut data = [MAGIC, version].iter().flat_map(|n| n.to_be_bytes()).collect::<Vec<u8>>();
        data.extend_from_slice(&rest);
        // Success would need the SHA-1 of the random bytes to appear among them.
        prop_assert!(read(&data, "storepass").is_err());
    }

    #[test]
    fn read_rejects_every_single_byte_change(index in 0usize..2146, xor in 1u8..=255) {
        let mut data = interop("sample-rsa2048.jks");
        data[index] ^= xor;
        prop_assert!(read(&data, "storepass").is_err());
    }

    #[test]
    fn decrypt_key_never_panics(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = decrypt_key(&data, "keypass");
    }

    #[test]
    fn decrypt_key_never_panics_inside_a_valid_envelope(
        payload in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut alg = der_tlv(0x06, &KEY_PROTECTOR_OID);
        alg.extend_from_slice(&[0x05, 0x00]);
        let mut info = der_tlv(0x30, &alg);
        info.extend_from_slice(&der_tlv(0x04, &payload));
        prop_assert!(decrypt_key(&der_tlv(0x30, &info), "keypass").is_err());
    }
}
