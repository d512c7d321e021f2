//! Headless Chromium for page tests, driven over W3C WebDriver (chromedriver) with plain
//! reqwest calls, and axe-core for WCAG 2.1 A/AA checks.
//!
//! ```ignore
//! let Some(browser) = Browser::start().await else { return }; // skipped: no Chromium
//! browser.goto(&format!("{}/citizen", app.base)).await;
//! browser.find("#username").await.send_keys("borger").await;
//! browser.press_tab().await;                      // keyboard only
//! assert_eq!(browser.active_element().await.attr("id").await.as_deref(), Some("password"));
//! browser.set_window_size(320, 640).await;        // reflow check
//! assert_no_axe_violations(&browser, "citizen front page").await;
//! ```
//!
//! Starting Chromium costs 1–3 s: reuse one `Browser` for many pages. chromedriver runs in
//! its own process group in a temp dir (TMPDIR too, so Chromium's scratch dirs land there);
//! dropping the `Browser` ends the session (closing Chromium) and then stops the group.
//! Missing tools skip the test, unless `TEST_REQUIRE_BROWSER=1` (scripts/test).
#![allow(dead_code)] // the page tests use more of this as they land

use std::io::{Read as _, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::peers::free_port;
use crate::peers::oidc::{missing, node_dir};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// W3C WebDriver's key for element references.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/// Runs after axe.min.js inside the Execute Async Script wrapper; only JSON comes back.
const AXE_RUNNER: &str = r#"
;const tags = arguments[0], done = arguments[arguments.length - 1];
window.axe.run(document, { runOnly: tags })
  .then(r => done({ violations: r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.map(n => n.target.join(' ')) })) }))
  .catch(e => done({ error: String(e) }));
"#;

/// Keys for [`Browser::press`] (WebDriver's code points).
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const SPACE: &str = " ";
    pub const SHIFT_TAB: &str = "\u{E008}\u{E004}";
}

/// One axe-core finding.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    #[serde(default)]
    pub help: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

/// The WebDriver session, shared by the browser and its elements.
struct Session {
    http: reqwest::Client,
    url: String,
}

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let answer: Value = response.json().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value["message"].as_str().unwrap_or_default().lines().next().unwrap_or_default();
            return Err(format!("{method} {path}: {error}: {message}"));
        }
        Ok(value)
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await.unwrap_or_else(|e| panic!("WebDriver {e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await.unwrap_or_else(|e| panic!("WebDriver {e}"))
    }

    /// Mark the current document, so that a new one can be told apart from it.
    async fn mark_page(&self, navigates: bool) {
        if navigates {
            self.post("/execute/sync", json!({ "script": "window.__bbOldPage = true; return true;", "args": [] }))
                .await;
        }
    }

    /// WebDriver may answer a click before the page it leads to has arrived: wait (at most
    /// 10 s) until a new, fully loaded document replaces the marked one.
    async fn wait_for_new_page(&self, navigates: bool) {
        if !navigates {
            return;
        }
        let script = "return window.__bbOldPage !== true && document.readyState === 'complete';";
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let settled =
                self.call(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [] })));
            if settled.await.ok() == Some(json!(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

/// Whether clicking the element (the script's argument) leads to another page.
const NAVIGATES_ON_CLICK: &str = "const e = arguments[0]; \
    return e.tagName === 'A' && !!e.getAttribute('href') && !e.getAttribute('href').startsWith('#') \
      || (!!e.form && (e.tagName === 'BUTTON' ? e.type !== 'button' : e.type === 'submit'));";
/// Whether Enter on the focused element leads to another page.
const NAVIGATES_ON_ENTER: &str = "const e = document.activeElement; \
    if (!e) return false; \
    if (e.tagName === 'A') return !!e.getAttribute('href') && !e.getAttribute('href').startsWith('#'); \
    if (e.tagName === 'BUTTON') return !!e.form && e.type !== 'button'; \
    return !!e.form && e.tagName === 'INPUT' && !['checkbox', 'radio', 'button'].includes(e.type);";

pub struct Browser {
    session: Arc<Session>,
    driver_port: u16,
    session_id: String,
    driver: Child,
    dir: PathBuf,
}

/// An element on the current page.
#[derive(Clone)]
pub struct Element {
    session: Arc<Session>,
    id: String,
}

impl Browser {
    /// Start chromedriver and Chromium. None: skipped (see the module docs).
    pub async fn start() -> Option<Browser> {
        for tool in [CHROMEDRIVER, CHROMIUM] {
            if !Path::new(tool).exists() {
                missing(&format!("{tool} is not installed (apt-get install chromium chromium-driver)"));
                return None;
            }
        }
        if !Self::axe_available() {
            missing(&format!("npm axe-core is not installed in {}", node_dir().display()));
            return None;
        }
        let dir = crate::harness::temp_dir("browser");
        let port = free_port();
        let log = std::fs::File::create(dir.join("chromedriver.out")).expect("chromedriver log");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", dir.join("chromedriver.log").display()))
            .env("TMPDIR", &dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("chromedriver log"))
            .stderr(log)
            // Chromium inherits the group: one signal stops both, even without DELETE session
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("HTTP client");
        let driver_url = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            session: Arc::new(Session { http: http.clone(), url: driver_url.clone() }),
            driver_port: port,
            session_id: String::new(),
            driver,
            dir,
        };
        let start = Instant::now();
        loop {
            let ready =
                async { http.get(format!("{driver_url}/status")).send().await.ok()?.json::<Value>().await.ok() };
            if ready.await.is_some_and(|s| s["value"]["ready"] == true) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "chromedriver never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = browser.dir.join("profile");
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                // no DNS at all: only loopback pages load
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                format!("--user-data-dir={}", profile.display()),
            ]}
        }}});
        let created = browser.session.post("/session", capabilities).await;
        let id = created["sessionId"].as_str().expect("session id").to_owned();
        browser.session = Arc::new(Session { http, url: format!("{driver_url}/session/{id}") });
        browser.session_id = id;
        browser.session.post("/timeouts", json!({ "script": 30_000, "pageLoad": 30_000, "implicit": 0 })).await;
        Some(browser)
    }

    /// Load a page; returns after its load event.
    pub async fn goto(&self, url: &str) {
        self.session.post("/url", json!({ "url": url })).await;
    }

    pub async fn current_url(&self) -> String {
        self.session.get("/url").await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn title(&self) -> String {
        self.session.get("/title").await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn page_source(&self) -> String {
        self.session.get("/source").await.as_str().unwrap_or_default().to_owned()
    }

    /// The first element matching `css`; panics when there is none.
    pub async fn find(&self, css: &str) -> Element {
        self.try_find(css).await.unwrap_or_else(|| panic!("no element matches {css:?}"))
    }

    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let body = json!({ "using": "css selector", "value": css });
        let found = self.session.call(reqwest::Method::POST, "/element", Some(body)).await.ok()?;
        Some(self.element(&found))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self.session.post("/elements", json!({ "using": "css selector", "value": css })).await;
        found.as_array().map(|all| all.iter().map(|e| self.element(e)).collect()).unwrap_or_default()
    }

    fn element(&self, reference: &Value) -> Element {
        let id = reference[ELEMENT_KEY].as_str().expect("element reference").to_owned();
        Element { session: Arc::clone(&self.session), id }
    }

    /// The element that has the keyboard focus (`body` when nothing has).
    pub async fn active_element(&self) -> Element {
        let found = self.session.get("/element/active").await;
        self.element(&found)
    }

    /// Type keys to whatever has the focus, as a keyboard would (see [`keys`]).
    pub async fn press(&self, keys: &str) {
        let mut actions = Vec::new();
        let chars: Vec<char> = keys.chars().collect();
        // a modifier (shift) stays down until the end: SHIFT_TAB is shift + tab
        let (modifiers, rest): (Vec<char>, Vec<char>) = chars.iter().partition(|c| **c == '\u{E008}');
        for c in modifiers.iter().chain(rest.iter()) {
            actions.push(json!({ "type": "keyDown", "value": c.to_string() }));
            if *c != '\u{E008}' {
                actions.push(json!({ "type": "keyUp", "value": c.to_string() }));
            }
        }
        for c in &modifiers {
            actions.push(json!({ "type": "keyUp", "value": c.to_string() }));
        }
        let body = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.session.post("/actions", body).await;
    }

    pub async fn press_tab(&self) {
        self.press(keys::TAB).await;
    }

    /// Enter; when that follows a link or submits a form, wait for the next page to load.
    pub async fn press_enter(&self) {
        let navigates = self.session.post("/execute/sync", json!({ "script": NAVIGATES_ON_ENTER, "args": [] })).await
            == json!(true);
        self.session.mark_page(navigates).await;
        self.press(keys::ENTER).await;
        self.session.wait_for_new_page(navigates).await;
    }

    /// Viewport-ish size of the window (320 wide for the WCAG 1.4.10 reflow check).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.session.post("/window/rect", json!({ "width": width, "height": height })).await;
    }

    /// A cookie's value for the current page, if set.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let value = self.session.call(reqwest::Method::GET, &format!("/cookie/{name}"), None).await.ok()?;
        value["value"].as_str().map(str::to_owned)
    }

    /// Forget the current site's cookies (a logged-out browser).
    pub async fn delete_cookies(&self) {
        self.session.call(reqwest::Method::DELETE, "/cookie", None).await.unwrap_or_else(|e| panic!("WebDriver {e}"));
    }

    /// Run a script in the page (`return …;` for a value).
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.session.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// axe-core's WCAG 2.0/2.1 A and AA violations on the current page.
    pub async fn axe(&self) -> Vec<Violation> {
        let path = node_dir().join("node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (scripts/test installs axe-core)", path.display()));
        let script = format!("{axe}\n{AXE_RUNNER}");
        let result = self.session.post("/execute/async", json!({ "script": script, "args": [AXE_TAGS] })).await;
        if let Some(error) = result.get("error") {
            panic!("axe failed: {error}");
        }
        serde_json::from_value(result["violations"].clone()).expect("axe violations")
    }

    /// Whether axe-core is installed (tests that only check accessibility may skip without it).
    pub fn axe_available() -> bool {
        node_dir().join("node_modules/axe-core/axe.min.js").is_file()
    }

    /// chromedriver's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default()
    }
}

impl Element {
    /// Click; when that follows a link or submits a form, wait for the next page to load.
    pub async fn click(&self) {
        let navigates = self
            .session
            .post("/execute/sync", json!({ "script": NAVIGATES_ON_CLICK, "args": [{ ELEMENT_KEY: self.id }] }))
            .await
            == json!(true);
        self.session.mark_page(navigates).await;
        self.session.post(&format!("/element/{}/click", self.id), json!({})).await;
        self.session.wait_for_new_page(navigates).await;
    }

    /// Type into the element (it gets the focus first).
    pub async fn send_keys(&self, text: &str) {
        self.session.post(&format!("/element/{}/value", self.id), json!({ "text": text })).await;
    }

    pub async fn clear(&self) {
        self.session.post(&format!("/element/{}/clear", self.id), json!({})).await;
    }

    /// The rendered text.
    pub async fn text(&self) -> String {
        self.session.get(&format!("/element/{}/text", self.id)).await.as_str().unwrap_or_default().to_owned()
    }

    /// An attribute as written in the HTML.
    pub async fn attr(&self, name: &str) -> Option<String> {
        self.session.get(&format!("/element/{}/attribute/{name}", self.id)).await.as_str().map(str::to_owned)
    }

    pub async fn tag_name(&self) -> String {
        self.session.get(&format!("/element/{}/name", self.id)).await.as_str().unwrap_or_default().to_owned()
    }

    /// Whether two references name the same element (e.g. the active one).
    pub fn same_as(&self, other: &Element) -> bool {
        self.id == other.id
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // DELETE the session first: SIGTERM to chromedriver alone would leave Chromium running.
        // Plain blocking HTTP, since Drop cannot await.
        if !self.session_id.is_empty() {
            let _ = delete_session(self.driver_port, &self.session_id);
        }
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.driver.id())]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.driver.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if !matches!(self.driver.try_wait(), Ok(Some(_))) {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.driver.id())]).status();
            let _ = self.driver.wait();
        }
        if !std::thread::panicking() {
            // Chromium's last children may still be writing into the profile for a moment
            for _ in 0..20 {
                if std::fs::remove_dir_all(&self.dir).is_ok() || !self.dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn delete_session(port: u16, session: &str) -> std::io::Result<()> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(())
}

/// Fail the test with every axe violation on the current page, labelled for the report.
pub async fn assert_no_axe_violations(browser: &Browser, label: &str) {
    let violations = browser.axe().await;
    if !violations.is_empty() {
        let list: Vec<String> = violations
            .iter()
            .map(|v| {
                format!("  {} ({}): {} — {}", v.id, v.impact.as_deref().unwrap_or("?"), v.help, v.targets.join(", "))
            })
            .collect();
        panic!(
            "{label}: {} axe violation(s) at {}:\n{}",
            violations.len(),
            browser.current_url().await,
            list.join("\n")
        );
    }
}
