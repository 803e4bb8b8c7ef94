//! A browser stand-in for the console's HTTP tests: keeps the cookies it is given, does not
//! follow redirects (tests look at them), and sends each form with the CSRF token of the page it
//! last loaded, as a browser posting that page's form would.

use std::collections::BTreeMap;

use reqwest::{header, redirect, StatusCode};

use crate::server::TestServer;

/// The password console tests give the first administrator (`admin_password`).
pub const CONSOLE_ADMIN: &str = "admin";
pub const CONSOLE_PASSWORD: &str = "console-test-password-1";

pub struct ConsoleClient {
    pub base: String,
    http: reqwest::Client,
    /// Cookies by name, as the server last set them.
    pub cookies: BTreeMap<String, String>,
    /// The raw `Set-Cookie` values of the last response.
    pub last_set_cookies: Vec<String>,
    /// The CSRF token of the last page loaded.
    pub csrf: Option<String>,
}

/// A page as the console answered it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }
}

/// The value of the first `name="csrf" value="…"` field in a page.
pub fn csrf_of(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")?;
    let rest = &body[at + "name=\"csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl ConsoleClient {
    pub fn new(srv: &TestServer) -> Self {
        Self {
            base: srv.base.clone(),
            http: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            last_set_cookies: Vec::new(),
            csrf: None,
        }
    }

    /// Signs in as the test administrator; panics unless it works.
    pub async fn signed_in(srv: &TestServer) -> Self {
        let mut c = Self::new(srv);
        let page = c.sign_in(CONSOLE_ADMIN, CONSOLE_PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        c
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        self.last_set_cookies = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &self.last_set_cookies {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let body = resp.text().await.unwrap();
        if let Some(t) = csrf_of(&body) {
            self.csrf = Some(t);
        }
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(resp).await
    }

    /// Posts `fields` as they are (no CSRF token added), with extra headers.
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .form(fields);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        self.read(resp).await
    }

    /// Posts a form with the CSRF token of the last page loaded.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone().expect("load a page before posting its form");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, &[]).await
    }

    /// Posts a multipart form (file field `file`) with the CSRF token of the last page.
    pub async fn post_file(&mut self, path: &str, fields: &[(&str, &str)], file: Vec<u8>) -> Page {
        let csrf = self.csrf.clone().expect("load a page before posting its form");
        let mut form = reqwest::multipart::Form::new().text("csrf", csrf);
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(file).file_name("upload"));
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.read(resp).await
    }

    /// Loads the sign-in form and sends it.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/console/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        self.post(
            "/console/login",
            &[("username", username), ("password", password)],
        )
        .await
    }
}

/// Gives a test server's first administrator [`CONSOLE_PASSWORD`].
pub fn with_console_admin(config: &mut keyward_server::Config) {
    config.admin_username = CONSOLE_ADMIN.into();
    config.admin_password = Some(CONSOLE_PASSWORD.into());
}

/// A server whose console the test administrator can sign in to.
pub async fn console_server() -> TestServer {
    TestServer::start_with(with_console_admin).await
}
