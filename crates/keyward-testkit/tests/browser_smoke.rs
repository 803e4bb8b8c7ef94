//! The browser harness on a page of its own: Chromium installed if need be, a form filled and
//! submitted, a cookie read back, a file downloaded, a screenshot taken, and the layout measured
//! at a phone's width. If this fails, the admin console's browser tests cannot be trusted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{collections::HashMap, time::Duration};

use axum::{
    http::header,
    response::{Html, IntoResponse},
    routing::{get, post},
    Form, Router,
};
use keyward_testkit::browser::Browser;

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>smoke</title></head>
<body>
<form method="post" action="/greet">
  <label for="name">Name</label> <input id="name" name="name">
  <button id="send" type="submit">Send</button>
</form>
<p><a id="download" href="/report.csv">Download the report</a></p>
</body></html>"#;

/// Not only ASCII, so that a download that re-encodes its body would show.
const REPORT: &[u8] = "id,name\n1,Zoë\n2,Ada\n".as_bytes();

async fn greet(Form(form): Form<HashMap<String, String>>) -> impl IntoResponse {
    // Only letters, digits and spaces go back into the page: no HTML escaping needed.
    let name: String = form
        .get("name")
        .map(String::as_str)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect();
    (
        [(
            header::SET_COOKIE,
            "smoke=greeted; Path=/; HttpOnly; SameSite=Strict",
        )],
        Html(format!("<!doctype html><p id=\"result\">Hello, {name}!</p>")),
    )
}

async fn report() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"report.csv\""),
        ],
        REPORT,
    )
}

async fn serve() -> String {
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/greet", post(greet))
        .route("/report.csv", get(report));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn browser_fills_a_form_downloads_a_file_and_takes_a_screenshot() {
    let base = serve().await;
    let browser = Browser::start(1280, 800).await;

    browser.goto(&format!("{base}/")).await;
    browser.fill("#name", "Ada").await;
    browser.click("#send").await;
    browser.wait_for("#result", Duration::from_secs(10)).await;
    assert_eq!(browser.text("#result").await, "Hello, Ada!");
    assert_eq!(browser.current_url().await.path(), "/greet");

    let cookies = browser.cookies().await;
    let smoke = cookies
        .iter()
        .find(|c| c.name == "smoke")
        .expect("the cookie /greet set");
    assert_eq!(smoke.value, "greeted");
    assert!(smoke.http_only);
    assert_eq!(smoke.same_site.as_deref(), Some("Strict"));
    assert!(!smoke.secure);
    browser.delete_all_cookies().await;
    assert!(browser.cookies().await.is_empty());

    browser.goto(&format!("{base}/")).await;
    browser.click("#download").await;
    let file = browser.wait_for_download(".csv", Duration::from_secs(20)).await;
    assert_eq!(file.file_name().unwrap(), "report.csv");
    assert_eq!(std::fs::read(&file).unwrap(), REPORT);

    let shot = browser.screenshot("browser_smoke").await;
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        shot.display()
    );

    browser.set_window_size(390, 844).await;
    let widths = browser
        .execute("return [document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    let (scroll, inner) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(inner <= 390, "the viewport is {inner} px wide at a 390 px window");
    assert!(
        scroll <= inner,
        "the page scrolls sideways at {inner} px: {scroll} px wide"
    );

    browser.close().await;
}
