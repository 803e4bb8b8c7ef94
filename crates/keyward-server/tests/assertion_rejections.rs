//! Every client-assertion rule of DESIGN.md "Client assertion rules", each broken on its own over
//! HTTP: the answer (401 `invalid_client`, or 400 `invalid_request` for a malformed request), the
//! reason counter, and that nothing was stored — no client change, no replay entry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_jose::{b64_encode, SigningKey};
use keyward_testkit::server::*;
use keyward_types::SigningAlg;
use reqwest::StatusCode;
use serde_json::{json, Value};

// ---- helpers ----

/// What a rejected request must leave untouched, and the reason counter it must raise.
struct Unchanged {
    snapshot: String,
    replay: u64,
    reason: Option<(&'static str, u64)>,
}

impl Unchanged {
    /// Records the state before a request that must be refused for `reason` (a code of
    /// `AuthFailure::code`), or `None` for a `400 invalid_request`, which is not counted.
    async fn take(srv: &TestServer, reason: Option<&'static str>) -> Self {
        let reason = match reason {
            Some(r) => Some((r, srv.auth_failures(r).await)),
            None => None,
        };
        Self {
            snapshot: srv.snapshot().await,
            replay: srv.replay_entries().await,
            reason,
        }
    }

    async fn check(&self, srv: &TestServer) {
        assert_eq!(
            srv.snapshot().await,
            self.snapshot,
            "a rejected request changed storage"
        );
        assert_eq!(
            srv.replay_entries().await,
            self.replay,
            "a rejected request left a replay entry"
        );
        if let Some((reason, before)) = self.reason {
            // Metrics are process-global and tests run in parallel: the counter only has to
            // have moved, and another test can only move it up.
            let after = srv.auth_failures(reason).await;
            assert!(
                after > before,
                "keyward_client_auth_failures_total{{reason=\"{reason}\"}} did not rise ({before} → {after})"
            );
        }
    }
}

/// Sends `assertion`, expects `401 invalid_client` for `reason`, and that nothing was stored.
async fn expect_invalid_client(srv: &TestServer, assertion: &str, reason: &'static str) {
    let guard = Unchanged::take(srv, Some(reason)).await;
    assert_invalid_client(srv.token_assertion(assertion, &[]).await, false).await;
    guard.check(srv).await;
}

/// `POST /token` with exactly this form and no other client authentication.
async fn post_form(srv: &TestServer, form: &[(&str, &str)]) -> reqwest::Response {
    srv.http.post(srv.url("/token")).form(form).send().await.unwrap()
}

/// `claims` signed ES256 by the interop EC key, with its registered kid.
fn ec_assertion(claims: &Value) -> String {
    sign_jws(&ec_key(), &json!({"alg": "ES256", "kid": ec_kid()}), claims)
}

// ---- the request ----

#[tokio::test]
async fn rejects_wrong_client_assertion_type() {
    let srv = TestServer::start().await;
    ec_client(&srv, "type").await;
    let a = ec_assertion(&srv.claims("type"));
    for kind in [
        "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "",
    ] {
        let guard = Unchanged::take(&srv, Some("assertion.type_invalid")).await;
        let resp = post_form(
            &srv,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", kind),
                ("client_assertion", &a),
            ],
        )
        .await;
        assert_invalid_client(resp, false).await;
        guard.check(&srv).await;
    }
    // The very same assertion with the right type is good: the type alone was refused.
    assert_token_for(srv.token_assertion(&a, &[]).await, "type").await;
}

#[tokio::test]
async fn rejects_client_assertion_without_its_type() {
    let srv = TestServer::start().await;
    ec_client(&srv, "notype").await;
    let a = ec_assertion(&srv.claims("notype"));
    let guard = Unchanged::take(&srv, None).await;
    let resp = post_form(
        &srv,
        &[("grant_type", "client_credentials"), ("client_assertion", &a)],
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    guard.check(&srv).await;
}

// ---- the JWS framing ----

#[tokio::test]
async fn rejects_assertion_that_is_not_a_jwt() {
    let srv = TestServer::start().await;
    ec_client(&srv, "notjwt").await;
    for junk in ["abc", "a.b", "a.b.c.d", ""] {
        expect_invalid_client(&srv, junk, "assertion.malformed").await;
    }
}

#[tokio::test]
async fn rejects_assertion_with_bad_base64_in_a_part() {
    let srv = TestServer::start().await;
    ec_client(&srv, "b64").await;
    let good = ec_assertion(&srv.claims("b64"));
    let parts: Vec<&str> = good.split('.').collect();
    let (h, c, s) = (parts[0], parts[1], parts[2]);
    for broken in [
        format!("{h}!.{c}.{s}"),
        format!("{h}.{c}*.{s}"),
        format!("{h}.{c}.{s}$$"),
        // Padding is not part of JOSE base64url.
        format!("{h}=.{c}.{s}"),
        // Standard (not URL-safe) alphabet.
        format!("{h}.{c}.{}", s.replace('-', "+").replace('_', "/") + "+/"),
    ] {
        expect_invalid_client(&srv, &broken, "assertion.malformed").await;
    }
}

#[tokio::test]
async fn rejects_assertion_with_bad_json_in_header() {
    let srv = TestServer::start().await;
    ec_client(&srv, "badhdr").await;
    let claims = srv.claims("badhdr").to_string();
    for header in [
        r#"{"alg":"ES256","#,
        "not json",
        r#"{"kid":"x"}"#,
        r#"{"alg":"ES256","alg":"ES256"}"#,
    ] {
        expect_invalid_client(&srv, &sign_raw(&ec_key(), header, &claims), "assertion.malformed").await;
    }
}

/// RFC 7515 §4: the JOSE header is a JSON object. An array holding the same values is not a
/// header, even with a genuine signature.
#[tokio::test]
async fn rejects_header_that_is_a_json_array() {
    let srv = TestServer::start().await;
    ec_client(&srv, "arrhdr").await;
    for header in [
        format!(r#"["ES256",{}]"#, json!(ec_kid())),
        r#"["ES256"]"#.to_owned(),
    ] {
        let claims = srv.claims("arrhdr").to_string();
        expect_invalid_client(
            &srv,
            &sign_raw(&ec_key(), &header, &claims),
            "assertion.malformed",
        )
        .await;
    }
}

#[tokio::test]
async fn rejects_assertion_with_bad_json_in_claims() {
    let srv = TestServer::start().await;
    ec_client(&srv, "badclaims").await;
    let header = json!({"alg": "ES256", "kid": ec_kid()}).to_string();
    let good = srv.claims("badclaims").to_string();
    for claims in [&good[..good.len() - 1], "not json", r#"["badclaims"]"#, "null"] {
        expect_invalid_client(&srv, &sign_raw(&ec_key(), &header, claims), "assertion.malformed").await;
    }
}

// ---- the header ----

#[tokio::test]
async fn rejects_alg_none() {
    let srv = TestServer::start().await;
    ec_client(&srv, "none").await;
    for alg in ["none", "None", "NONE"] {
        let unsigned = format!(
            "{}.{}.",
            b64_encode(json!({"alg": alg, "kid": ec_kid()}).to_string()),
            b64_encode(srv.claims("none").to_string())
        );
        expect_invalid_client(&srv, &unsigned, "assertion.alg_none").await;
    }
}

#[tokio::test]
async fn rejects_alg_other_than_the_clients_pinned_alg() {
    let srv = TestServer::start().await;
    // A client pinned to ES256 cannot even register an RSA key (the key must fit the pinned
    // alg), so it holds the EC key and the assertion comes RS256-signed by the RSA key.
    srv.key_client(
        "pin-es",
        &[interop_jwk("ec256")],
        json!({"token_endpoint_auth_signing_alg": "ES256"}),
    )
    .await;
    let rsa = interop_key("rsa2048", SigningAlg::RS256);
    let a = sign_jws(
        &rsa,
        &json!({"alg": "RS256", "kid": interop_jwk("rsa2048")["kid"]}),
        &srv.claims("pin-es"),
    );
    expect_invalid_client(&srv, &a, "assertion.alg_not_allowed").await;
    // EdDSA is on the server's list but not the client's pin either.
    let ed = interop_key("ed25519", SigningAlg::EdDSA);
    let a = sign_jws(&ed, &json!({"alg": "EdDSA"}), &srv.claims("pin-es"));
    expect_invalid_client(&srv, &a, "assertion.alg_not_allowed").await;
}

#[tokio::test]
async fn rejects_rs256_signature_by_a_registered_rsa_key_pinned_to_ps256() {
    let srv = TestServer::start().await;
    let kid = interop_jwk("rsa2048")["kid"].clone();
    srv.key_client(
        "pin-ps",
        &[interop_jwk("rsa2048")],
        json!({"token_endpoint_auth_signing_alg": "PS256"}),
    )
    .await;
    // The registered key would verify this RS256 signature; the pin refuses it first.
    let rs = interop_key("rsa2048", SigningAlg::RS256);
    let a = sign_jws(&rs, &json!({"alg": "RS256", "kid": kid}), &srv.claims("pin-ps"));
    expect_invalid_client(&srv, &a, "assertion.alg_not_allowed").await;
    let ps = interop_key("rsa2048", SigningAlg::PS256);
    let a = sign_jws(&ps, &json!({"alg": "PS256", "kid": kid}), &srv.claims("pin-ps"));
    assert_token_for(srv.token_assertion(&a, &[]).await, "pin-ps").await;
}

#[tokio::test]
async fn rejects_alg_outside_the_servers_list() {
    let srv = TestServer::start_with(|c| c.assertion_signing_algs = vec![SigningAlg::ES256]).await;
    let jwk = interop_jwk("ed25519");
    srv.key_client("ed", std::slice::from_ref(&jwk), json!({})).await;
    let ed = interop_key("ed25519", SigningAlg::EdDSA);
    let a = sign_jws(
        &ed,
        &json!({"alg": "EdDSA", "kid": jwk["kid"]}),
        &srv.claims("ed"),
    );
    expect_invalid_client(&srv, &a, "assertion.alg_not_allowed").await;
    // ES256, which the server allows, works on the same server.
    ec_client(&srv, "es").await;
    assert_token_for(
        srv.token_assertion(&ec_assertion(&srv.claims("es")), &[]).await,
        "es",
    )
    .await;
}

#[tokio::test]
async fn rejects_hmac_assertion_keyed_with_the_clients_public_key() {
    let srv = TestServer::start().await;
    let jwk = interop_jwk("rsa2048");
    srv.key_client("confused", std::slice::from_ref(&jwk), json!({}))
        .await;
    let (_, registered) = srv
        .admin(reqwest::Method::GET, "/admin/clients/confused", None)
        .await;
    let published = registered["jwks"]["keys"][0].to_string();
    assert!(published.contains(jwk["n"].as_str().unwrap()));
    let secrets: Vec<Vec<u8>> = vec![
        std::fs::read(interop("sample-rsa2048-public.jwk")).unwrap(),
        jwk.to_string().into_bytes(),
        published.into_bytes(),
        std::fs::read(interop("sample-rsa2048-public-spki.pem")).unwrap(),
        std::fs::read(interop("sample-rsa2048-public-pkcs1.pem")).unwrap(),
    ];
    for secret in &secrets {
        for header in [
            json!({"alg": "HS256", "kid": jwk["kid"]}),
            json!({"alg": "HS256", "typ": "JWT"}),
        ] {
            let a = sign_hmac(secret, &header, &srv.claims("confused"));
            expect_invalid_client(&srv, &a, "assertion.alg_not_allowed").await;
        }
    }
}

#[tokio::test]
async fn rejects_rs256_assertion_for_client_secret_jwt_client() {
    let srv = TestServer::start().await;
    let (id, _) = srv.secret_jwt_client("hs-only", json!({})).await;
    let rsa = interop_key("rsa2048", SigningAlg::RS256);
    let a = sign_jws(
        &rsa,
        &json!({"alg": "RS256", "kid": interop_jwk("rsa2048")["kid"]}),
        &srv.claims(&id),
    );
    expect_invalid_client(&srv, &a, "assertion.alg_not_allowed").await;
}

#[tokio::test]
async fn rejects_typ_of_an_access_token() {
    let srv = TestServer::start().await;
    ec_client(&srv, "typ").await;
    for typ in ["at+jwt", "application/at+jwt", "JWS", "id_token+jwt"] {
        let a = sign_jws(
            &ec_key(),
            &json!({"alg": "ES256", "kid": ec_kid(), "typ": typ}),
            &srv.claims("typ"),
        );
        expect_invalid_client(&srv, &a, "assertion.typ_invalid").await;
    }
    let a = sign_jws(
        &ec_key(),
        &json!({"alg": "ES256", "kid": ec_kid(), "typ": "client-authentication+jwt"}),
        &srv.claims("typ"),
    );
    assert_token_for(srv.token_assertion(&a, &[]).await, "typ").await;
}

// ---- iss, sub, client_id ----

#[tokio::test]
async fn rejects_iss_other_than_client_id() {
    let srv = TestServer::start().await;
    ec_client(&srv, "me").await;
    ec_client(&srv, "someone").await;
    let mut claims = srv.claims("me");
    claims["iss"] = json!("someone");
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.iss_mismatch").await;
    claims["iss"] = json!(null);
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.iss_mismatch").await;
    claims.as_object_mut().unwrap().remove("iss");
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.iss_mismatch").await;
}

#[tokio::test]
async fn rejects_sub_naming_another_client() {
    let srv = TestServer::start().await;
    ec_client(&srv, "attacker").await;
    srv.key_client("victim", &[interop_jwk("ed25519")], json!({}))
        .await;
    // iss names the signer, sub the victim: the client is found by sub, whose key did not sign,
    // and whose id is not iss.
    let mut claims = srv.claims("attacker");
    claims["sub"] = json!("victim");
    let guard = Unchanged::take(&srv, None).await;
    assert_invalid_client(srv.token_assertion(&ec_assertion(&claims), &[]).await, false).await;
    guard.check(&srv).await;
}

#[tokio::test]
async fn rejects_client_id_parameter_differing_from_sub() {
    let srv = TestServer::start().await;
    ec_client(&srv, "subject").await;
    ec_client(&srv, "other").await;
    let a = ec_assertion(&srv.claims("subject"));
    let guard = Unchanged::take(&srv, None).await;
    let resp = srv.token_assertion(&a, &[("client_id", "other")]).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    guard.check(&srv).await;
    // A matching client_id is fine, and the assertion was not spent by the refused request.
    assert_token_for(
        srv.token_assertion(&a, &[("client_id", "subject")]).await,
        "subject",
    )
    .await;
}

// ---- aud ----

#[tokio::test]
async fn rejects_missing_aud() {
    let srv = TestServer::start().await;
    ec_client(&srv, "noaud").await;
    let mut claims = srv.claims("noaud");
    claims.as_object_mut().unwrap().remove("aud");
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.aud_missing").await;
}

#[tokio::test]
async fn rejects_foreign_aud() {
    let srv = TestServer::start().await;
    ec_client(&srv, "foreign").await;
    for aud in [
        json!("https://other-server.example"),
        json!(format!("{}/", srv.base)),
        json!(srv.base.replace("127.0.0.1", "localhost")),
        json!(["https://other-server.example"]),
        json!(42),
    ] {
        let mut claims = srv.claims("foreign");
        claims["aud"] = aud;
        expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.aud_mismatch").await;
    }
}

#[tokio::test]
async fn rejects_token_endpoint_aud_without_legacy_flag() {
    let srv = TestServer::start().await;
    ec_client(&srv, "modern").await;
    let mut claims = srv.claims("modern");
    claims["aud"] = json!(srv.url("/token"));
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.aud_mismatch").await;
}

#[tokio::test]
async fn rejects_aud_array_with_an_extra_value() {
    let srv = TestServer::start().await;
    ec_client(&srv, "multi").await;
    for aud in [
        json!([srv.base, "https://other-server.example"]),
        json!(["https://other-server.example", srv.base]),
        json!([srv.base, srv.base]),
    ] {
        let mut claims = srv.claims("multi");
        claims["aud"] = aud;
        expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.aud_mismatch").await;
    }
    // The one-element array form is accepted.
    let mut claims = srv.claims("multi");
    claims["aud"] = json!([srv.base]);
    assert_token_for(srv.token_assertion(&ec_assertion(&claims), &[]).await, "multi").await;
}

#[tokio::test]
async fn rejects_empty_aud_array() {
    let srv = TestServer::start().await;
    ec_client(&srv, "emptyaud").await;
    let mut claims = srv.claims("emptyaud");
    claims["aud"] = json!([]);
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.aud_missing").await;
}

// ---- exp, iat, nbf ----

#[tokio::test]
async fn rejects_missing_exp() {
    let srv = TestServer::start().await;
    ec_client(&srv, "noexp").await;
    let mut claims = srv.claims("noexp");
    claims.as_object_mut().unwrap().remove("exp");
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.exp_missing").await;
    claims["exp"] = json!("soon");
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.exp_missing").await;
}

#[tokio::test]
async fn rejects_expired_assertion() {
    let srv = TestServer::start().await;
    ec_client(&srv, "expired").await;
    let now = srv.clock_now();
    for (iat, exp) in [(now - 30, now - 1), (now - 30, now)] {
        let mut claims = srv.claims("expired");
        claims["iat"] = json!(iat);
        claims["exp"] = json!(exp);
        expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.expired").await;
    }
    // A good assertion that expires while the clock moves on.
    let a = ec_assertion(&srv.claims("expired"));
    srv.clock.advance(time::Duration::seconds(31));
    expect_invalid_client(&srv, &a, "assertion.expired").await;
}

#[tokio::test]
async fn rejects_exp_beyond_max_lifetime() {
    let srv = TestServer::start().await;
    ec_client(&srv, "long").await;
    let now = srv.clock_now();
    let mut claims = srv.claims("long");
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 61);
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.lifetime_too_long").await;
    // Without iat the lifetime counts from now.
    claims.as_object_mut().unwrap().remove("iat");
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.lifetime_too_long").await;
    // Exactly the maximum is fine.
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 60);
    assert_token_for(srv.token_assertion(&ec_assertion(&claims), &[]).await, "long").await;
}

#[tokio::test]
async fn rejects_lifetime_too_long_through_an_old_iat() {
    let srv = TestServer::start().await;
    ec_client(&srv, "oldiat").await;
    let now = srv.clock_now();
    let mut claims = srv.claims("oldiat");
    claims["iat"] = json!(now - 100);
    claims["exp"] = json!(now + 10);
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.lifetime_too_long").await;
}

#[tokio::test]
async fn rejects_iat_in_the_future_beyond_skew() {
    let srv = TestServer::start().await;
    ec_client(&srv, "futureiat").await;
    let now = srv.clock_now();
    let mut claims = srv.claims("futureiat");
    claims["iat"] = json!(now + 16);
    claims["exp"] = json!(now + 30);
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.iat_future").await;
}

#[tokio::test]
async fn accepts_iat_in_the_future_within_skew() {
    let srv = TestServer::start().await;
    ec_client(&srv, "skewiat").await;
    let now = srv.clock_now();
    let mut claims = srv.claims("skewiat");
    claims["iat"] = json!(now + 10);
    claims["exp"] = json!(now + 30);
    assert_token_for(srv.token_assertion(&ec_assertion(&claims), &[]).await, "skewiat").await;
    assert_eq!(srv.replay_entries().await, 1);
}

#[tokio::test]
async fn rejects_nbf_in_the_future_beyond_skew() {
    let srv = TestServer::start().await;
    ec_client(&srv, "futurenbf").await;
    let now = srv.clock_now();
    let mut claims = srv.claims("futurenbf");
    claims["nbf"] = json!(now + 16);
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.nbf_future").await;
    // Within the skew it is fine.
    claims["nbf"] = json!(now + 10);
    assert_token_for(
        srv.token_assertion(&ec_assertion(&claims), &[]).await,
        "futurenbf",
    )
    .await;
}

// ---- jti ----

#[tokio::test]
async fn rejects_missing_jti() {
    let srv = TestServer::start().await;
    ec_client(&srv, "nojti").await;
    let mut claims = srv.claims("nojti");
    claims.as_object_mut().unwrap().remove("jti");
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.jti_missing").await;
    for bad in [json!(""), json!(12345), json!(null)] {
        claims["jti"] = bad;
        expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.jti_missing").await;
    }
}

#[tokio::test]
async fn rejects_jti_of_257_bytes() {
    let srv = TestServer::start().await;
    ec_client(&srv, "longjti").await;
    let mut claims = srv.claims("longjti");
    claims["jti"] = json!("j".repeat(257));
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.jti_too_long").await;
    // 256 bytes counted in bytes, not characters: 128 two-byte characters plus one more byte.
    claims["jti"] = json!(format!("{}x", "é".repeat(128)));
    expect_invalid_client(&srv, &ec_assertion(&claims), "assertion.jti_too_long").await;
}

#[tokio::test]
async fn accepts_jti_of_256_bytes() {
    let srv = TestServer::start().await;
    ec_client(&srv, "jti256").await;
    let mut claims = srv.claims("jti256");
    claims["jti"] = json!("j".repeat(256));
    assert_token_for(srv.token_assertion(&ec_assertion(&claims), &[]).await, "jti256").await;
    assert_eq!(srv.replay_entries().await, 1);
}

// ---- key and signature ----

#[tokio::test]
async fn rejects_unknown_kid() {
    let srv = TestServer::start().await;
    ec_client(&srv, "kid").await;
    let a = sign_jws(
        &ec_key(),
        &json!({"alg": "ES256", "kid": "no-such-key"}),
        &srv.claims("kid"),
    );
    expect_invalid_client(&srv, &a, "key.unknown_kid").await;
}

#[tokio::test]
async fn rejects_signature_by_another_key() {
    let srv = TestServer::start().await;
    ec_client(&srv, "forged").await;
    let other = SigningKey::generate(SigningAlg::ES256).unwrap();
    let a = sign_jws(
        &other,
        &json!({"alg": "ES256", "kid": ec_kid()}),
        &srv.claims("forged"),
    );
    expect_invalid_client(&srv, &a, "signature.invalid").await;
    // Without a kid, every registered key of the alg is tried, and none verifies.
    let a = sign_jws(&other, &json!({"alg": "ES256"}), &srv.claims("forged"));
    expect_invalid_client(&srv, &a, "signature.invalid").await;
    // A real signature over different claims.
    let good = ec_assertion(&srv.claims("forged"));
    let mut parts: Vec<&str> = good.split('.').collect();
    let mut claims = srv.claims("forged");
    claims["scope"] = json!("admin");
    let swapped = b64_encode(claims.to_string());
    parts[1] = &swapped;
    expect_invalid_client(&srv, &parts.join("."), "signature.invalid").await;
}

/// Header parameters that name a key (`jwk`), or where to fetch one (`jku`, `x5u`, `x5c`).
fn key_pointing_headers(attacker: &SigningKey) -> Value {
    json!({
        "jwk": attacker.public_jwk(),
        "jku": "https://evil.example/jwks",
        "x5u": "https://evil.example/cert.pem",
        "x5c": ["MIIBkTCB+wIJAKHHIgIIVmVXMA0GCSqGSIb3DQEBCwUAMA0xCzAJBgNVBAYTAlVT"],
    })
}

#[tokio::test]
async fn rejects_attacker_key_offered_in_jwk_jku_x5u_headers() {
    let srv = TestServer::start().await;
    ec_client(&srv, "jku").await;
    let attacker = SigningKey::generate(SigningAlg::ES256).unwrap();
    let mut with_kid = key_pointing_headers(&attacker);
    with_kid["alg"] = json!("ES256");
    with_kid["kid"] = ec_kid().into();
    let mut attacker_kid = key_pointing_headers(&attacker);
    attacker_kid["alg"] = json!("ES256");
    attacker_kid["kid"] = json!(attacker.kid());
    let mut no_kid = key_pointing_headers(&attacker);
    no_kid["alg"] = json!("ES256");
    for (header, reason) in [
        (with_kid, "signature.invalid"),
        (attacker_kid, "key.unknown_kid"),
        (no_kid, "signature.invalid"),
    ] {
        let a = sign_jws(&attacker, &header, &srv.claims("jku"));
        expect_invalid_client(&srv, &a, reason).await;
    }
}

#[tokio::test]
async fn ignores_jwk_jku_x5u_headers_on_a_genuine_assertion() {
    let srv = TestServer::start().await;
    ec_client(&srv, "jku-ok").await;
    let attacker = SigningKey::generate(SigningAlg::ES256).unwrap();
    let mut header = key_pointing_headers(&attacker);
    header["alg"] = json!("ES256");
    header["kid"] = ec_kid().into();
    let a = sign_jws(&ec_key(), &header, &srv.claims("jku-ok"));
    assert_token_for(srv.token_assertion(&a, &[]).await, "jku-ok").await;
}

// ---- mechanisms ----

#[tokio::test]
async fn rejects_client_secret_jwt_assertion_plus_client_secret() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.secret_jwt_client("two-ways", json!({})).await;
    let a = sign_hmac(secret.as_bytes(), &json!({"alg": "HS256"}), &srv.claims(&id));
    let guard = Unchanged::take(&srv, None).await;
    let resp = srv.token_assertion(&a, &[("client_secret", &secret)]).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    guard.check(&srv).await;
    assert_token_for(srv.token_assertion(&a, &[]).await, &id).await;
}

#[tokio::test]
async fn rejects_private_key_jwt_assertion_plus_basic_header() {
    let srv = TestServer::start().await;
    ec_client(&srv, "basic-too").await;
    let a = ec_assertion(&srv.claims("basic-too"));
    let guard = Unchanged::take(&srv, None).await;
    let resp = srv
        .http
        .post(srv.url("/token"))
        .header("authorization", basic_header("basic-too", "whatever"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &a),
        ])
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    guard.check(&srv).await;
}

// ---- replay ----

#[tokio::test]
async fn rejects_the_same_assertion_twice() {
    let srv = TestServer::start().await;
    ec_client(&srv, "twice").await;
    let a = ec_assertion(&srv.claims("twice"));
    let start = srv.replay_entries().await;
    assert_token_for(srv.token_assertion(&a, &[]).await, "twice").await;
    assert_eq!(srv.replay_entries().await, start + 1);
    expect_invalid_client(&srv, &a, "assertion.replayed").await;
    assert_eq!(srv.replay_entries().await, start + 1);
    // Still refused later in its lifetime.
    srv.clock.advance(time::Duration::seconds(20));
    expect_invalid_client(&srv, &a, "assertion.replayed").await;
}

#[tokio::test]
async fn concurrent_uses_of_one_assertion_yield_exactly_one_token() {
    // 63 replays from one address, on purpose: the failure limiter must not answer them.
    let srv = TestServer::start_with(allow_many_auth_failures).await;
    ec_client(&srv, "race").await;
    let a = ec_assertion(&srv.claims("race"));
    let snapshot = srv.snapshot().await;
    let start = srv.replay_entries().await;
    let replayed = srv.auth_failures("assertion.replayed").await;
    let responses = futures::future::join_all((0..64).map(|_| srv.token_assertion(&a, &[]))).await;
    let mut ok = 0;
    let mut refused = 0;
    for resp in responses {
        match resp.status() {
            StatusCode::OK => {
                ok += 1;
                assert_token_for(resp, "race").await;
            }
            StatusCode::UNAUTHORIZED => {
                refused += 1;
                assert_invalid_client(resp, false).await;
            }
            other => panic!("unexpected status {other}: {}", resp.text().await.unwrap()),
        }
    }
    assert_eq!((ok, refused), (1, 63));
    assert_eq!(srv.replay_entries().await, start + 1);
    assert_eq!(srv.snapshot().await, snapshot);
    assert!(srv.auth_failures("assertion.replayed").await >= replayed + 63);
}

#[tokio::test]
async fn replay_is_refused_after_a_restart() {
    let issuer = "https://issuer.test";
    let mut srv = TestServer::start_with(|c| c.issuer = Some(issuer.into())).await;
    ec_client(&srv, "restart").await;
    let mut claims = srv.claims("restart");
    claims["aud"] = json!(issuer);
    let a = ec_assertion(&claims);
    assert_token_for(srv.token_assertion(&a, &[]).await, "restart").await;
    assert_eq!(srv.replay_entries().await, 1);
    srv.restart().await;
    expect_invalid_client(&srv, &a, "assertion.replayed").await;
    assert_eq!(srv.replay_entries().await, 1);
    // The restarted server still accepts a fresh assertion with the same issuer.
    let mut claims = srv.claims("restart");
    claims["aud"] = json!(issuer);
    assert_token_for(srv.token_assertion(&ec_assertion(&claims), &[]).await, "restart").await;
    assert_eq!(srv.replay_entries().await, 2);
}

// ---- the client ----

#[tokio::test]
async fn rejects_valid_assertion_of_a_disabled_client() {
    let srv = TestServer::start().await;
    ec_client(&srv, "off").await;
    // Used once while enabled, so the client is in the server's cache when it is disabled.
    assert_token_for(
        srv.token_assertion(&ec_assertion(&srv.claims("off")), &[]).await,
        "off",
    )
    .await;
    let (status, body) = srv
        .admin(
            reqwest::Method::PATCH,
            "/admin/clients/off",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    expect_invalid_client(&srv, &ec_assertion(&srv.claims("off")), "client.disabled").await;
}
