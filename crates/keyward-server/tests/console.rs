#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The console over HTTP: sign-in and its limits, sessions, CSRF, security headers, and that its
//! forms go through the admin operations (what they store is what the admin API reads). The
//! browser tests (console_browser.rs) drive the same pages in Chromium.

use keyward_testkit::{
    console::{console_server, ConsoleClient, CONSOLE_ADMIN, CONSOLE_PASSWORD},
    server::*,
};
use reqwest::StatusCode;

#[tokio::test]
async fn every_console_answer_carries_the_security_headers() {
    let srv = console_server().await;
    let mut c = ConsoleClient::new(&srv);
    let login = c.get("/console/login").await;
    let signed = {
        let mut s = ConsoleClient::signed_in(&srv).await;
        s.get("/console/clients").await
    };
    for page in [&login, &signed] {
        assert_eq!(page.status, StatusCode::OK);
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert_eq!(page.headers["referrer-policy"], "same-origin");
        assert_eq!(page.headers["cache-control"], "no-store");
        assert!(!page.body.contains("<script>"), "no inline script");
        assert!(!page.body.contains(" style="), "no inline style");
    }
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_scoped_to_the_console() {
    let srv = console_server().await;
    let mut c = ConsoleClient::new(&srv);
    let page = c.sign_in(CONSOLE_ADMIN, CONSOLE_PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/console/clients"));
    let session = c
        .last_set_cookies
        .iter()
        .find(|s| s.starts_with("keyward_console="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(session.contains("Path=/console"), "{session}");
    assert!(!session.contains("Secure"), "plain http issuer: {session}");
    // The sign-in is in the audit log, with the address it came from.
    let (events, _) = audit_log(&srv).await;
    let signed = events
        .iter()
        .find(|e| e["action"] == "user.sign_in")
        .expect("audited");
    assert_eq!(signed["actor"], CONSOLE_ADMIN);
    assert_eq!(signed["target"], CONSOLE_ADMIN);
    assert_eq!(signed["detail"]["source"], "127.0.0.1");
    // The database keeps a hash, not the cookie value.
    let value = c.cookies["keyward_console"].clone();
    let snapshot = format!("{:?}", srv.storage().await.load_session(&value).await.unwrap());
    assert_eq!(snapshot, "None");
}

#[tokio::test]
async fn wrong_password_shows_an_error_and_does_not_sign_in() {
    let srv = console_server().await;
    let mut c = ConsoleClient::new(&srv);
    let page = c.sign_in(CONSOLE_ADMIN, "not-the-password").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("Wrong username or password."), "{}", page.body);
    assert!(!c.cookies.contains_key("keyward_console"));
    let (events, _) = audit_log(&srv).await;
    assert!(!events.iter().any(|e| e["action"] == "user.sign_in"));
    let clients = c.get("/console/clients").await;
    assert_eq!(clients.status, StatusCode::SEE_OTHER);
    assert_eq!(clients.location(), Some("/console/login"));
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let srv = console_server().await;
    let mut c = ConsoleClient::new(&srv);
    let page = c.sign_in("nobody-here", "not-the-password").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("Wrong username or password."));
    assert!(!c.cookies.contains_key("keyward_console"));
}

#[tokio::test]
async fn sign_in_without_the_forms_token_is_refused() {
    let srv = console_server().await;
    let mut c = ConsoleClient::new(&srv);
    // No login cookie and no token: a cross-site page posting credentials of its choosing.
    let page = c
        .post_raw(
            "/console/login",
            &[("username", CONSOLE_ADMIN), ("password", CONSOLE_PASSWORD)],
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("security token"), "{}", page.body);
    assert!(!c.cookies.contains_key("keyward_console"));
}

#[tokio::test]
async fn failed_sign_ins_lock_the_account_for_a_while_even_with_the_right_password() {
    let srv = TestServer::start_with(|c| {
        keyward_testkit::console::with_console_admin(c);
        c.signin_account_burst = 3;
        c.signin_account_per_minute = 1;
    })
    .await;
    let mut c = ConsoleClient::new(&srv);
    for _ in 0..3 {
        assert_eq!(
            c.sign_in(CONSOLE_ADMIN, "wrong-password-x").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let page = c.sign_in(CONSOLE_ADMIN, CONSOLE_PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers.contains_key("retry-after"));
    assert!(page.body.contains("Too many failed sign-ins"), "{}", page.body);
    assert!(!c.cookies.contains_key("keyward_console"));
    // A minute later one attempt is allowed again.
    srv.clock.advance(time::Duration::seconds(61));
    assert_eq!(
        c.sign_in(CONSOLE_ADMIN, CONSOLE_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn failed_sign_ins_from_one_address_are_limited_across_accounts() {
    let srv = TestServer::start_with(|c| {
        keyward_testkit::console::with_console_admin(c);
        c.signin_address_burst = 4;
        c.signin_address_per_minute = 1;
    })
    .await;
    let mut c = ConsoleClient::new(&srv);
    for n in 0..4 {
        let page = c.sign_in(&format!("guess-{n}"), "wrong-password-x").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let page = c.sign_in(CONSOLE_ADMIN, CONSOLE_PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let srv = console_server().await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get("/console/clients/new").await;
    let before = srv.snapshot().await;
    let page = c
        .post_raw(
            "/console/clients",
            &[("client_id", "csrf-victim"), ("client_name", "x")],
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("security token"), "{}", page.body);
    assert!(!srv.client_exists("csrf-victim").await);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn a_csrf_token_of_another_session_is_refused() {
    let srv = console_server().await;
    let mut other = ConsoleClient::signed_in(&srv).await;
    other.get("/console/clients/new").await;
    let stolen = other.csrf.clone().unwrap();
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get("/console/clients/new").await;
    let page = c
        .post_raw(
            "/console/clients",
            &[("csrf", stolen.as_str()), ("client_id", "csrf-victim")],
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!srv.client_exists("csrf-victim").await);
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_even_with_the_token() {
    let srv = console_server().await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get("/console/clients/new").await;
    let csrf = c.csrf.clone().unwrap();
    let page = c
        .post_raw(
            "/console/clients",
            &[("csrf", csrf.as_str()), ("client_id", "csrf-victim")],
            &[("origin", "https://attacker.example")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!srv.client_exists("csrf-victim").await);
}

#[tokio::test]
async fn every_state_changing_route_requires_the_csrf_token() {
    let srv = console_server().await;
    let (id, _) = srv.basic_client().await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get("/console/clients").await;
    let before = srv.snapshot().await;
    for path in [
        "/console/logout".to_owned(),
        "/console/clients".to_owned(),
        format!("/console/clients/{id}/settings"),
        format!("/console/clients/{id}/delete"),
        format!("/console/clients/{id}/authenticator"),
        format!("/console/clients/{id}/secret"),
        format!("/console/clients/{id}/secret-lifetime"),
        format!("/console/clients/{id}/keys/generate"),
        format!("/console/clients/{id}/jwks-uri"),
        format!("/console/clients/{id}/keys-cache/clear"),
        format!("/console/clients/{id}/credentials/some-id"),
        "/console/users".to_owned(),
        format!("/console/users/{CONSOLE_ADMIN}"),
        "/console/signing-keys/rotate".to_owned(),
    ] {
        let page = c
            .post_raw(&path, &[("action", "delete"), ("enabled", "false")], &[])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let upload = c
        .post_raw(
            &format!("/console/clients/{id}/keys/import"),
            &[("format", "pem")],
            &[],
        )
        .await;
    assert_ne!(upload.status, StatusCode::OK);
    assert_eq!(srv.snapshot().await, before);
    // Still signed in: the refused sign-out did not sign out.
    assert_eq!(c.get("/console/clients").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let srv = console_server().await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get("/console/clients").await;
    let cookie = c.cookies["keyward_console"].clone();
    let page = c.post("/console/logout", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/console/login"));
    // The old cookie, sent again, no longer works.
    c.cookies.insert("keyward_console".into(), cookie);
    let page = c.get("/console/clients").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/console/login"));
}

#[tokio::test]
async fn an_idle_session_expires() {
    let srv = console_server().await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    assert_eq!(c.get("/console/clients").await.status, StatusCode::OK);
    srv.clock.advance(time::Duration::seconds(
        i64::try_from(srv.config.console_session_idle_seconds).unwrap() + 1,
    ));
    let page = c.get("/console/clients").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/console/login"));
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_expiry() {
    let srv = TestServer::start_with(|c| {
        keyward_testkit::console::with_console_admin(c);
        c.console_session_idle_seconds = 600;
        c.console_session_max_seconds = 1800;
    })
    .await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    for _ in 0..5 {
        srv.clock.advance(time::Duration::seconds(300));
        assert_eq!(c.get("/console/clients").await.status, StatusCode::OK);
    }
    srv.clock.advance(time::Duration::seconds(301));
    assert_eq!(c.get("/console/clients").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_user_without_role_admin_cannot_use_the_console() {
    let srv = console_server().await;
    let token = srv.admin_token().await;
    let resp = srv
        .http
        .post(srv.url("/admin/users"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"username": "viewer", "password": "viewer-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let mut c = ConsoleClient::new(&srv);
    let page = c.sign_in("viewer", "viewer-password-1").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!c.cookies.contains_key("keyward_console"));
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions() {
    let srv = console_server().await;
    let mut admin = ConsoleClient::signed_in(&srv).await;
    admin.get("/console/users").await;
    let created = admin
        .post(
            "/console/users",
            &[
                ("username", "second"),
                ("password", "second-password-1"),
                ("admin", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let mut second = ConsoleClient::new(&srv);
    assert_eq!(
        second.sign_in("second", "second-password-1").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(second.get("/console/clients").await.status, StatusCode::OK);
    admin.get("/console/users").await;
    let page = admin
        .post("/console/users/second", &[("action", "disable")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(second.get("/console/clients").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn creating_a_client_stores_it_through_the_admin_operations_and_shows_its_secret_once() {
    let srv = console_server().await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get("/console/clients/new").await;
    let page = c
        .post(
            "/console/clients",
            &[
                ("client_id", "console-made"),
                ("client_name", "Made in the console"),
                ("token_endpoint_auth_method", "client_secret_post"),
                ("scope", "read"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let secret = page
        .body
        .split("id=\"once-secret\"")
        .nth(1)
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .expect("secret shown once")
        .to_owned();
    let resp = srv
        .token_post("console-made", &secret, &[("grant_type", "client_credentials")])
        .await;
    assert_token_for(resp, "console-made").await;
    let (events, _) = audit_log(&srv).await;
    let create = events.iter().find(|e| e["action"] == "client.create").unwrap();
    assert_eq!(create["actor"], format!("console:{CONSOLE_ADMIN}"));
    // Not shown again.
    let detail = c.get("/console/clients/console-made/credentials").await;
    assert!(!detail.body.contains(&secret));
}

#[tokio::test]
async fn a_refused_field_is_explained_next_to_it_and_nothing_is_stored() {
    let srv = console_server().await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    c.get("/console/clients/new").await;
    let before = srv.snapshot().await;
    let page = c
        .post(
            "/console/clients",
            &[("client_id", "bad-scope"), ("scope", "bad\"scope")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("id=\"err-scope\""), "{}", page.body);
    assert!(page.body.contains("aria-invalid=\"true\""));
    assert!(!srv.client_exists("bad-scope").await);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn values_are_escaped_in_pages() {
    let srv = console_server().await;
    srv.create_client(
        serde_json::json!({"client_id": "escaped", "client_name": "<script>alert(1)</script>"}),
    )
    .await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    let page = c.get("/console/clients").await;
    assert!(!page.body.contains("<script>alert(1)</script>"));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn the_clients_list_searches_and_pages_on_the_server() {
    let srv = console_server().await;
    for n in 0..55 {
        srv.create_client(
            serde_json::json!({"client_id": format!("svc-{n:03}"), "client_name": format!("Service {n}")}),
        )
        .await;
    }
    srv.create_client(serde_json::json!({"client_id": "billing", "client_name": "Billing backend"}))
        .await;
    let mut c = ConsoleClient::signed_in(&srv).await;
    let first = c.get("/console/clients").await;
    assert!(first.body.contains("rel=\"next\""));
    let found = c.get("/console/clients?search=BILLING").await;
    assert!(found.body.contains(">billing<"), "{}", found.body);
    assert!(!found.body.contains("svc-001"));
    let by_name = c.get("/console/clients?search=backend").await;
    assert!(by_name.body.contains(">billing<"));
}

#[tokio::test]
async fn over_https_the_console_cookies_are_secure() {
    let dir = tempfile::tempdir().unwrap();
    let cert = keyward_testkit::tls::TestCert::make(dir.path(), "localhost");
    let srv = TestServer::start_with(|c| {
        keyward_testkit::console::with_console_admin(c);
        c.tls_cert_file = Some(cert.cert.display().to_string());
        c.tls_key_file = Some(cert.key.display().to_string());
    })
    .await;
    assert!(srv.base.starts_with("https://"));
    let resp = keyward_testkit::tls::https_client(&[&cert], true)
        .get(srv.url("/console/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("keyward_console_login="), "{set}");
    assert!(set.contains("; Secure"), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
}
