#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The client metadata the authorization code flow reads: `redirect_uris`,
//! `post_logout_redirect_uris`, `first_party` and `require_pushed_authorization_requests`.
//! Each redirect URI rule has its own test that registers a bad URI over HTTP and asserts the
//! refusal names the list and that nothing was stored.

use keyward_testkit::{
    console::{console_server, ConsoleClient},
    server::*,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Registering a client with `uris` in `field` is refused with `invalid_client_metadata`
/// naming `field`, and nothing is stored.
async fn assert_refused(srv: &TestServer, field: &str, uris: Value) {
    let before = srv.snapshot().await;
    let metadata = json!({"client_id": "app", field: uris});
    let (status, body) = srv
        .admin(Method::POST, "/admin/clients", Some(metadata.clone()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{metadata} → {body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(body["field"], field, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains(field)),
        "{body}"
    );
    assert_eq!(srv.snapshot().await, before);
    assert!(!srv.client_exists("app").await);
}

async fn get_client(srv: &TestServer, id: &str) -> Value {
    let (status, body) = srv
        .admin(Method::GET, &format!("/admin/clients/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn patch_client(srv: &TestServer, id: &str, patch: Value) -> (StatusCode, Value) {
    srv.admin(Method::PATCH, &format!("/admin/clients/{id}"), Some(patch))
        .await
}

// ---- round trip ----

#[tokio::test]
async fn the_four_fields_round_trip_and_null_resets_them() {
    let srv = TestServer::start().await;
    let (id, _) = srv
        .create_client(json!({
            "client_id": "web",
            "redirect_uris": ["https://app.example/cb", "http://127.0.0.1:8080/cb"],
            "post_logout_redirect_uris": ["https://app.example/bye"],
            "first_party": true,
            "require_pushed_authorization_requests": true,
        }))
        .await;
    let got = get_client(&srv, &id).await;
    assert_eq!(
        got["redirect_uris"],
        json!(["https://app.example/cb", "http://127.0.0.1:8080/cb"])
    );
    assert_eq!(
        got["post_logout_redirect_uris"],
        json!(["https://app.example/bye"])
    );
    assert_eq!(got["first_party"], true);
    assert_eq!(got["require_pushed_authorization_requests"], true);

    let (status, body) = patch_client(
        &srv,
        &id,
        json!({"redirect_uris": ["com.example.app:/cb"], "first_party": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got = get_client(&srv, &id).await;
    assert_eq!(got["redirect_uris"], json!(["com.example.app:/cb"]));
    assert_eq!(got["first_party"], false);
    assert_eq!(
        got["post_logout_redirect_uris"],
        json!(["https://app.example/bye"])
    );
    assert_eq!(got["require_pushed_authorization_requests"], true);

    let (status, body) = patch_client(
        &srv,
        &id,
        json!({"redirect_uris": null, "post_logout_redirect_uris": null,
               "first_party": null, "require_pushed_authorization_requests": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got = get_client(&srv, &id).await;
    assert_eq!(got["redirect_uris"], json!([]));
    assert_eq!(got["post_logout_redirect_uris"], json!([]));
    assert_eq!(got["first_party"], false);
    assert_eq!(got["require_pushed_authorization_requests"], false);
}

#[tokio::test]
async fn a_client_registered_without_them_shows_the_defaults() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    let got = get_client(&srv, &id).await;
    assert_eq!(got["redirect_uris"], json!([]));
    assert_eq!(got["post_logout_redirect_uris"], json!([]));
    assert_eq!(got["first_party"], false);
    assert_eq!(got["require_pushed_authorization_requests"], false);
}

#[test]
fn a_stored_client_without_the_fields_still_loads() {
    // A row written before the fields existed.
    let stored = json!({
        "client_id": "old", "client_name": null, "client_uri": null,
        "token_endpoint_auth_method": "client_secret_basic",
        "token_endpoint_auth_signing_alg": null, "legacy_token_endpoint_audience": false,
        "jwks_uri": null, "grant_types": ["client_credentials"], "scope": "read",
        "default_audience": null, "allowed_audiences": [],
        "access_token_lifetime": 300, "enabled": true,
        "created_at": "2026-01-31T12:00:00Z", "updated_at": "2026-01-31T12:00:00Z"
    });
    let client: keyward_types::Client = serde_json::from_value(stored.clone()).unwrap();
    assert!(client.redirect_uris.is_empty());
    assert!(client.post_logout_redirect_uris.is_empty());
    assert!(!client.first_party);
    assert!(!client.require_pushed_authorization_requests);
    // Written back unchanged: a client that does not use them stores what it stored before.
    assert_eq!(serde_json::to_value(&client).unwrap(), stored);
}

// ---- one test per rule ----

#[tokio::test]
async fn rejects_relative_redirect_uri() {
    let srv = TestServer::start().await;
    assert_refused(&srv, "redirect_uris", json!(["/callback"])).await;
}

#[tokio::test]
async fn rejects_redirect_uri_with_fragment() {
    let srv = TestServer::start().await;
    assert_refused(&srv, "redirect_uris", json!(["https://app.example/cb#done"])).await;
    assert_refused(&srv, "redirect_uris", json!(["https://app.example/cb#"])).await;
}

#[tokio::test]
async fn rejects_plain_http_redirect_uri_to_a_non_loopback_host() {
    let srv = TestServer::start().await;
    assert_refused(&srv, "redirect_uris", json!(["http://app.example/cb"])).await;
    assert_refused(&srv, "redirect_uris", json!(["http://10.0.0.1/cb"])).await;
    assert_refused(
        &srv,
        "redirect_uris",
        json!(["http://localhost.attacker.example/cb"]),
    )
    .await;
}

#[tokio::test]
async fn rejects_private_use_scheme_without_a_dot() {
    let srv = TestServer::start().await;
    assert_refused(&srv, "redirect_uris", json!(["myapp:/callback"])).await;
    assert_refused(&srv, "redirect_uris", json!(["javascript:alert(1)"])).await;
}

#[tokio::test]
async fn rejects_redirect_uri_with_userinfo() {
    let srv = TestServer::start().await;
    assert_refused(&srv, "redirect_uris", json!(["https://user:pass@app.example/cb"])).await;
    assert_refused(&srv, "redirect_uris", json!(["https://user@app.example/cb"])).await;
}

#[tokio::test]
async fn rejects_redirect_uri_with_surrounding_space() {
    let srv = TestServer::start().await;
    assert_refused(&srv, "redirect_uris", json!([" https://app.example/cb"])).await;
}

#[tokio::test]
async fn rejects_redirect_uri_longer_than_2000_characters() {
    let srv = TestServer::start().await;
    let prefix = "https://app.example/";
    let at_limit = format!("{prefix}{}", "a".repeat(2000 - prefix.len()));
    let (status, body) = srv
        .admin(
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "long", "redirect_uris": [at_limit]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let too_long = format!("{prefix}{}", "a".repeat(2001 - prefix.len()));
    assert_refused(&srv, "redirect_uris", json!([too_long])).await;
}

#[tokio::test]
async fn rejects_more_than_20_redirect_uris() {
    let srv = TestServer::start().await;
    let uris: Vec<String> = (0..21).map(|i| format!("https://app.example/cb{i}")).collect();
    assert_refused(&srv, "redirect_uris", json!(uris)).await;
}

#[tokio::test]
async fn rejects_duplicate_redirect_uri() {
    let srv = TestServer::start().await;
    assert_refused(
        &srv,
        "redirect_uris",
        json!([
            "https://app.example/cb",
            "https://app.example/other",
            "https://app.example/cb"
        ]),
    )
    .await;
}

#[tokio::test]
async fn post_logout_redirect_uris_follow_the_same_rules() {
    let srv = TestServer::start().await;
    let field = "post_logout_redirect_uris";
    assert_refused(&srv, field, json!(["bye"])).await;
    assert_refused(&srv, field, json!(["https://app.example/bye#x"])).await;
    assert_refused(&srv, field, json!(["http://app.example/bye"])).await;
    assert_refused(&srv, field, json!(["myapp:/bye"])).await;
    assert_refused(&srv, field, json!(["https://u:p@app.example/bye"])).await;
    assert_refused(
        &srv,
        field,
        json!(["https://app.example/a", "https://app.example/a"]),
    )
    .await;
}

#[tokio::test]
async fn rejects_a_bad_redirect_uri_in_a_patch() {
    let srv = TestServer::start().await;
    let (id, _) = srv
        .create_client(json!({"redirect_uris": ["https://app.example/cb"]}))
        .await;
    let before = srv.snapshot().await;
    let (status, body) = patch_client(&srv, &id, json!({"redirect_uris": ["http://app.example/cb"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(body["field"], "redirect_uris", "{body}");
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn accepts_https_loopback_and_reverse_domain_redirect_uris() {
    let srv = TestServer::start().await;
    let uris = json!([
        "https://app.example/cb",
        "http://127.0.0.1:8080/cb",
        "http://127.1.2.3/cb",
        "http://[::1]/cb",
        "http://localhost/cb",
        "com.example.app:/cb",
    ]);
    let (id, _) = srv
        .create_client(json!({"redirect_uris": uris, "post_logout_redirect_uris": uris}))
        .await;
    let got = get_client(&srv, &id).await;
    // Kept exactly as registered.
    assert_eq!(got["redirect_uris"], uris);
    assert_eq!(got["post_logout_redirect_uris"], uris);
}

// ---- console ----

/// The Settings form as the page sends it, with these redirect URIs and first-party box.
fn settings_form(redirect_uris: &str, first_party: bool) -> Vec<(&str, &str)> {
    let mut form = vec![
        ("client_name", "Web app"),
        ("scope", "read"),
        ("access_token_lifetime", "300"),
        ("max_assertion_lifetime", ""),
        ("enabled", "true"),
        ("redirect_uris", redirect_uris),
        ("post_logout_redirect_uris", ""),
    ];
    if first_party {
        form.push(("first_party", "true"));
    }
    form
}

#[tokio::test]
async fn console_settings_store_redirect_uris_and_first_party() {
    let srv = console_server().await;
    let (id, _) = srv
        .create_client(json!({"client_id": "web", "scope": "read"}))
        .await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    let page = c.get(&format!("/console/clients/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for control in [
        r#"<label for="f-redirect_uris">Redirect URIs (one per line)</label>"#,
        r#"<textarea id="f-redirect_uris" name="redirect_uris""#,
        r#"<textarea id="f-post_logout_redirect_uris" name="post_logout_redirect_uris""#,
        r#"id="f-first_party" type="checkbox" name="first_party""#,
        r#"<label class="inline" for="f-first_party"> First-party application: skip the consent page</label>"#,
        r#"<label class="inline" for="f-require_pushed_authorization_requests"> Require pushed authorization requests (PAR)</label>"#,
    ] {
        assert!(page.body.contains(control), "{control} in {}", page.body);
    }
    let uris = "https://app.example/cb\r\n\r\nhttp://127.0.0.1:8080/cb\r\n";
    let page = c
        .post(
            &format!("/console/clients/{id}/settings"),
            &settings_form(uris, true),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let got = get_client(&srv, &id).await;
    assert_eq!(
        got["redirect_uris"],
        json!(["https://app.example/cb", "http://127.0.0.1:8080/cb"])
    );
    assert_eq!(got["first_party"], true);
    assert_eq!(got["require_pushed_authorization_requests"], false);
    // The page shows them again, one per line.
    let page = c.get(&format!("/console/clients/{id}")).await;
    assert!(
        page.body
            .contains("https://app.example/cb\nhttp://127.0.0.1:8080/cb</textarea>"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn console_shows_a_refused_redirect_uri_next_to_the_field() {
    let srv = console_server().await;
    let (id, _) = srv
        .create_client(
            json!({"client_id": "web", "scope": "read", "redirect_uris": ["https://app.example/cb"]}),
        )
        .await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get(&format!("/console/clients/{id}")).await;
    let before = srv.snapshot().await;
    let page = c
        .post(
            &format!("/console/clients/{id}/settings"),
            &settings_form("https://app.example/cb\nhttp://app.example/cb", true),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains(r#"id="err-redirect_uris""#), "{}", page.body);
    assert!(
        page.body.contains(r#"aria-describedby="err-redirect_uris""#),
        "{}",
        page.body
    );
    assert_eq!(srv.snapshot().await, before);
    let got = get_client(&srv, &id).await;
    assert_eq!(got["redirect_uris"], json!(["https://app.example/cb"]));
    assert_eq!(got["first_party"], false);
}

#[tokio::test]
async fn console_settings_switch_a_client_to_the_authorization_code_flow() {
    let srv = console_server().await;
    let (id, _) = srv
        .create_client(json!({"client_id": "web", "scope": "read"}))
        .await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    let page = c.get(&format!("/console/clients/{id}")).await;
    assert!(
        page.body.contains(r#"id="f-grant_client_credentials" type="checkbox" name="grant_client_credentials" value="true" checked"#),
        "{}",
        page.body
    );
    let mut form = settings_form("https://app.example/cb", false);
    form.extend([
        ("grant_types_shown", "true"),
        ("grant_authorization_code", "true"),
        ("grant_refresh_token", "true"),
    ]);
    let page = c.post(&format!("/console/clients/{id}/settings"), &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let got = get_client(&srv, &id).await;
    assert_eq!(got["grant_types"], json!(["authorization_code", "refresh_token"]));
    // A form without the grant checkboxes leaves the grant types alone.
    c.get(&format!("/console/clients/{id}")).await;
    let page = c
        .post(
            &format!("/console/clients/{id}/settings"),
            &settings_form("https://app.example/cb", false),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        get_client(&srv, &id).await["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
}
