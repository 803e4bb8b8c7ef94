//! Headless Chromium driven over WebDriver, for the tests of the admin console.
//!
//! [`ensure_chromium`] installs Debian's `chromium` and `chromium-driver` when they are missing,
//! so that `cargo test --workspace` passes on a fresh machine by itself; where that is impossible
//! the test fails and says what to install by hand. [`Browser`] runs its own `chromedriver` on a
//! loopback port with a fresh profile and download directory, and every method panics with what
//! it was doing when the browser fails (a test-only helper, see the crate docs).

use std::{
    fs::File,
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{elements::Element, wd::Capabilities, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rustix::process::{kill_process_group, Pid, Signal};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::tools::target_dir;

mod install;

pub use install::ensure_chromium;

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's `chromium-driver` package puts the WebDriver server.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The Debian packages that provide [`CHROMIUM`] and [`CHROMEDRIVER`].
pub const APT_PACKAGES: [&str; 2] = ["chromium", "chromium-driver"];

/// How long `chromedriver` may take to answer its status endpoint.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A cookie as the browser holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserCookie {
    pub name: String,
    pub value: String,
    pub http_only: bool,
    /// `Strict`, `Lax` or `None`, as the browser reports it; `None` when it reports nothing.
    pub same_site: Option<String>,
    pub secure: bool,
}

/// `chromedriver` as a child process in its own process group, so that dropping it also ends
/// the Chromium it started.
struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = kill_process_group(Pid::from_child(&self.child), Signal::KILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One headless Chromium session, with its own `chromedriver`, profile and download directory.
pub struct Browser {
    client: fantoccini::Client,
    downloads: TempDir,
    // Dropped after the client: the driver is killed, then the profile is removed.
    _driver: Driver,
    _dirs: TempDir,
}

impl Browser {
    /// Installs Chromium if need be, starts `chromedriver` on a free loopback port and opens a
    /// session with a `width`×`height` window.
    pub async fn start(width: u32, height: u32) -> Self {
        // apt may run for minutes: off the runtime's threads, so the test's own servers go on.
        if let Err(e) = tokio::task::spawn_blocking(ensure_chromium).await {
            match e.try_into_panic() {
                Ok(why) => std::panic::resume_unwind(why),
                Err(e) => panic!("installing Chromium did not finish: {e}"),
            }
        }
        let dirs = tempfile::Builder::new()
            .prefix("keyward-browser-")
            .tempdir()
            .unwrap();
        let downloads = tempfile::Builder::new()
            .prefix("keyward-downloads-")
            .tempdir()
            .unwrap();
        let profile = dirs.path().join("profile");
        let log = dirs.path().join("chromedriver.log");
        let (mut driver, port) = spawn_driver(&log);
        wait_until_ready(&mut driver, port, &log).await;

        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities(width, height, &profile, downloads.path()));
        let client = builder
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a WebDriver session with {CHROMIUM}: {e}\n--- chromedriver log:\n{}",
                    read_log(&log)
                )
            });
        // Headless Chromium opens no window narrower than 500 px, whatever the capabilities say;
        // a resize once it is open gives the width asked for (a phone's 390 px).
        client.set_window_size(width, height).await.unwrap();
        Self {
            client,
            downloads,
            _driver: driver,
            _dirs: dirs,
        }
    }

    /// The fantoccini client, for what the methods here do not cover.
    pub fn client(&self) -> &fantoccini::Client {
        &self.client
    }

    /// Where the browser saves downloads.
    pub fn downloads_dir(&self) -> &Path {
        self.downloads.path()
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!(
                "no element matches {css:?} on {}: {e}",
                self.url_for_message().await
            ),
        }
    }

    /// Clears the field that `css` selects and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("cannot clear {css:?}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css:?}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css:?}: {e}"));
    }

    /// The rendered text of the element that `css` selects.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("cannot read the text of {css:?}: {e}"))
    }

    pub async fn current_url(&self) -> url::Url {
        self.client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("cannot read the current URL: {e}"))
    }

    /// Resizes the window (its outer size; headless Chromium draws no frame around the page).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("cannot resize the window to {width}x{height}: {e}"));
    }

    /// Writes a PNG of the viewport to `screenshots/NAME.png` under the target directory and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("cannot take screenshot {name}: {e}"));
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Waits up to `timeout` for an element that `css` selects.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        match self
            .client
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no element matched {css:?} within {timeout:?} on {}: {e}",
                self.url_for_message().await
            ),
        }
    }

    /// Waits up to `timeout` for a finished download whose file name ends with `suffix`. Chromium
    /// writes a download to a `.crdownload` file and renames it when complete, so a file with the
    /// final name is whole.
    pub async fn wait_for_download(&self, suffix: &str, timeout: Duration) -> PathBuf {
        let deadline = Instant::now() + timeout;
        loop {
            let entries = std::fs::read_dir(self.downloads.path()).unwrap();
            let names: Vec<String> = entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            if let Some(done) = names
                .iter()
                .find(|n| n.ends_with(suffix) && !n.ends_with(".crdownload"))
            {
                return self.downloads.path().join(done);
            }
            assert!(
                Instant::now() < deadline,
                "no download ending in {suffix:?} within {timeout:?} in {}; it holds {names:?}",
                self.downloads.path().display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The cookies visible to the current page.
    pub async fn cookies(&self) -> Vec<BrowserCookie> {
        let cookies = self
            .client
            .get_all_cookies()
            .await
            .unwrap_or_else(|e| panic!("cannot read the cookies: {e}"));
        cookies
            .iter()
            .map(|c| BrowserCookie {
                name: c.name().to_owned(),
                value: c.value().to_owned(),
                http_only: c.http_only().unwrap_or(false),
                same_site: c.same_site().map(|s| s.to_string()),
                secure: c.secure().unwrap_or(false),
            })
            .collect()
    }

    pub async fn delete_all_cookies(&self) {
        self.client
            .delete_all_cookies()
            .await
            .unwrap_or_else(|e| panic!("cannot delete the cookies: {e}"));
    }

    /// Runs `js` as the body of a function in the page and returns what it returns, e.g.
    /// `return document.documentElement.scrollWidth`.
    pub async fn execute(&self, js: &str) -> Value {
        self.client
            .execute(js, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n--- script:\n{js}"))
    }

    /// Ends the session, which quits Chromium; dropping the browser then stops `chromedriver`.
    pub async fn close(self) {
        self.client
            .clone()
            .close()
            .await
            .unwrap_or_else(|e| panic!("cannot close the browser session: {e}"));
    }

    async fn url_for_message(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("(current URL unknown: {e})"),
        }
    }
}

fn capabilities(width: u32, height: u32, profile: &Path, downloads: &Path) -> Capabilities {
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .map(String::from)
    .into_iter()
    .chain([
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.display()),
    ])
    .collect::<Vec<_>>();
    // chromedriver passes the download directory of the prefs on to headless Chromium itself, so
    // no DevTools call is needed for downloads.
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        },
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// `$CARGO_TARGET_DIR/screenshots`, else `screenshots` in the target directory of the running test.
pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(target_dir, PathBuf::from)
        .join("screenshots")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_driver(log: &Path) -> (Driver, u16) {
    let port = free_port();
    let out = File::create(log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
    let err = out.try_clone().unwrap();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    (Driver { child }, port)
}

/// Polls chromedriver's `/status` until it says it is ready.
async fn wait_until_ready(driver: &mut Driver, port: u16, log: &Path) {
    let deadline = Instant::now() + DRIVER_START_TIMEOUT;
    loop {
        if driver_ready(port).await {
            return;
        }
        if let Ok(Some(status)) = driver.child.try_wait() {
            panic!(
                "{CHROMEDRIVER} exited with {status}\n--- its log:\n{}",
                read_log(log)
            );
        }
        assert!(
            Instant::now() < deadline,
            "{CHROMEDRIVER} did not answer on port {port} within {DRIVER_START_TIMEOUT:?}\n--- its log:\n{}",
            read_log(log)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One `GET /status` over a bare TCP stream (the testkit's reqwest is built for TLS with a
/// crypto provider chosen by the test); chromedriver speaks HTTP/1.1 only. The body is read until
/// it parses as JSON, since chromedriver may keep the connection open.
async fn driver_ready(port: u16) -> bool {
    let status = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request = b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        stream.write_all(request).await.ok()?;
        let mut response = Vec::new();
        loop {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            response.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&response);
            if let Some((_, body)) = text.split_once("\r\n\r\n") {
                if let Ok(status) = serde_json::from_str::<Value>(body) {
                    return Some(status);
                }
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(2), status).await {
        Ok(Some(status)) => status["value"]["ready"] == Value::Bool(true),
        _ => false,
    }
}

fn read_log(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_else(|e| format!("(cannot read {}: {e})", log.display()))
}
