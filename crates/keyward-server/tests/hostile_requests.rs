//! Requests an attacker sends to confuse names, headers, JSON readers and logs: client ids that
//! become paths, two `Authorization` headers, duplicate JSON members, `jwks_uri`s at IPv6 forms
//! that reach a private IPv4 address, unbounded untrusted values in log lines; and what an
//! operator changes between starts (the bootstrap secret, a configuration that overflows time
//! arithmetic). Each refusal asserts the status, the error body, that nothing was stored or
//! changed, and that the server still serves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use keyward_testkit::{logs::logs, server::*};
use keyward_types::SigningAlg;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// ---- helpers ----

/// An admin request with a raw body (duplicate members cannot be built as a `Value`).
async fn admin_raw(srv: &TestServer, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
    let token = srv.admin_token().await;
    let resp = srv
        .http
        .request(method, srv.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `POST /admin/clients` with this `client_id` is refused naming the field and the allowed
/// characters, and stores nothing.
async fn assert_client_id_refused(srv: &TestServer, id: &str) {
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": id, "scope": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{id:?}: {body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{id:?}: {body}");
    assert_eq!(body["field"], "client_id", "{id:?}: {body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains("A-Z a-z 0-9 . _ ~ -") && description.contains("'..'"),
        "{description}"
    );
    assert!(body.get("client_secret").is_none(), "{body}");
    assert_eq!(srv.snapshot().await, before, "{id:?}: nothing stored");
}

/// Registering a `private_key_jwt` client at `uri` is refused as a non-public address, and
/// stores nothing.
async fn assert_jwks_uri_refused(srv: &TestServer, uri: &str) {
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "ssrf", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{uri}: {body}");
    assert_eq!(body["field"], "jwks_uri", "{uri}: {body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("non-public address"),
        "{uri}: {body}"
    );
    assert_eq!(srv.snapshot().await, before, "{uri}: nothing stored");
    assert!(!srv.client_exists("ssrf").await);
}

/// The same form of address that reaches a public IPv4 address is accepted (registration does
/// not fetch): the refusals are decoded, not blanket.
async fn assert_jwks_uri_accepted(srv: &TestServer, id: &str, uri: &str) {
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": id, "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{uri}: {body}");
}

/// Refuses every `uri`, accepts `public` (when given), and still serves.
async fn jwks_uri_case(refused: &[&str], public: Option<&str>) {
    let srv = TestServer::start().await;
    for uri in refused {
        assert_jwks_uri_refused(&srv, uri).await;
    }
    if let Some(uri) = public {
        assert_jwks_uri_accepted(&srv, "public-form", uri).await;
    }
    srv.assert_still_serving().await;
}

// ---- client ids (safe in URL paths, file names and headers) ----

#[tokio::test]
async fn rejects_client_id_with_slash() {
    let srv = TestServer::start().await;
    for id in ["a/b", "/abs", "tenant/svc", "svc/", "%2F"] {
        assert_client_id_refused(&srv, id).await;
    }
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn rejects_client_id_with_dot_dot() {
    let srv = TestServer::start().await;
    // `.` first would be a hidden file, or the `.`/`..` path segment.
    for id in ["..", "../etc/passwd", "a..b", "svc..", ".", ".hidden", "./svc"] {
        assert_client_id_refused(&srv, id).await;
    }
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn rejects_client_id_with_backslash() {
    let srv = TestServer::start().await;
    for id in ["a\\b", "..\\..\\windows", "\\", "svc\\"] {
        assert_client_id_refused(&srv, id).await;
    }
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn rejects_client_id_with_whitespace_or_control() {
    let srv = TestServer::start().await;
    for id in [
        "a b",
        " svc",
        "svc ",
        "a\tb",
        "a\nb",
        "a\r\nLocation: /x",
        "a\u{0}b",
        "a\u{7f}b",
        "a\u{85}b",
        "a\u{a0}b",
        "svc\u{202e}",
        "é",
    ] {
        assert_client_id_refused(&srv, id).await;
    }
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn rejects_client_id_with_colon() {
    let srv = TestServer::start().await;
    // A ':' splits Basic credentials when a client forgets to form-encode its id.
    for id in ["a:b", "urn:example:svc", "svc:", "C:"] {
        assert_client_id_refused(&srv, id).await;
    }
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn rejects_client_id_with_other_reserved_characters() {
    let srv = TestServer::start().await;
    for id in [
        "a?b", "a#b", "a@b", "a%41", "a+b", "a;b", "a,b", "a\"b", "a<b>", "a*b",
    ] {
        assert_client_id_refused(&srv, id).await;
    }
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn location_header_is_percent_encoded() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    for (sent, expected) in [
        (Some("svc.A_b~1-z"), "/admin/clients/svc.A_b~1-z"),
        // A generated id (a UUID) goes the same way.
        (None, ""),
    ] {
        let mut metadata = json!({"scope": "read"});
        if let Some(id) = sent {
            metadata["client_id"] = json!(id);
        }
        let resp = srv
            .http
            .post(srv.url("/admin/clients"))
            .bearer_auth(&token)
            .json(&metadata)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let body: Value = resp.json().await.unwrap();
        let id = body["client_id"].as_str().unwrap();
        if sent.is_some() {
            assert_eq!(location, expected);
        }
        // One path segment of RFC 3986 unreserved characters after the collection.
        let segment = location.strip_prefix("/admin/clients/").unwrap();
        assert!(
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "{location}"
        );
        // The Location resolves to the client it names.
        let target = url::Url::parse(&srv.base).unwrap().join(&location).unwrap();
        let got: Value = srv
            .http
            .get(target)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["client_id"], id, "{location} → {got}");
    }
    srv.assert_still_serving().await;
}

/// Rows written before the id rule still load, authenticate and can be managed: the rule is
/// on registration, not on lookup. The row arrives the way old rows do, through storage (an
/// export edited to carry an id the admin API no longer accepts, then imported).
#[tokio::test]
async fn client_stored_before_the_id_rule_still_loads_and_authenticates() {
    let srv = TestServer::start().await;
    let (_, secret) = srv
        .create_client(json!({"client_id": "legacy-src", "scope": "read"}))
        .await;
    let legacy = "legacy:svc/1";
    let mut doc: Value =
        serde_json::from_str(&keyward_app::export(&srv.config, &srv.clock).await.unwrap()).unwrap();
    let mut entry = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client"]["client_id"] == "legacy-src")
        .unwrap()
        .clone();
    entry["client"]["client_id"] = json!(legacy);
    for s in entry["secrets"].as_array_mut().unwrap() {
        s["id"] = json!(format!("{}-legacy", s["id"].as_str().unwrap()));
    }
    doc["clients"] = json!([entry]);
    doc["signing_keys"] = json!([]);
    doc["users"] = json!([]);
    keyward_app::import(&srv.config, &doc.to_string(), false, &srv.clock)
        .await
        .unwrap();

    // Basic form-encodes ':' and '/', so the id survives the header.
    let resp = srv.token_basic(legacy, &secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, body) = srv
        .admin(Method::GET, "/admin/clients/legacy%3Asvc%2F1", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client_id"], legacy);
    let (_, page) = srv.admin(Method::GET, "/admin/clients", None).await;
    assert!(page["clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == legacy));
    // No new client can take such an id.
    assert_client_id_refused(&srv, "legacy:svc/2").await;
    let (status, _) = srv
        .admin(Method::DELETE, "/admin/clients/legacy%3Asvc%2F1", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!srv.client_exists(legacy).await);
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn token_request_with_an_id_outside_the_set_is_an_unknown_client() {
    let srv = TestServer::start().await;
    srv.basic_client().await;
    let before = srv.snapshot().await;
    let long = "x".repeat(300);
    for id in [
        "../etc/passwd",
        "a/b",
        "a\\b",
        "a:b",
        "a b",
        "a\nb",
        long.as_str(),
    ] {
        let resp = srv.token_post(id, "some-secret-value", &[CC]).await;
        assert_invalid_client(resp, false).await;
        let resp = srv.token_basic(id, "some-secret-value", &[CC]).await;
        assert_invalid_client(resp, true).await;
    }
    assert_eq!(srv.snapshot().await, before);
    srv.assert_still_serving().await;
}

// ---- two Authorization headers ----

#[tokio::test]
async fn rejects_token_request_with_two_authorization_headers() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let good = basic_header(&id, &secret);
    let other = basic_header("someone-else", "not-the-secret");
    for (first, second) in [(&good, &other), (&other, &good), (&good, &good)] {
        let resp = srv
            .http
            .post(srv.url("/token"))
            .header("authorization", first)
            .header("authorization", second)
            .form(&[CC])
            .send()
            .await
            .unwrap();
        let body = assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_eq!(
            body["error_description"], "more than one Authorization header",
            "{body}"
        );
        assert!(body.get("access_token").is_none(), "{body}");
    }
    assert_eq!(srv.snapshot().await, before);
    // The same credentials in one header still work.
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn rejects_admin_request_with_two_authorization_headers() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let before = srv.snapshot().await;
    let good = format!("Bearer {token}");
    let junk = "Bearer not-a-token".to_owned();
    for (first, second) in [(&good, &good), (&good, &junk), (&junk, &good)] {
        for method in [Method::POST, Method::GET] {
            let resp = srv
                .http
                .request(method.clone(), srv.url("/admin/clients"))
                .header("authorization", first)
                .header("authorization", second)
                .json(&json!({"client_id": "probe-two", "scope": "read"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{method}");
            let www = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
            assert_eq!(www, "Bearer realm=\"keyward\", error=\"invalid_request\"");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"], "invalid_request", "{body}");
            assert_eq!(body["error_description"], "more than one Authorization header");
        }
    }
    assert!(!srv.client_exists("probe-two").await);
    assert_eq!(srv.snapshot().await, before);
    srv.assert_still_serving().await;
}

// ---- duplicate JSON members ----

#[tokio::test]
async fn rejects_patch_with_duplicate_keys() {
    let srv = TestServer::start().await;
    srv.create_client(json!({"client_id": "svc-dup-keys", "client_name": "first", "scope": "read"}))
        .await;
    let before = srv.snapshot().await;
    for (body, member) in [
        (r#"{"client_name":"second","client_name":"third"}"#, "client_name"),
        (r#"{"scope":"read","enabled":true,"enabled":false}"#, "enabled"),
        (r#"{"client_name":"x","allowed_audiences":[{"a":1,"a":2}]}"#, "a"),
    ] {
        let (status, answer) = admin_raw(&srv, Method::PATCH, "/admin/clients/svc-dup-keys", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(answer["error"], "invalid_request", "{answer}");
        assert_eq!(
            answer["error_description"],
            format!("duplicate member \"{member}\" in a JSON object"),
            "{answer}"
        );
    }
    assert_eq!(srv.snapshot().await, before);
    let (_, client) = srv.admin(Method::GET, "/admin/clients/svc-dup-keys", None).await;
    assert_eq!(client["client_name"], "first");
    assert_eq!(client["enabled"], true);
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn every_admin_body_refuses_duplicate_keys_alike() {
    let srv = TestServer::start().await;
    let (secret_client, _) = srv
        .create_client(json!({"client_id": "dup-secret", "scope": "read"}))
        .await;
    let keys = srv
        .key_client("dup-keys", &[interop_jwk("ec256")], json!({}))
        .await;
    let credential = credential_list(&srv, &keys).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = srv.snapshot().await;
    let credentials_before = credential_list(&srv, &keys).await;
    let cases = [
        (
            Method::POST,
            "/admin/clients".to_owned(),
            r#"{"client_id":"dup-new","client_id":"dup-new-2"}"#,
            "client_id",
        ),
        (
            Method::POST,
            format!("/admin/clients/{keys}/credentials"),
            r#"{"format":"jwk","format":"pem","data":"x"}"#,
            "format",
        ),
        (
            Method::POST,
            format!("/admin/clients/{keys}/credentials/generate"),
            r#"{"key_type":"EC-P256","format":"pkcs12","alias":"a","alias":"b","store_password":"store-pass-1"}"#,
            "alias",
        ),
        (
            Method::PATCH,
            format!("/admin/clients/{keys}/credentials/{credential}"),
            r#"{"enabled":true,"enabled":false}"#,
            "enabled",
        ),
        (
            Method::POST,
            format!("/admin/clients/{secret_client}/secret"),
            r#"{"grace_period_seconds":0,"grace_period_seconds":60}"#,
            "grace_period_seconds",
        ),
        (
            Method::POST,
            "/admin/keys-cache/clear".to_owned(),
            r#"{"client_id":"dup-keys","client_id":"dup-secret"}"#,
            "client_id",
        ),
    ];
    for (method, path, body, member) in cases {
        let (status, answer) = admin_raw(&srv, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} → {answer}");
        assert_eq!(answer["error"], "invalid_request", "{method} {path} → {answer}");
        assert_eq!(
            answer["error_description"],
            format!("duplicate member \"{member}\" in a JSON object"),
            "{method} {path}"
        );
    }
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(credential_list(&srv, &keys).await, credentials_before);
    srv.assert_still_serving().await;
}

// ---- SSRF: IPv6 forms that reach a private IPv4 address ----

#[tokio::test]
async fn rejects_jwks_uri_on_site_local() {
    jwks_uri_case(&["https://[fec0::1]/jwks", "https://[fed0:0:0:1::1]/jwks"], None).await;
}

#[tokio::test]
async fn rejects_jwks_uri_on_local_use_nat64() {
    // 64:ff9b:1::/48 translates as its operator chose: refused even around a public IPv4.
    jwks_uri_case(
        &[
            "https://[64:ff9b:1::a00:1]/jwks",
            "https://[64:ff9b:1::808:808]/jwks",
        ],
        None,
    )
    .await;
}

#[tokio::test]
async fn rejects_jwks_uri_on_6to4() {
    // 2002:V4ADDR::/48: 10.0.0.1, 169.254.169.254, 127.0.0.1.
    jwks_uri_case(
        &[
            "https://[2002:a00:1::1]/jwks",
            "https://[2002:a9fe:a9fe::]/jwks",
            "https://[2002:7f00:1::1]/jwks",
        ],
        Some("https://[2002:808:808::1]/jwks"),
    )
    .await;
}

#[tokio::test]
async fn rejects_jwks_uri_on_teredo() {
    // 2001:0::/32: server IPv4 in bits 32..64, client IPv4 inverted in the last 32 bits.
    jwks_uri_case(
        &[
            // Server 65.54.227.120 (public), client 10.0.0.1.
            "https://[2001:0:4136:e378::f5ff:fffe]/jwks",
            // Server 127.0.0.1, client 8.8.8.8 (public).
            "https://[2001:0:7f00:1::f7f7:f7f7]/jwks",
            // RFC 4380's example: client 192.0.2.45 (documentation).
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/jwks",
        ],
        Some("https://[2001:0:4136:e378::f7f7:f7f7]/jwks"),
    )
    .await;
}

#[tokio::test]
async fn rejects_jwks_uri_on_nat64() {
    // 64:ff9b::/96 reaches the IPv4 in its last 32 bits.
    jwks_uri_case(
        &[
            "https://[64:ff9b::a00:1]/jwks",
            "https://[64:ff9b::a9fe:a9fe]/jwks",
            "https://[64:ff9b::7f00:1]/jwks",
        ],
        Some("https://[64:ff9b::808:808]/jwks"),
    )
    .await;
}

#[tokio::test]
async fn rejects_jwks_uri_on_siit_translated() {
    // ::ffff:0:a.b.c.d (IPv4-translated), next to IPv4-mapped ::ffff:a.b.c.d.
    jwks_uri_case(
        &[
            "https://[::ffff:0:7f00:1]/jwks",
            "https://[::ffff:0:a00:1]/jwks",
            "https://[::ffff:0:a9fe:a9fe]/jwks",
            "https://[::ffff:a9fe:a9fe]/jwks",
        ],
        Some("https://[::ffff:0:808:808]/jwks"),
    )
    .await;
}

// ---- the bootstrap admin secret ----

#[tokio::test]
async fn changed_admin_secret_rotates_the_bootstrap_secret_on_restart() {
    let logs = logs();
    let mut srv = TestServer::start().await;

    // Unchanged: a restart writes nothing.
    let before = srv.snapshot().await;
    srv.restart().await;
    assert_eq!(srv.snapshot().await, before, "same admin_secret: nothing written");

    // Changed: rotated at start, no grace.
    let new_secret = "rotated-admin-secret-0123456789";
    srv.config.admin_secret = Some(new_secret.into());
    srv.restart().await;
    let old = srv.token_basic(ADMIN_ID, ADMIN_SECRET, &[CC]).await;
    assert_invalid_client(old, true).await;
    let new = srv.token_basic(ADMIN_ID, new_secret, &[CC]).await;
    assert_eq!(new.status(), StatusCode::OK);
    let token = new.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = srv.admin_as(&token, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);

    let rows = serde_json::to_value(
        srv.storage()
            .await
            .list_audit(&keyward_storage::AuditQuery::newest(500))
            .await
            .unwrap(),
    )
    .unwrap();
    let rotations: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "client.secret.rotate" && e["target"] == ADMIN_ID)
        .collect();
    assert_eq!(rotations.len(), 1, "{rows}");
    assert_eq!(rotations[0]["actor"], "bootstrap");
    assert_eq!(rotations[0]["outcome"], "success");
    assert_eq!(rotations[0]["detail"]["grace_period_seconds"], 0);
    let audit_text = rows.to_string();
    assert!(!audit_text.contains(new_secret) && !audit_text.contains(ADMIN_SECRET));
    let log = logs.text();
    assert!(
        log.contains("rotated to the configured one"),
        "the rotation is logged:\n{log}"
    );
    assert!(!log.contains(new_secret) && !log.contains(ADMIN_SECRET));

    // The new value, unchanged: nothing written again.
    let before = srv.snapshot().await;
    srv.restart().await;
    assert_eq!(srv.snapshot().await, before);

    // Back to the first secret (what `assert_still_serving` signs in with).
    srv.config.admin_secret = Some(ADMIN_SECRET.into());
    srv.restart().await;
    let stale = srv.token_basic(ADMIN_ID, new_secret, &[CC]).await;
    assert_invalid_client(stale, true).await;
    srv.assert_still_serving().await;
}

// ---- configuration bounds ----

#[tokio::test]
async fn rejects_huge_max_secret_grace_period() {
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;

    // As a struct (what `keyward serve` builds): start refuses before it touches anything.
    let mut config = srv.config.clone();
    config.max_secret_grace_period = u64::MAX;
    let err = keyward_app::start(config, Arc::new(srv.clock.clone()))
        .await
        .err()
        .expect("start refuses");
    let message = err.to_string();
    assert_eq!(
        message,
        "configuration: max_secret_grace_period is 18446744073709551615 seconds; it must be between \
         0 and 31536000 seconds (set in keyward.toml or as KEYWARD_MAX_SECRET_GRACE_PERIOD)"
    );

    // As an operator writes it: the largest integer TOML holds.
    let path = srv.dir.path().join("keyward.toml");
    std::fs::write(&path, "max_secret_grace_period = 9223372036854775807\n").unwrap();
    let message = keyward_server::Config::load(Some(&path))
        .expect_err("load refuses")
        .to_string();
    assert!(
        message.contains("max_secret_grace_period is 9223372036854775807 seconds")
            && message.contains("31536000")
            && !message.contains('\n'),
        "{message}"
    );

    assert_eq!(srv.snapshot().await, before, "a refused start writes nothing");

    // The API's own bound on a rotation still answers for an absurd request.
    let (id, _) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            &format!("/admin/clients/{id}/secret"),
            Some(json!({"grace_period_seconds": u64::MAX})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "grace_period_seconds");
    assert_eq!(srv.snapshot().await, before);
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn the_largest_max_secret_grace_period_rotates_without_overflow() {
    let max = 365 * 24 * 3600;
    let srv = TestServer::start_with(|c| c.max_secret_grace_period = max).await;
    let (id, old_secret) = srv.basic_client().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            &format!("/admin/clients/{id}/secret"),
            Some(json!({"grace_period_seconds": max})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let until = body["previous_secret_expires_at"].as_i64().unwrap();
    assert_eq!(until, srv.clock_now() + i64::try_from(max).unwrap());
    let resp = srv.token_basic(&id, &old_secret, &[CC]).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the old secret is in its grace period"
    );
    srv.assert_still_serving().await;
}

// ---- untrusted values in logs ----

#[tokio::test]
async fn long_untrusted_sub_is_truncated_in_logs() {
    let logs = logs();
    let srv = TestServer::start().await;
    // 47 KB, every 65-character window distinct, so no part of it can hide in the log.
    let sub: String = (0..)
        .map(|i| format!("{i:07}-"))
        .flat_map(|s| s.chars().collect::<Vec<_>>())
        .take(47_000)
        .collect();
    let mut claims = srv.claims(&sub);
    claims["iss"] = json!("short-iss");
    let assertion = sign_jws(
        &interop_key("ec256", SigningAlg::ES256),
        &json!({"alg": "ES256"}),
        &claims,
    );
    let before = srv.snapshot().await;
    let replay_before = srv.replay_entries().await;
    let resp = srv.token_assertion(&assertion, &[]).await;
    assert_invalid_client(resp, false).await;
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(srv.replay_entries().await, replay_before);

    let text = logs.text();
    let shown = format!("{}…", &sub[..64]);
    let line = text
        .lines()
        .find(|l| l.contains(&shown))
        .unwrap_or_else(|| panic!("no log line with the cut sub:\n{}", &text[..text.len().min(4000)]));
    assert!(
        line.contains("client authentication failed") && line.contains("client.unknown"),
        "{line}"
    );
    assert!(line.len() < 512, "{} bytes", line.len());
    assert!(
        !text.contains(&sub[..65]),
        "more than 64 characters of the sub reached the log"
    );
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn untrusted_client_id_cannot_forge_log_lines() {
    let logs = logs();
    let srv = TestServer::start().await;
    let before = srv.snapshot().await;
    let forged = format!(
        "evil\nFORGED-LINE level=ERROR admin login from 10.0.0.1 {}",
        "x".repeat(200)
    );
    let resp = srv.token_post(&forged, "some-secret-value", &[CC]).await;
    assert_invalid_client(resp, false).await;
    assert_eq!(srv.snapshot().await, before);
    let text = logs.text();
    // The newline shown escaped, and the value cut after 64 characters.
    let cut: String = forged.chars().take(64).collect();
    let shown = format!("{}…", cut.replace('\n', "\\n"));
    assert!(text.contains(&shown), "expected {shown:?} in the log");
    assert!(
        !text.lines().any(|l| l.starts_with("FORGED-LINE")),
        "a log line was forged"
    );
    srv.assert_still_serving().await;
}
