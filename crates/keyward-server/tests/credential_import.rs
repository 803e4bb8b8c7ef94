//! Importing client keys over the admin API (issue #5): one test per accepted format with the
//! real files in `shared/interop/` (keytool, OpenSSL, jwcrypto), the credential's field rules,
//! end-to-end assertions with imported keys, the audit trail, the limit and duplicates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::server::*;
use keyward_types::SigningAlg;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The interop RSA-2048 key: its RFC 7638 thumbprint is the `kid` of sample-rsa2048-public.jwk.
const RSA_THUMBPRINT: &str = "2S-vW0j7ieo2BztSwpWw9p048sOMLj5VhpkzERINMl8";

/// What the certificate that came with a key must show (values read with
/// `openssl x509 -noout -subject -serial -enddate` and Python `cryptography`).
struct Cert {
    subject_cn: &'static str,
    /// Lower-case hex without leading zeros.
    serial: &'static str,
    not_after: &'static str,
}

const RSA_CERT: Cert = Cert {
    subject_cn: "CN=sample-client",
    serial: "206fa40484e41af5",
    not_after: "2036-11-19T22:44:08Z",
};

struct Expect<'a> {
    kid: &'a str,
    thumbprint: &'a str,
    /// Empty: registered without an algorithm (`null`).
    alg: &'a str,
    kty: &'a str,
    cert: Option<Cert>,
    name: Option<&'a str>,
}

/// An RSA key imported without `alg` verifies every RSA algorithm: its `alg` is `null`.
fn rsa(cert: Option<Cert>, name: Option<&'static str>) -> Expect<'static> {
    Expect {
        kid: RSA_THUMBPRINT,
        thumbprint: RSA_THUMBPRINT,
        alg: "",
        kty: "RSA",
        cert,
        name,
    }
}

/// The interop RSA JWK carries `"alg": "RS256"`, so it is registered for that one.
fn rsa_jwk() -> Expect<'static> {
    Expect {
        alg: "RS256",
        ..rsa(None, None)
    }
}

fn interop_kid(name: &str) -> String {
    interop_jwk(name)["kid"].as_str().unwrap().to_owned()
}

/// Checks one credential as the API returns it against what the input must give.
fn check_credential(c: &Value, e: &Expect<'_>) {
    assert_eq!(c["kid"], e.kid, "{c}");
    if e.alg.is_empty() {
        assert_eq!(c["alg"], Value::Null, "{c}");
    } else {
        assert_eq!(c["alg"], e.alg, "{c}");
    }
    assert_eq!(c["thumbprint"], e.thumbprint, "{c}");
    assert_eq!(c["enabled"], true, "{c}");
    assert!(!c["id"].as_str().unwrap().is_empty(), "{c}");
    assert!(c["created_at"].is_string(), "{c}");
    let jwk = &c["jwk"];
    assert_eq!(jwk["kty"], e.kty, "{c}");
    assert_eq!(
        rfc7638(jwk),
        e.thumbprint,
        "the thumbprint is RFC 7638 of the stored JWK: {c}"
    );
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert!(jwk.get(private).is_none(), "jwk carries '{private}': {c}");
    }
    match &e.name {
        Some(n) => assert_eq!(c["name"], *n, "{c}"),
        None => assert!(c["name"].is_null(), "{c}"),
    }
    match &e.cert {
        Some(cert) => {
            let info = &c["certificate"];
            let subject = info["subject"].as_str().unwrap();
            assert!(subject.contains(cert.subject_cn), "{c}");
            assert!(!info["issuer"].as_str().unwrap().is_empty(), "{c}");
            assert_eq!(
                info["serial"].as_str().unwrap().to_ascii_lowercase(),
                cert.serial,
                "{c}"
            );
            assert_eq!(info["not_after"], cert.not_after, "{c}");
            assert!(info["not_before"].is_string(), "{c}");
            assert_eq!(
                c["expires_at"], cert.not_after,
                "expires_at defaults to notAfter: {c}"
            );
        }
        None => {
            assert!(c.get("certificate").is_none(), "no certificate was given: {c}");
            assert!(c["expires_at"].is_null(), "{c}");
        }
    }
}

/// Imports `body` into `id` and asserts 201, the credentials' fields, that the list now holds
/// them, and that the import was audited with their thumbprints and without `secrets`.
async fn import_ok(
    srv: &TestServer,
    id: &str,
    body: Value,
    expect: &[Expect<'_>],
    secrets: &[&str],
) -> Vec<Value> {
    let before = credential_list(srv, id).await;
    let (status, resp) = import(srv, id, body).await;
    assert_eq!(status, StatusCode::CREATED, "{resp}");
    let created = resp["credentials"].as_array().unwrap().clone();
    assert_eq!(created.len(), expect.len(), "{resp}");
    for (c, e) in created.iter().zip(expect) {
        check_credential(c, e);
    }
    let text = resp.to_string();
    for s in secrets {
        assert!(!text.contains(s), "the response repeats a password: {text}");
    }
    // The list shows exactly what was created, after what was there.
    let after = credential_list(srv, id).await;
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), before.as_array().unwrap().len() + created.len());
    for c in &created {
        assert_eq!(
            after.iter().filter(|x| *x == c).count(),
            1,
            "{c} not listed in {after:?}"
        );
    }
    // Audited with every thumbprint, and no password anywhere in the log.
    let (events, log) = audit_log(srv).await;
    let event = events
        .iter()
        .find(|e| e["action"] == "credential.create" && e["target"] == id && e["outcome"] == "success")
        .expect("credential.create audited");
    let audited: Vec<&Value> = event["detail"]["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["thumbprint"])
        .collect();
    let returned: Vec<&Value> = created.iter().map(|c| &c["thumbprint"]).collect();
    assert_eq!(audited, returned, "{event}");
    for s in secrets {
        assert!(!log.contains(s), "the audit log holds a password");
    }
    created
}

async fn one(srv: &TestServer, id: &str, body: Value, expect: Expect<'_>, secrets: &[&str]) -> Value {
    empty_key_client(srv, id).await;
    import_ok(srv, id, body, &[expect], secrets).await.remove(0)
}

/// An RS256 (or `alg`) assertion by the interop RSA key with header `kid`.
fn rsa_assertion(srv: &TestServer, id: &str, kid: &str, alg: SigningAlg) -> String {
    let key = interop_key("rsa2048", alg);
    sign_jws(&key, &json!({"alg": alg.as_str(), "kid": kid}), &srv.claims(id))
}

async fn assert_token(srv: &TestServer, assertion: &str, id: &str) {
    assert_token_for(srv.token_assertion(assertion, &[]).await, id).await;
}

// ---- setup ----

#[tokio::test]
async fn private_key_jwt_client_can_be_created_without_keys() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "no-keys").await;
    assert_eq!(credential_list(&srv, "no-keys").await, json!([]));
}

// ---- accepted formats ----

#[tokio::test]
async fn imports_rsa_certificate_pem() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")});
    one(&srv, "pem-rsa", body, rsa(Some(RSA_CERT), None), &[]).await;
}

#[tokio::test]
async fn imports_ec_p256_certificate_pem() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-ec256-cert.pem")});
    let kid = interop_kid("ec256");
    let expect = Expect {
        kid: &kid,
        thumbprint: &kid,
        alg: "ES256",
        kty: "EC",
        cert: Some(Cert {
            subject_cn: "CN=sample-ec-client",
            serial: "a63575e3f842c2a5fac0673100cd2774b433846",
            not_after: "2036-11-19T22:44:09Z",
        }),
        name: None,
    };
    let c = one(&srv, "pem-ec256", body, expect, &[]).await;
    assert_eq!(c["jwk"]["crv"], "P-256");
}

#[tokio::test]
async fn imports_ec_p384_certificate_pem() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-ec384-cert.pem")});
    // RFC 7638 thumbprint of the certificate's key, computed with Python `cryptography`.
    let thumb = "DRyPKEAbTHetZc6LR5n9nCr4QW_BjDshtA0Pkl-WHXg";
    let expect = Expect {
        kid: thumb,
        thumbprint: thumb,
        alg: "ES384",
        kty: "EC",
        cert: Some(Cert {
            subject_cn: "CN=sample-p384",
            serial: "4faff7998ae541fd591eb99d6233ec73b86c6d1f",
            not_after: "2036-11-20T07:52:31Z",
        }),
        name: None,
    };
    let c = one(&srv, "pem-ec384", body, expect, &[]).await;
    assert_eq!(c["jwk"]["crv"], "P-384");
    // And the key verifies an ES384 assertion signed by its private half.
    let key = interop_key("ec384", SigningAlg::ES384);
    let assertion = sign_jws(
        &key,
        &json!({"alg": "ES384", "kid": thumb}),
        &srv.claims("pem-ec384"),
    );
    assert_token(&srv, &assertion, "pem-ec384").await;
}

#[tokio::test]
async fn imports_ed25519_certificate_pem() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-ed25519-cert.pem")});
    let kid = interop_kid("ed25519");
    let expect = Expect {
        kid: &kid,
        thumbprint: &kid,
        alg: "EdDSA",
        kty: "OKP",
        cert: Some(Cert {
            subject_cn: "CN=sample-ed-client",
            serial: "4cb8a10f1a4553ce09b2398940edfdbfcbce5612",
            not_after: "2036-11-19T22:44:09Z",
        }),
        name: None,
    };
    let c = one(&srv, "pem-ed", body, expect, &[]).await;
    assert_eq!(c["jwk"]["crv"], "Ed25519");
}

#[tokio::test]
async fn imports_rsa_certificate_der_base64() {
    let srv = TestServer::start().await;
    let body = json!({"format": "der", "data": interop_b64("sample-rsa2048-cert.der")});
    one(&srv, "der-rsa", body, rsa(Some(RSA_CERT), None), &[]).await;
}

#[tokio::test]
async fn imports_spki_public_key_pem() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-public-spki.pem")});
    let c = one(&srv, "spki", body, rsa(None, None), &[]).await;
    assert_eq!(c["jwk"]["n"], interop_jwk("rsa2048")["n"]);
}

#[tokio::test]
async fn imports_pkcs1_rsa_public_key_pem() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-public-pkcs1.pem")});
    let c = one(&srv, "pkcs1", body, rsa(None, None), &[]).await;
    assert_eq!(c["jwk"]["n"], interop_jwk("rsa2048")["n"]);
    assert_eq!(c["jwk"]["e"], "AQAB");
}

#[tokio::test]
async fn imports_jwk() {
    let srv = TestServer::start().await;
    let body = json!({"format": "jwk", "data": interop_text("sample-rsa2048-public.jwk")});
    one(&srv, "jwk", body, rsa_jwk(), &[]).await;
}

#[tokio::test]
async fn imports_jwks_one_credential_per_key() {
    let srv = TestServer::start_with(|c| c.max_credentials_per_client = 5).await;
    empty_key_client(&srv, "jwks").await;
    let (ec, ed) = (interop_kid("ec256"), interop_kid("ed25519"));
    let expect = [
        rsa_jwk(),
        Expect {
            kid: &ec,
            thumbprint: &ec,
            alg: "ES256",
            kty: "EC",
            cert: None,
            name: None,
        },
        Expect {
            kid: &ed,
            thumbprint: &ed,
            alg: "EdDSA",
            kty: "OKP",
            cert: None,
            name: None,
        },
    ];
    let body = json!({"format": "jwks", "data": interop_text("sample-jwks.json")});
    let created = import_ok(&srv, "jwks", body, &expect, &[]).await;
    assert_eq!(credential_list(&srv, "jwks").await.as_array().unwrap().len(), 3);
    let ids: std::collections::HashSet<&str> = created.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "each key is its own credential");
}

#[tokio::test]
async fn imports_pkcs12_written_by_keytool() {
    let srv = TestServer::start().await;
    let body =
        json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12"), "password": STOREPASS});
    one(
        &srv,
        "p12-keytool",
        body,
        rsa(Some(RSA_CERT), Some("clientkey")),
        &[STOREPASS],
    )
    .await;
}

#[tokio::test]
async fn imports_pkcs12_written_by_openssl_aes() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-openssl-aes.p12"), "password": STOREPASS});
    one(
        &srv,
        "p12-aes",
        body,
        rsa(Some(RSA_CERT), Some("clientkey")),
        &[STOREPASS],
    )
    .await;
}

#[tokio::test]
async fn imports_pkcs12_written_by_openssl_legacy() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-openssl-legacy.p12"), "password": STOREPASS});
    one(
        &srv,
        "p12-legacy",
        body,
        rsa(Some(RSA_CERT), Some("clientkey")),
        &[STOREPASS],
    )
    .await;
}

#[tokio::test]
async fn imports_jks_rsa_with_key_password() {
    let srv = TestServer::start().await;
    let body = json!({"format": "jks", "data": interop_b64("sample-rsa2048.jks"), "password": STOREPASS, "key_password": KEYPASS});
    one(
        &srv,
        "jks-rsa",
        body,
        rsa(Some(RSA_CERT), Some("clientkey")),
        &[STOREPASS, KEYPASS],
    )
    .await;
}

#[tokio::test]
async fn imports_jks_ec() {
    let srv = TestServer::start().await;
    let body = json!({"format": "jks", "data": interop_b64("sample-ec256.jks"), "password": STOREPASS, "key_password": KEYPASS});
    // The JKS holds its own P-256 key (not sample-ec256-private.pem); thumbprint and serial
    // read with keytool -exportcert and Python `cryptography`.
    let thumb = "u89JOBCbRB97GSb5SPWeICCVyn9ZWqXKEXbpsk5tZJQ";
    let expect = Expect {
        kid: thumb,
        thumbprint: thumb,
        alg: "ES256",
        kty: "EC",
        cert: Some(Cert {
            subject_cn: "CN=sample-client",
            serial: "36b643113999fe1d",
            not_after: "2036-11-19T22:44:08Z",
        }),
        name: Some("clientkey-ec"),
    };
    one(&srv, "jks-ec", body, expect, &[STOREPASS, KEYPASS]).await;
}

#[tokio::test]
async fn imports_jks_entry_by_alias() {
    let srv = TestServer::start().await;
    let body = json!({
        "format": "jks", "data": interop_b64("sample-multi.jks"),
        "password": STOREPASS, "key_password": KEYPASS, "alias": "second-key",
    });
    let thumb = "GeCe7o0rKxw3CKi61aygSxk6YyL4C2plOr44mTg14M4";
    let expect = Expect {
        kid: thumb,
        thumbprint: thumb,
        alg: "ES256",
        kty: "EC",
        cert: Some(Cert {
            subject_cn: "CN=sample-second",
            serial: "f3754248e5948974",
            not_after: "2036-11-20T07:52:32Z",
        }),
        name: Some("second-key"),
    };
    one(&srv, "jks-multi", body, expect, &[STOREPASS, KEYPASS]).await;
}

// ---- field rules ----

#[tokio::test]
async fn given_kid_overrides_the_thumbprint() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "kid": "build-2026"});
    let expect = Expect {
        kid: "build-2026",
        ..rsa(Some(RSA_CERT), None)
    };
    let c = one(&srv, "kid", body, expect, &[]).await;
    assert_eq!(c["jwk"]["kid"], "build-2026");
    let assertion = rsa_assertion(&srv, "kid", "build-2026", SigningAlg::RS256);
    assert_token(&srv, &assertion, "kid").await;
}

#[tokio::test]
async fn given_kid_overrides_the_jwk_kid() {
    let srv = TestServer::start().await;
    let body = json!({"format": "jwk", "data": interop_text("sample-rsa2048-public.jwk"), "kid": "renamed"});
    let expect = Expect {
        kid: "renamed",
        ..rsa_jwk()
    };
    one(&srv, "kid-jwk", body, expect, &[]).await;
}

#[tokio::test]
async fn accepts_ps256_for_an_rsa_key() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "alg": "PS256"});
    let expect = Expect {
        alg: "PS256",
        ..rsa(Some(RSA_CERT), None)
    };
    let c = one(&srv, "ps256", body, expect, &[]).await;
    assert_eq!(c["jwk"]["alg"], "PS256");
    let assertion = rsa_assertion(&srv, "ps256", RSA_THUMBPRINT, SigningAlg::PS256);
    assert_token(&srv, &assertion, "ps256").await;
}

#[tokio::test]
async fn given_expires_at_is_used() {
    let srv = TestServer::start().await;
    let at = rfc3339_from_now(&srv, 30 * 86_400);
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "expires_at": at});
    empty_key_client(&srv, "exp-given").await;
    let (status, resp) = import(&srv, "exp-given", body).await;
    assert_eq!(status, StatusCode::CREATED, "{resp}");
    let c = &resp["credentials"][0];
    assert_eq!(c["expires_at"], at.as_str());
    assert_eq!(c["certificate"]["not_after"], RSA_CERT.not_after);
    assert_eq!(
        credential_list(&srv, "exp-given").await[0]["expires_at"],
        at.as_str()
    );
}

#[tokio::test]
async fn given_expires_at_is_used_for_a_key_without_certificate() {
    let srv = TestServer::start().await;
    let at = rfc3339_from_now(&srv, 3600);
    let body = json!({"format": "jwk", "data": interop_text("sample-rsa2048-public.jwk"), "expires_at": at});
    empty_key_client(&srv, "exp-jwk").await;
    let (status, resp) = import(&srv, "exp-jwk", body).await;
    assert_eq!(status, StatusCode::CREATED, "{resp}");
    assert_eq!(resp["credentials"][0]["expires_at"], at.as_str());
}

#[tokio::test]
async fn given_name_is_used_over_the_alias() {
    let srv = TestServer::start().await;
    let body = json!({
        "format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12"),
        "password": STOREPASS, "name": "build server",
    });
    one(
        &srv,
        "named",
        body,
        rsa(Some(RSA_CERT), Some("build server")),
        &[STOREPASS],
    )
    .await;
}

#[tokio::test]
async fn given_name_is_used_for_a_certificate() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "name": "partner"});
    one(&srv, "named-pem", body, rsa(Some(RSA_CERT), Some("partner")), &[]).await;
}

// ---- end to end ----

#[tokio::test]
async fn assertion_signed_with_imported_certificate_key_gets_token() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")});
    let c = one(&srv, "e2e-pem", body, rsa(Some(RSA_CERT), None), &[]).await;
    let assertion = rsa_assertion(&srv, "e2e-pem", c["kid"].as_str().unwrap(), SigningAlg::RS256);
    assert_token(&srv, &assertion, "e2e-pem").await;
}

#[tokio::test]
async fn assertion_signed_with_key_from_imported_pkcs12_gets_token() {
    let srv = TestServer::start().await;
    let body =
        json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12"), "password": STOREPASS});
    let c = one(
        &srv,
        "e2e-p12",
        body,
        rsa(Some(RSA_CERT), Some("clientkey")),
        &[STOREPASS],
    )
    .await;
    let assertion = rsa_assertion(&srv, "e2e-p12", c["kid"].as_str().unwrap(), SigningAlg::RS256);
    assert_token(&srv, &assertion, "e2e-p12").await;
}

#[tokio::test]
async fn disabled_imported_credential_never_verifies() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")});
    let c = one(&srv, "e2e-off", body, rsa(Some(RSA_CERT), None), &[]).await;
    let (status, patched) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/e2e-off/credentials/{}", c["id"].as_str().unwrap()),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["enabled"], false);
    let (before, replay) = (srv.snapshot().await, srv.replay_entries().await);
    let assertion = rsa_assertion(&srv, "e2e-off", RSA_THUMBPRINT, SigningAlg::RS256);
    assert_invalid_client(srv.token_assertion(&assertion, &[]).await, false).await;
    // Without a kid either.
    let key = interop_key("rsa2048", SigningAlg::RS256);
    let bare = sign_jws(&key, &json!({"alg": "RS256"}), &srv.claims("e2e-off"));
    assert_invalid_client(srv.token_assertion(&bare, &[]).await, false).await;
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(srv.replay_entries().await, replay);
}

#[tokio::test]
async fn imported_credential_past_expires_at_never_verifies() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "e2e-exp").await;
    let at = rfc3339_from_now(&srv, 60);
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem"), "expires_at": at});
    let (status, resp) = import(&srv, "e2e-exp", body).await;
    assert_eq!(status, StatusCode::CREATED, "{resp}");
    let assertion = rsa_assertion(&srv, "e2e-exp", RSA_THUMBPRINT, SigningAlg::RS256);
    assert_token(&srv, &assertion, "e2e-exp").await;
    srv.clock.advance(time::Duration::seconds(61));
    let (before, replay) = (srv.snapshot().await, srv.replay_entries().await);
    let assertion = rsa_assertion(&srv, "e2e-exp", RSA_THUMBPRINT, SigningAlg::RS256);
    assert_invalid_client(srv.token_assertion(&assertion, &[]).await, false).await;
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(srv.replay_entries().await, replay);
}

#[tokio::test]
async fn imported_credential_past_certificate_not_after_never_verifies() {
    let srv = TestServer::start().await;
    let body = json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")});
    one(&srv, "e2e-cert-exp", body, rsa(Some(RSA_CERT), None), &[]).await;
    // Past 2036-11-19T22:44:08Z, the certificate's notAfter and so the credential's expires_at.
    let not_after =
        time::OffsetDateTime::parse(RSA_CERT.not_after, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(srv.clock_now()).unwrap();
    srv.clock.advance(not_after - now + time::Duration::seconds(1));
    let assertion = rsa_assertion(&srv, "e2e-cert-exp", RSA_THUMBPRINT, SigningAlg::RS256);
    assert_invalid_client(srv.token_assertion(&assertion, &[]).await, false).await;
}

// ---- audit ----

#[tokio::test]
async fn every_import_is_audited_with_thumbprint_and_no_password() {
    let srv = TestServer::start().await;
    let cases = [
        (
            "aud-pem",
            json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")}),
        ),
        (
            "aud-p12",
            json!({"format": "pkcs12", "data": interop_b64("sample-rsa2048-keytool.p12"), "password": STOREPASS}),
        ),
        (
            "aud-jks",
            json!({"format": "jks", "data": interop_b64("sample-rsa2048.jks"), "password": STOREPASS, "key_password": KEYPASS}),
        ),
    ];
    for (id, body) in cases {
        empty_key_client(&srv, id).await;
        let (status, resp) = import(&srv, id, body).await;
        assert_eq!(status, StatusCode::CREATED, "{resp}");
    }
    let (events, log) = audit_log(&srv).await;
    for id in ["aud-pem", "aud-p12", "aud-jks"] {
        let created: Vec<&Value> = events
            .iter()
            .filter(|e| e["action"] == "credential.create" && e["target"] == id)
            .collect();
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0]["outcome"], "success");
        assert_eq!(
            created[0]["detail"]["credentials"][0]["thumbprint"],
            RSA_THUMBPRINT
        );
        assert_eq!(created[0]["actor"], ADMIN_ID);
    }
    assert!(!log.contains(STOREPASS) && !log.contains(KEYPASS), "{log}");
}

// ---- limit and duplicates ----

#[tokio::test]
async fn third_import_over_the_default_limit_is_refused() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "limit").await;
    for file in ["sample-rsa2048-cert.pem", "sample-ec256-cert.pem"] {
        let (status, resp) = import(
            &srv,
            "limit",
            json!({"format": "pem", "data": interop_text(file)}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{resp}");
    }
    let (before, list) = (srv.snapshot().await, credential_list(&srv, "limit").await);
    let body = json!({"format": "pem", "data": interop_text("sample-ed25519-cert.pem")});
    let (status, resp) = import(&srv, "limit", body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{resp}");
    assert_eq!(resp["error"], "conflict");
    assert_eq!(resp["reason"], "credential_limit");
    assert!(
        resp["error_description"].as_str().unwrap().contains('2'),
        "{resp}"
    );
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(credential_list(&srv, "limit").await, list);
}

#[tokio::test]
async fn jwks_over_the_limit_imports_none() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "limit-set").await;
    let (before, list) = (srv.snapshot().await, credential_list(&srv, "limit-set").await);
    let body = json!({"format": "jwks", "data": interop_text("sample-jwks.json")});
    let (status, resp) = import(&srv, "limit-set", body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{resp}");
    assert_eq!(resp["reason"], "credential_limit");
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(credential_list(&srv, "limit-set").await, list);
}

#[tokio::test]
async fn same_key_twice_is_a_conflict() {
    let srv = TestServer::start().await;
    empty_key_client(&srv, "dup").await;
    let (status, resp) = import(
        &srv,
        "dup",
        json!({"format": "pem", "data": interop_text("sample-rsa2048-cert.pem")}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{resp}");
    let (before, list) = (srv.snapshot().await, credential_list(&srv, "dup").await);
    // The JWK of the same key, once with its own kid and once renamed: the thumbprint decides.
    for body in [
        json!({"format": "jwk", "data": interop_text("sample-rsa2048-public.jwk")}),
        json!({"format": "jwk", "data": interop_text("sample-rsa2048-public.jwk"), "kid": "another-name"}),
    ] {
        let (status, resp) = import(&srv, "dup", body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{resp}");
        assert_eq!(resp["error"], "conflict");
        assert_eq!(resp["reason"], "duplicate_key");
        assert_eq!(srv.snapshot().await, before);
        assert_eq!(credential_list(&srv, "dup").await, list);
    }
}
