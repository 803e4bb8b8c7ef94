#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The console in a real headless Chromium (WebDriver): what an administrator does with it, end
//! to end, checked against what the server then does (tokens issued or refused, keystores read
//! by keytool). Screenshots of the main pages are written to `target/screenshots/`.

use std::time::Duration;

use keyward_keys::{Format, ImportOptions, Password};
use keyward_testkit::{
    browser::Browser,
    console::{with_console_admin, CONSOLE_ADMIN, CONSOLE_PASSWORD},
    server::*,
};
use keyward_types::SigningAlg;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);

async fn console_server() -> TestServer {
    TestServer::start_with(|c| {
        with_console_admin(c);
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
    })
    .await
}

/// Sets a form control's value (selects, checkboxes) the way a user's choice would.
async fn set_value(b: &Browser, css: &str, value: &str) {
    let js = format!(
        "const e = document.querySelector({css:?}); e.value = {value:?}; e.dispatchEvent(new Event('change', {{bubbles: true}}));"
    );
    b.execute(&js).await;
}

/// Accepts every confirmation dialog of the page (a user clicking OK).
async fn accept_confirms(b: &Browser) {
    b.execute("window.confirm = () => true;").await;
}

async fn sign_in(b: &Browser, srv: &TestServer, password: &str) {
    b.goto(&srv.url("/console/login")).await;
    b.wait_for("#username", WAIT).await;
    b.fill("#username", CONSOLE_ADMIN).await;
    b.fill("#password", password).await;
    b.click("form[action='/console/login'] button[type=submit]").await;
}

/// The secret a page shows once.
async fn shown_secret(b: &Browser) -> String {
    b.wait_for("#once-secret", WAIT).await;
    b.execute("return document.getElementById('once-secret').value;")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_administrator_manages_client_credentials_in_the_browser() {
    let srv = console_server().await;
    let b = Browser::start(1280, 900).await;

    // A wrong password shows an error and signs nobody in.
    sign_in(&b, &srv, "wrong-password-here").await;
    b.wait_for("#signin-error", WAIT).await;
    assert!(b
        .text("#signin-error")
        .await
        .contains("Wrong username or password"));
    assert!(b.current_url().await.path() == "/console/login");
    b.screenshot("console-signin").await;

    sign_in(&b, &srv, CONSOLE_PASSWORD).await;
    b.wait_for("table, main h1", WAIT).await;
    assert!(b.current_url().await.path() == "/console/clients");

    // Create a client; its secret is shown once and gets a token.
    b.goto(&srv.url("/console/clients/new")).await;
    b.wait_for("#f-client_id", WAIT).await;
    b.fill("#f-client_id", "browser-app").await;
    b.fill("#f-client_name", "Browser app").await;
    b.fill("#f-scope", "read").await;
    b.click("form[action='/console/clients'] button[type=submit]")
        .await;
    let first = shown_secret(&b).await;
    assert_token_for(
        srv.token_basic("browser-app", &first, &[("grant_type", "client_credentials")])
            .await,
        "browser-app",
    )
    .await;

    // Regenerate: the new secret works, the old one stops.
    b.goto(&srv.url("/console/clients/browser-app/credentials")).await;
    b.wait_for("#h-secret", WAIT).await;
    b.screenshot("console-credentials-secret").await;
    accept_confirms(&b).await;
    b.click("form[action$='/secret'] button[type=submit]").await;
    b.wait_for(".notice", WAIT).await;
    let second = shown_secret(&b).await;
    assert_ne!(first, second);
    assert_token_for(
        srv.token_basic("browser-app", &second, &[("grant_type", "client_credentials")])
            .await,
        "browser-app",
    )
    .await;
    assert_invalid_client(
        srv.token_basic("browser-app", &first, &[("grant_type", "client_credentials")])
            .await,
        true,
    )
    .await;

    // Switch to Signed JWT, generate a PKCS#12 keystore, and sign with its key.
    set_value(&b, "#f-method", "private_key_jwt").await;
    b.click("form[action$='/authenticator'] button[type=submit]")
        .await;
    b.wait_for("#h-keys", WAIT).await;
    set_value(&b, "#f-key_type", "EC-P256").await;
    set_value(&b, "#f-format", "pkcs12").await;
    b.fill("#f-alias", "browser-key").await;
    b.fill("#f-store_password", "store-pass-123").await;
    b.fill("#f-name", "made in the browser").await;
    b.click("form[action$='/keys/generate'] button[type=submit]")
        .await;
    let p12 = b.wait_for_download(".p12", WAIT).await;
    let out = std::process::Command::new("keytool")
        .args([
            "-list",
            "-keystore",
            p12.to_str().unwrap(),
            "-storetype",
            "PKCS12",
            "-storepass",
            "store-pass-123",
        ])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{listing}");
    assert!(listing.contains("browser-key"), "{listing}");
    let bytes = std::fs::read(&p12).unwrap();
    let password = Password::new("store-pass-123");
    let key = keyward_keys::load_private_key(
        Format::Pkcs12,
        &bytes,
        ImportOptions {
            password: Some(&password),
            ..ImportOptions::default()
        },
    )
    .unwrap();
    let signer = keyward_jose::SigningKey::from_pkcs8(SigningAlg::ES256, key.pkcs8().clone()).unwrap();
    b.wait_for("#credentials", WAIT).await;
    let creds = credential_list(&srv, "browser-app").await;
    let kid = creds[0]["kid"].as_str().unwrap().to_owned();
    let assertion = |srv: &TestServer| {
        sign_jws(
            &signer,
            &json!({"alg": "ES256", "kid": kid}),
            &srv.claims("browser-app"),
        )
    };
    assert_token_for(srv.token_assertion(&assertion(&srv), &[]).await, "browser-app").await;

    // Import a certificate made by OpenSSL.
    b.goto(&srv.url("/console/clients/browser-app/credentials")).await;
    b.wait_for("#f-file", WAIT).await;
    set_value(&b, "#f-import-format", "pem").await;
    b.fill(
        "#f-file",
        interop("sample-rsa2048-cert.pem")
            .canonicalize()
            .unwrap()
            .to_str()
            .unwrap(),
    )
    .await;
    b.click("form[action$='/keys/import'] button[type=submit]").await;
    b.wait_for(".notice", WAIT).await;
    assert_eq!(
        credential_list(&srv, "browser-app")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    b.execute("document.getElementById('h-keys').scrollIntoView();")
        .await;
    b.screenshot("console-credentials-keys").await;

    // Disable the generated key: its assertions are refused.
    b.click(&format!("tr[data-kid='{kid}'] button[value=disable]"))
        .await;
    // The row offers Enable once the change is stored (an earlier notice may still be shown).
    b.wait_for(&format!("tr[data-kid='{kid}'] button[value=enable]"), WAIT)
        .await;
    assert_invalid_client(srv.token_assertion(&assertion(&srv), &[]).await, false).await;

    // A second client uses a JWKS URL.
    let jwks = JwksServer::start(&[ec_jwk()]).await;
    b.goto(&srv.url("/console/clients/new")).await;
    b.wait_for("#f-client_id", WAIT).await;
    b.fill("#f-client_id", "jwks-app").await;
    set_value(&b, "#f-token_endpoint_auth_method", "private_key_jwt").await;
    b.click("form[action='/console/clients'] button[type=submit]")
        .await;
    b.wait_for("main h1", WAIT).await;
    b.goto(&srv.url("/console/clients/jwks-app/credentials")).await;
    b.wait_for("#f-use-jwks-uri", WAIT).await;
    b.click("#f-use-jwks-uri").await;
    b.fill("#f-jwks_uri", &jwks.url()).await;
    b.click("form[action$='/jwks-uri'] button[type=submit]").await;
    b.wait_for(".notice", WAIT).await;
    let signed = sign_jws(
        &ec_key(),
        &json!({"alg": "ES256", "kid": ec_kid()}),
        &srv.claims("jwks-app"),
    );
    assert_token_for(srv.token_assertion(&signed, &[]).await, "jwks-app").await;

    // A form whose CSRF token was removed is refused, and nothing changes.
    b.goto(&srv.url("/console/clients/new")).await;
    b.wait_for("#f-client_id", WAIT).await;
    b.fill("#f-client_id", "forged").await;
    b.execute("document.querySelector(\"form[action='/console/clients'] input[name=csrf]\").remove();")
        .await;
    b.click("form[action='/console/clients'] button[type=submit]")
        .await;
    b.wait_for("main .error", WAIT).await;
    assert!(b.text("main .error").await.contains("security token"));
    assert!(!srv.client_exists("forged").await);

    // The other pages.
    for (path, shot) in [
        ("/console/clients", "console-clients"),
        ("/console/users", "console-users"),
        ("/console/audit", "console-audit"),
        ("/console/signing-keys", "console-signing-keys"),
    ] {
        b.goto(&srv.url(path)).await;
        b.wait_for("main h1", WAIT).await;
        b.screenshot(shot).await;
    }

    // Sign-out ends the session: the console asks to sign in again.
    b.click("form.signout button[type=submit]").await;
    b.wait_for("#username", WAIT).await;
    b.goto(&srv.url("/console/clients")).await;
    b.wait_for("#username", WAIT).await;
    assert!(b.current_url().await.path() == "/console/login");
    b.close().await;
}

#[tokio::test]
async fn the_session_expires_in_the_browser() {
    let srv = console_server().await;
    let b = Browser::start(1280, 900).await;
    sign_in(&b, &srv, CONSOLE_PASSWORD).await;
    b.wait_for("main h1", WAIT).await;
    assert!(b.current_url().await.path() == "/console/clients");
    srv.clock.advance(time::Duration::seconds(
        i64::try_from(srv.config.console_session_idle_seconds).unwrap() + 1,
    ));
    b.goto(&srv.url("/console/clients")).await;
    b.wait_for("#username", WAIT).await;
    assert!(b.current_url().await.path() == "/console/login");
    b.close().await;
}

#[tokio::test]
async fn the_phone_layout_has_no_horizontal_scrolling() {
    let srv = console_server().await;
    let (id, _) = srv.basic_client().await;
    let key_client = srv.key_client("phone-keys", &[ec_jwk()], json!({})).await;
    let b = Browser::start(390, 844).await;
    sign_in(&b, &srv, CONSOLE_PASSWORD).await;
    b.wait_for("main h1", WAIT).await;
    for (path, shot) in [
        ("/console/clients".to_owned(), Some("console-clients-390")),
        (format!("/console/clients/{id}"), None),
        (format!("/console/clients/{id}/credentials"), None),
        (
            format!("/console/clients/{key_client}/credentials"),
            Some("console-credentials-390"),
        ),
        ("/console/users".to_owned(), None),
        ("/console/audit".to_owned(), None),
        ("/console/signing-keys".to_owned(), None),
    ] {
        b.goto(&srv.url(&path)).await;
        b.wait_for("main h1", WAIT).await;
        let overflow = b
            .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{path} scrolls sideways by {overflow}px"
        );
        if let Some(name) = shot {
            b.screenshot(name).await;
        }
    }
    b.close().await;
}
