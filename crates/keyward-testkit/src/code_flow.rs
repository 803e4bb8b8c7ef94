//! The authorization code flow as a browser and a web application walk it, over HTTP: a user,
//! a client registered for the flow, PKCE, the sign-in and consent forms (through
//! [`ConsoleClient`], which keeps cookies and the last page's CSRF token), and the code exchange.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    console::{ConsoleClient, Page},
    oauth::basic_header,
    server::TestServer,
};

/// The end user the flow tests sign in as.
pub const USER: &str = "alice";
pub const USER_PASSWORD: &str = "alice-password-0123";
/// The redirect URI every code-flow test client registers.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A PKCE verifier and its `S256` challenge (RFC 7636).
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let mut bytes = [0u8; 32];
        keyward_types::random::fill(&mut bytes).unwrap();
        let verifier = keyward_jose::b64_encode(bytes);
        let challenge = keyward_jose::b64_encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            verifier.as_bytes(),
        ));
        Self { verifier, challenge }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// Creates an enabled user with a name and an email.
pub async fn create_user(srv: &TestServer, username: &str, password: &str) {
    let body = json!({"username": username, "password": password,
        "name": format!("Name of {username}"), "email": format!("{username}@example.com")});
    let (status, answer) = srv.admin(Method::POST, "/admin/users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// Registers a `client_secret_basic` client for the code flow (and refresh), redirecting to
/// [`REDIRECT_URI`]; `extra` members replace the defaults. Returns `(client_id, secret)`.
pub async fn code_client(srv: &TestServer, extra: Value) -> (String, String) {
    let mut metadata = json!({
        "client_name": "Code App",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [REDIRECT_URI],
        "scope": "read write",
    });
    if let (Some(m), Some(e)) = (metadata.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    srv.create_client(metadata).await
}

/// The query of `/authorize` for `client_id` with `pkce`; `extra` pairs are added, and a pair
/// whose name is already there replaces it (an empty value removes it).
pub fn authorize_query(client_id: &str, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), client_id.into()),
        ("redirect_uri".into(), REDIRECT_URI.into()),
        ("scope".into(), "openid profile email read".into()),
        ("state".into(), "state-1".into()),
        ("nonce".into(), "nonce-1".into()),
        ("code_challenge".into(), pkce.challenge.clone()),
        ("code_challenge_method".into(), "S256".into()),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        if !v.is_empty() {
            pairs.push(((*k).into(), (*v).into()));
        }
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The query parameters of a redirect's `Location`.
pub fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Follows the browser's way from a `Location` inside keyward until it leaves keyward (to the
/// client's redirect URI) or a page is shown. Returns the last answer.
pub async fn follow(browser: &mut ConsoleClient, mut page: Page) -> Page {
    for _ in 0..10 {
        let Some(location) = page.location().map(str::to_owned) else {
            return page;
        };
        if !location.starts_with('/') {
            return page;
        }
        page = browser.get(&location).await;
    }
    panic!("more than 10 redirects inside keyward");
}

/// The value of the hidden field `name` in a page.
pub fn hidden_of(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {body}"));
    let rest = &body[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Sends the sign-in form of `page` (with its interaction and the browser's CSRF token) and
/// follows the answer while it stays inside keyward.
pub async fn sign_in_on(browser: &mut ConsoleClient, page: &Page, username: &str, password: &str) -> Page {
    let interaction = hidden_of(&page.body, "interaction");
    let posted = browser
        .post(
            "/authorize/signin",
            &[
                ("interaction", &interaction),
                ("username", username),
                ("password", password),
            ],
        )
        .await;
    follow(browser, posted).await
}

/// Starts `/authorize` with `query`, signs in as `username` if asked, allows consent if asked,
/// and returns the final redirect to the client (its `Location` holds the code or an error).
pub async fn authorize(browser: &mut ConsoleClient, query: &str, username: &str, password: &str) -> Page {
    let first = browser.get(&format!("/authorize?{query}")).await;
    let mut page = follow(browser, first).await;
    if page.status == StatusCode::OK && page.body.contains("action=\"/authorize/signin\"") {
        page = sign_in_on(browser, &page, username, password).await;
    }
    if page.status == StatusCode::OK && page.body.contains("action=\"/authorize/consent\"") {
        let interaction = hidden_of(&page.body, "interaction");
        let posted = browser
            .post(
                "/authorize/consent",
                &[("interaction", &interaction), ("decision", "allow")],
            )
            .await;
        page = follow(browser, posted).await;
    }
    page
}

/// As [`authorize`], as [`USER`], and returns the code (asserting `state` and `iss`).
pub async fn code_for(srv: &TestServer, browser: &mut ConsoleClient, client_id: &str, pkce: &Pkce) -> String {
    let query = authorize_query(client_id, pkce, &[]);
    let page = authorize(browser, &query, USER, USER_PASSWORD).await;
    let location = page
        .location()
        .unwrap_or_else(|| panic!("no redirect: {} {}", page.status, page.body))
        .to_owned();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = query_of(&location);
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("state-1"),
        "{location}"
    );
    assert_eq!(params.get("iss"), Some(&srv.issuer()), "{location}");
    params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .clone()
}

/// `POST /token` with `client_secret_basic` and the form `pairs`.
pub async fn token_request(
    srv: &TestServer,
    id: &str,
    secret: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    srv.http
        .post(srv.url("/token"))
        .header("authorization", basic_header(id, secret))
        .form(pairs)
        .send()
        .await
        .unwrap()
}

/// Exchanges `code` with `client_secret_basic`.
pub async fn exchange(
    srv: &TestServer,
    id: &str,
    secret: &str,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    token_request(
        srv,
        id,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// `POST` to a back-channel endpoint (`/introspect`, `/revoke`, `/par`) with
/// `client_secret_basic`.
pub async fn backchannel(
    srv: &TestServer,
    path: &str,
    id: &str,
    secret: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    srv.http
        .post(srv.url(path))
        .header("authorization", basic_header(id, secret))
        .form(pairs)
        .send()
        .await
        .unwrap()
}

/// Whether introspection (by client `id`) says `token` is active.
pub async fn is_active(srv: &TestServer, id: &str, secret: &str, token: &str) -> bool {
    let resp = backchannel(srv, "/introspect", id, secret, &[("token", token)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["active"].as_bool().unwrap()
}
