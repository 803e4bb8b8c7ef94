#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The authorization code flow in a real headless Chromium (WebDriver), walked as a person walks
//! it: the application sends the browser to `/authorize`, the person signs in (once with a wrong
//! password), reads what the application asks for and allows it, and the browser arrives at the
//! application's redirect URI with a code that the application exchanges for tokens. Then single
//! sign-on, a denial, and signing out, in the same browser with its own cookies; and the pages at
//! phone width. Screenshots of the pages are written to `target/screenshots/`.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use keyward_testkit::{browser::Browser, code_flow::*, oauth::jwt_parts, server::TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(15);
const SIGN_IN_BUTTON: &str = "form[action='/authorize/signin'] button[type=submit]";
const ALLOW: &str = "form[action='/authorize/consent'] button[name=decision][value=allow]";
const DENY: &str = "form[action='/authorize/consent'] button[name=decision][value=deny]";

async fn server_with_user() -> TestServer {
    let srv = TestServer::start().await;
    create_user(&srv, USER, USER_PASSWORD).await;
    srv
}

/// Waits until the browser is at the client's redirect URI (nothing listens there, so Chromium
/// shows its own error page; the address is what counts) and returns that URL's query.
async fn arrival_at_client(b: &Browser) -> HashMap<String, String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = b.current_url().await;
        if url.as_str().starts_with(REDIRECT_URI) {
            return query_of(url.as_str());
        }
        assert!(
            Instant::now() < deadline,
            "the browser did not reach {REDIRECT_URI} within {WAIT:?}; it is at {url}\n--- page text:\n{}",
            page_text(b).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for an element that `css` selects; when none comes, says which page the browser shows.
async fn wait_for(b: &Browser, css: &str) {
    let deadline = Instant::now() + WAIT;
    let js = format!("return document.querySelector({css:?}) !== null;");
    while b.execute(&js).await != Value::Bool(true) {
        assert!(
            Instant::now() < deadline,
            "no element matched {css:?} within {WAIT:?} on {}\n--- page text:\n{}",
            b.current_url().await,
            page_text(b).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_text(b: &Browser) -> String {
    b.execute("return document.body ? document.body.innerText : '';")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Types into the sign-in form and submits it.
async fn sign_in(b: &Browser, password: &str) {
    wait_for(b, "#username").await;
    b.fill("#username", USER).await;
    b.fill("#password", password).await;
    b.click(SIGN_IN_BUTTON).await;
}

/// How far the page scrolls sideways, in CSS pixels.
async fn sideways_overflow(b: &Browser) -> i64 {
    b.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        .await
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_person_signs_in_consents_and_the_application_gets_tokens() {
    let srv = server_with_user().await;
    let (id, secret) = code_client(
        &srv,
        json!({"client_name": "Photo Printer",
               "post_logout_redirect_uris": ["http://127.0.0.1:9/signed-out"]}),
    )
    .await;
    let pkce = Pkce::new();
    let b = Browser::start(1024, 768).await;

    // The application sends the browser to keyward; the sign-in page names the application.
    b.goto(&srv.url(&format!("/authorize?{}", authorize_query(&id, &pkce, &[]))))
        .await;
    wait_for(&b, "#username").await;
    assert_eq!(b.current_url().await.path(), "/authorize/signin");
    assert_eq!(b.text("main h1").await, "Sign in");
    assert!(
        b.text("main").await.contains("to continue to Photo Printer"),
        "{}",
        page_text(&b).await
    );
    b.screenshot("code-flow-signin").await;

    // A wrong password: the page says so and nobody is signed in.
    sign_in(&b, "not-alices-password").await;
    wait_for(&b, "#signin-error").await;
    assert_eq!(b.text("#signin-error").await, "Wrong username or password.");
    assert_eq!(
        b.execute("return document.getElementById('username').value;")
            .await,
        json!(USER),
        "the username typed is kept"
    );
    assert!(
        !b.cookies().await.iter().any(|c| c.name == "keyward_session"),
        "no session after a wrong password"
    );
    b.screenshot("code-flow-signin-error").await;

    // The right password: the consent page says who asks for what, for whom.
    sign_in(&b, USER_PASSWORD).await;
    wait_for(&b, ALLOW).await;
    assert_eq!(b.current_url().await.path(), "/authorize/consent");
    assert_eq!(b.text("main h1").await, "Allow access?");
    let consent = b.text("main").await;
    for words in [
        "Photo Printer asks to:",
        "Know who you are (your user id)",
        "See your name and username",
        "See your email address",
        "Use the permission \u{201c}read\u{201d}",
        "Signed in as alice.",
    ] {
        assert!(consent.contains(words), "{words:?} is not in:\n{consent}");
    }
    let session = b
        .cookies()
        .await
        .into_iter()
        .find(|c| c.name == "keyward_session")
        .expect("a session cookie after signing in");
    assert!(session.http_only, "{session:?}");
    assert_eq!(session.same_site.as_deref(), Some("Lax"), "{session:?}");
    b.screenshot("code-flow-consent").await;

    // Allow: the browser goes to the application with a code, which it exchanges.
    b.click(ALLOW).await;
    let params = arrival_at_client(&b).await;
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("state-1"),
        "{params:?}"
    );
    assert_eq!(params.get("iss"), Some(&srv.issuer()), "{params:?}");
    let code = params.get("code").expect("a code").clone();
    let resp = exchange(&srv, &id, &secret, &code, &pkce.verifier).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let (_, id_token) = jwt_parts(body["id_token"].as_str().unwrap());
    assert_eq!(id_token["sub"], USER);
    assert_eq!(id_token["aud"], id.as_str());
    assert_eq!(id_token["nonce"], "nonce-1");
    let (_, access) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], USER);
    assert_eq!(body["scope"], "email openid profile read");

    // Single sign-on: the next request goes straight back with a new code, no page shown.
    let sso = Pkce::new();
    b.goto(&srv.url(&format!(
        "/authorize?{}",
        authorize_query(&id, &sso, &[("state", "state-2")])
    )))
    .await;
    let params = arrival_at_client(&b).await;
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("state-2"),
        "{params:?}"
    );
    let second = params.get("code").expect("a code without any page").clone();
    assert_ne!(second, code);
    let resp = exchange(&srv, &id, &secret, &second, &sso.verifier).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Asked again (prompt=consent), the person denies: the application hears access_denied.
    b.goto(&srv.url(&format!(
        "/authorize?{}",
        authorize_query(&id, &pkce, &[("prompt", "consent"), ("state", "state-3")])
    )))
    .await;
    wait_for(&b, DENY).await;
    assert_eq!(b.current_url().await.path(), "/authorize/consent");
    b.click(DENY).await;
    let params = arrival_at_client(&b).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied"),
        "{params:?}"
    );
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("state-3"),
        "{params:?}"
    );
    assert_eq!(params.get("iss"), Some(&srv.issuer()), "{params:?}");
    assert!(!params.contains_key("code"), "{params:?}");

    // Signing out without a hint asks first; saying yes ends the session.
    b.goto(&srv.url("/logout")).await;
    wait_for(&b, "form[action='/logout/confirm'] button[type=submit]").await;
    assert_eq!(b.text("main h1").await, "Sign out?");
    b.screenshot("code-flow-logout").await;
    b.click("form[action='/logout/confirm'] button[type=submit]")
        .await;
    wait_for(&b, "main h1").await;
    assert_eq!(b.text("main h1").await, "You are signed out");
    assert!(
        !b.cookies().await.iter().any(|c| c.name == "keyward_session"),
        "the session cookie is gone"
    );
    b.screenshot("code-flow-signed-out").await;

    // Signed out: a silent request (prompt=none) is answered login_required.
    b.goto(&srv.url(&format!(
        "/authorize?{}",
        authorize_query(&id, &pkce, &[("prompt", "none"), ("state", "state-4")])
    )))
    .await;
    let params = arrival_at_client(&b).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("login_required"),
        "{params:?}"
    );
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("state-4"),
        "{params:?}"
    );
    b.close().await;
}

#[tokio::test]
async fn the_sign_in_and_consent_pages_fit_a_phone() {
    let srv = server_with_user().await;
    let (id, _) = code_client(
        &srv,
        // one 51-character word: it must wrap, not push the page sideways
        json!({"client_name": "PhotoPrinterWithARatherLongNameForASmallScreenToo51"}),
    )
    .await;
    let pkce = Pkce::new();
    let b = Browser::start(390, 844).await;
    assert_eq!(
        b.execute("return document.documentElement.clientWidth;").await,
        json!(390),
        "the page is not 390 px wide"
    );
    b.goto(&srv.url(&format!(
        "/authorize?{}",
        authorize_query(
            &id,
            &pkce,
            &[("scope", "openid profile email offline_access read write")]
        )
    )))
    .await;

    wait_for(&b, "#username").await;
    let overflow = sideways_overflow(&b).await;
    assert!(overflow <= 0, "the sign-in page scrolls sideways by {overflow}px");
    b.screenshot("code-flow-signin-390").await;

    sign_in(&b, "not-alices-password").await;
    wait_for(&b, "#signin-error").await;
    let overflow = sideways_overflow(&b).await;
    assert!(
        overflow <= 0,
        "the sign-in error page scrolls sideways by {overflow}px"
    );

    sign_in(&b, USER_PASSWORD).await;
    wait_for(&b, ALLOW).await;
    let overflow = sideways_overflow(&b).await;
    assert!(overflow <= 0, "the consent page scrolls sideways by {overflow}px");
    b.screenshot("code-flow-consent-390").await;

    b.click(ALLOW).await;
    let params = arrival_at_client(&b).await;
    assert!(params.contains_key("code"), "{params:?}");
    b.close().await;
}
