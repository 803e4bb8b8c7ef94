//! Per-request crypto of `POST /token`: `cargo bench -p keyward-bench --bench crypto`. A
//! scenario's `C` is 1 / (time of its `per_request/*` line), and its bound is `1 / (1/H + 1/C)`
//! with `H` the trivial-handler req/s.
//!
//! | bench/run.sh scenario (TOKEN_ALG)      | C is the line                       |
//! |----------------------------------------|-------------------------------------|
//! | basic, post (ES256)                    | per_request/basic_es256_token       |
//! | hs256 (ES256)                          | per_request/hs256_es256_token       |
//! | pkjwt-es256, jwksuri-es256 (ES256)     | per_request/pkjwt_es256_es256_token |
//! | pkjwt-rs256 (ES256)                    | per_request/pkjwt_rs256_es256_token |
//! | pkjwt-eddsa (ES256)                    | per_request/pkjwt_eddsa_es256_token |
//! | basic, post (RS256)                    | per_request/basic_rs256_token       |
//! | pkjwt-es256, jwksuri-es256 (RS256)     | per_request/pkjwt_es256_rs256_token |
//!
//! The parts: `secret_check` (client_secret_basic/post), `assertion_verify/*` (parse + verify
//! with a prepared verifier), `assertion_verify_cold/*` (the verifier is built from the JWK on
//! every request, as `PrivateKeyJwtMethod` did before it kept parsed keys: the difference to
//! `assertion_verify` is what that cache saves on a hit), `token_sign/*` (one access token, as
//! `keyward-server/src/access_token.rs` signs it). `per_request/*` uses the prepared verifier;
//! `hs256_*` also opens the sealed client secret (AES-256-GCM), as the server does per request.
//! Assertion checks other than the signature, the replay store, HTTP and form parsing are not
//! crypto and belong to `H` or to the server's own cost.
#![forbid(unsafe_code)]

use anyhow::{bail, Context};
use aws_lc_rs::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    hmac,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use criterion::Criterion;
use keyward_jose::{b64_encode, verify_hmac, CompactJws, JoseError, PublicJwk, SigningKey, VerifyingKey};
use keyward_types::{ClientSecret, SecretHash, SigningAlg};
use serde::Serialize;
use zeroize::Zeroizing;

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/interop/");
const ISSUER: &str = "http://keyward.bench";

fn read(name: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(format!("{INTEROP}{name}")).with_context(|| format!("read {INTEROP}{name}"))
}

fn pem_key(stem: &str, alg: SigningAlg) -> anyhow::Result<SigningKey> {
    let pem = read(&format!("sample-{stem}-private.pem"))?;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Ok(SigningKey::from_pkcs8(
        alg,
        Zeroizing::new(STANDARD.decode(body)?),
    )?)
}

/// The claims of `access_token::AccessClaims`, in its order.
#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    client_id: &'a str,
    aud: &'a str,
    scope: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

/// One access token, as the server issues it (fresh `jti`, clock read, `typ: at+jwt`).
fn issue(key: &SigningKey, client_id: &str) -> anyhow::Result<String> {
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let claims = AccessClaims {
        iss: ISSUER,
        sub: client_id,
        client_id,
        aud: ISSUER,
        scope: "read",
        iat: now,
        exp: now + 3600,
        jti: keyward_types::random::uuid()?.simple().to_string(),
    };
    Ok(key.sign_jwt("at+jwt", &claims)?)
}

/// A client assertion as `keyward-bench assertions` makes them for bench/run.sh.
fn assertion(
    client_id: &str,
    alg: SigningAlg,
    kid: Option<&str>,
    sign: impl Fn(&[u8]) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<String> {
    let now = keyward_types::Clock::now(&keyward_types::SystemClock).unix_timestamp();
    let header = match kid {
        Some(kid) => serde_json::json!({"alg": alg.as_str(), "typ": "JWT", "kid": kid}),
        None => serde_json::json!({"alg": alg.as_str(), "typ": "JWT"}),
    };
    let claims = serde_json::json!({
        "iss": client_id, "sub": client_id, "aud": ISSUER, "iat": now, "exp": now + 55,
        "jti": keyward_types::random::uuid()?.simple().to_string(),
    });
    let input = format!(
        "{}.{}",
        b64_encode(header.to_string()),
        b64_encode(claims.to_string())
    );
    let sig = sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64_encode(sig)))
}

/// A `private_key_jwt` client: its registered JWK, one assertion, and a prepared verifier.
struct KeyClient {
    alg: SigningAlg,
    jwk: PublicJwk,
    jwt: String,
    verifier: VerifyingKey,
}

impl KeyClient {
    fn load(stem: &str, alg: SigningAlg) -> anyhow::Result<Self> {
        let signer = pem_key(stem, alg)?;
        let jwk: PublicJwk = serde_json::from_str(&read(&format!("sample-{stem}-public.jwk"))?)?;
        let jwt = assertion(&format!("b-{stem}"), alg, jwk.kid.as_deref(), |m| {
            Ok(signer.sign(m)?)
        })?;
        let verifier = VerifyingKey::from_jwk(&jwk, alg)?;
        let client = Self {
            alg,
            jwk,
            jwt,
            verifier,
        };
        client.verify().context(format!("{stem}: warm"))?;
        client.verify_cold().context(format!("{stem}: cold"))?;
        Ok(client)
    }

    fn verify(&self) -> Result<(), JoseError> {
        let jws = CompactJws::parse(&self.jwt)?;
        self.verifier.verify(jws.signing_input.as_bytes(), &jws.signature)
    }

    fn verify_cold(&self) -> Result<(), JoseError> {
        let jws = CompactJws::parse(&self.jwt)?;
        VerifyingKey::from_jwk(&self.jwk, self.alg)?.verify(jws.signing_input.as_bytes(), &jws.signature)
    }
}

/// A `client_secret_jwt` client: the secret as the store keeps it (sealed under the KEK, the
/// secret's id as AAD, as `keyring.rs` does), and one HS256 assertion.
struct HmacClient {
    secret: String,
    kek: LessSafeKey,
    sealed: Vec<u8>,
    jwt: String,
}

impl HmacClient {
    fn new() -> anyhow::Result<Self> {
        let secret = ClientSecret::generate()
            .map_err(|_| anyhow::anyhow!("RNG"))?
            .expose()
            .to_owned();
        let kek =
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7; 32]).map_err(|_| anyhow::anyhow!("KEK"))?);
        let nonce = [9; NONCE_LEN];
        let mut sealed = secret.as_bytes().to_vec();
        kek.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"secret-id"),
            &mut sealed,
        )
        .map_err(|_| anyhow::anyhow!("seal"))?;
        let sealed = [nonce.as_slice(), &sealed].concat();
        let jwt = assertion("b-hs", SigningAlg::HS256, None, |m| {
            Ok(
                hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), m)
                    .as_ref()
                    .to_vec(),
            )
        })?;
        let client = Self {
            secret,
            kek,
            sealed,
            jwt,
        };
        client.verify(client.secret.as_bytes())?;
        client.unseal_and_verify()?;
        Ok(client)
    }

    fn verify(&self, secret: &[u8]) -> Result<(), JoseError> {
        let jws = CompactJws::parse(&self.jwt)?;
        verify_hmac(
            SigningAlg::HS256,
            secret,
            jws.signing_input.as_bytes(),
            &jws.signature,
        )
    }

    /// `Keyring::open` (a zeroized copy of the ciphertext, opened in place) and then the MAC.
    fn unseal_and_verify(&self) -> anyhow::Result<()> {
        let (nonce, ct) = self.sealed.split_at_checked(NONCE_LEN).context("sealed")?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("nonce"))?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain = self
            .kek
            .open_in_place(nonce, Aad::from(b"secret-id"), &mut buf)
            .map_err(|_| anyhow::anyhow!("open"))?;
        let secret = Zeroizing::new(plain.to_vec());
        Ok(self.verify(&secret)?)
    }
}

/// A `client_secret_basic`/`post` client: the stored HMAC(pepper, secret) and the presented secret.
struct SecretClient {
    pepper: hmac::Key,
    stored: SecretHash,
    presented: String,
}

impl SecretClient {
    fn new() -> anyhow::Result<Self> {
        let secret = ClientSecret::generate().map_err(|_| anyhow::anyhow!("RNG"))?;
        let pepper = hmac::Key::new(hmac::HMAC_SHA256, &[5; 32]);
        let stored = SecretHash::compute(&pepper, &secret);
        let client = Self {
            pepper,
            stored,
            presented: secret.expose().to_owned(),
        };
        client.check()?;
        Ok(client)
    }

    /// `ClientSecretMethod::verify`: HMAC of the presented secret, constant-time compare.
    fn check(&self) -> anyhow::Result<()> {
        let presented = ClientSecret::from_presented(self.presented.clone());
        if !SecretHash::compute(&self.pepper, &presented).matches(&self.stored) {
            bail!("secret mismatch");
        }
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    // Server token keys, generated as on a first start; client keys from shared/interop, as
    // bench/run.sh registers them.
    let es256 = SigningKey::generate(SigningAlg::ES256)?;
    let rs256 = SigningKey::generate(SigningAlg::RS256)?;
    let ps256 = SigningKey::generate(SigningAlg::PS256)?;
    let eddsa = SigningKey::generate(SigningAlg::EdDSA)?;
    let ec = KeyClient::load("ec256", SigningAlg::ES256)?;
    let rsa = KeyClient::load("rsa2048", SigningAlg::RS256)?;
    let ed = KeyClient::load("ed25519", SigningAlg::EdDSA)?;
    let hs = HmacClient::new()?;
    let basic = SecretClient::new()?;

    let mut c = Criterion::default().configure_from_args();

    let mut g = c.benchmark_group("token_sign");
    for (name, key) in [
        ("ES256", &es256),
        ("RS256", &rs256),
        ("PS256", &ps256),
        ("EdDSA", &eddsa),
    ] {
        issue(key, "b-basic")?;
        g.bench_function(name, |b| b.iter(|| issue(key, "b-basic")));
    }
    g.finish();

    let mut g = c.benchmark_group("assertion_verify");
    for (name, client) in [("ES256", &ec), ("RS256", &rsa), ("EdDSA", &ed)] {
        g.bench_function(name, |b| b.iter(|| client.verify()));
    }
    g.bench_function("HS256", |b| b.iter(|| hs.verify(hs.secret.as_bytes())));
    g.finish();

    let mut g = c.benchmark_group("assertion_verify_cold");
    for (name, client) in [("ES256", &ec), ("RS256", &rsa), ("EdDSA", &ed)] {
        g.bench_function(name, |b| b.iter(|| client.verify_cold()));
    }
    g.finish();

    c.bench_function("secret_check", |b| b.iter(|| basic.check()));

    // One request of each scenario: client authentication, then the access token.
    type Auth<'a> = &'a dyn Fn() -> anyhow::Result<()>;
    let requests: [(&str, Auth<'_>, &SigningKey, &str); 7] = [
        ("basic_es256_token", &|| basic.check(), &es256, "b-basic"),
        ("hs256_es256_token", &|| hs.unseal_and_verify(), &es256, "b-hs"),
        ("pkjwt_es256_es256_token", &|| Ok(ec.verify()?), &es256, "b-ec256"),
        (
            "pkjwt_rs256_es256_token",
            &|| Ok(rsa.verify()?),
            &es256,
            "b-rsa2048",
        ),
        (
            "pkjwt_eddsa_es256_token",
            &|| Ok(ed.verify()?),
            &es256,
            "b-ed25519",
        ),
        ("basic_rs256_token", &|| basic.check(), &rs256, "b-basic"),
        ("pkjwt_es256_rs256_token", &|| Ok(ec.verify()?), &rs256, "b-ec256"),
    ];
    let mut g = c.benchmark_group("per_request");
    for (name, auth, key, client_id) in requests {
        let request = || -> anyhow::Result<String> {
            auth()?;
            issue(key, client_id)
        };
        request().context(name)?;
        g.bench_function(name, |b| b.iter(request));
    }
    g.finish();

    c.final_summary();
    Ok(())
}
