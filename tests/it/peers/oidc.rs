//! Test peer: a real OpenID Connect provider (npm `oidc-provider`, tests/peers/oidc-provider.mjs)
//! on a free loopback port. It accepts every `http://127.0.0.1:<port>/{citizen,staff}/login/oidc/callback`
//! as redirect URI (test apps bind port 0), knows the users below, and puts a `cpr` claim in
//! the ID token when the `cpr` scope is asked for (as a MitID broker does).
//!
//! Node modules come from `$BB_NODE_DIR` (scripts/test installs them into target/node-peers).
//! Without them a test is skipped, unless `TEST_REQUIRE_BROWSER=1` (scripts/test) makes it fail.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use budbringer::config::OidcSettings;

use super::{PeerProcess, free_port, peer_file, wait_for_port, wait_for_text};

pub const CLIENT_ID: &str = "budbringer-test";
pub const CLIENT_SECRET: &str = "budbringer-test-secret";

/// A person the provider knows.
#[derive(Debug, Clone, Copy)]
pub struct TestUser {
    pub username: &'static str,
    pub password: &'static str,
    pub sub: &'static str,
    pub cpr: Option<&'static str>,
    pub name: &'static str,
}

/// A citizen logging in with MitID: the broker sends the CPR number.
pub const CITIZEN: TestUser = TestUser {
    username: "borger",
    password: "borger-pw",
    sub: "mitid-sub-borger",
    cpr: Some("0101901234"),
    name: "Jens Jensen",
};
/// A second citizen, for tests that need two.
pub const CITIZEN2: TestUser = TestUser {
    username: "borger2",
    password: "borger2-pw",
    sub: "mitid-sub-borger2",
    cpr: Some("0202805678"),
    name: "Karen Hansen",
};
/// A citizen whose broker sends no CPR number (a login the gateway must refuse).
pub const NO_CPR: TestUser =
    TestUser { username: "uden-cpr", password: "uden-cpr-pw", sub: "mitid-sub-uden-cpr", cpr: None, name: "Ole Olsen" };
/// A caseworker at the authority's identity provider; map `sub` to a caseworker account.
pub const CASEWORKER: TestUser = TestUser {
    username: "sagsbehandler",
    password: "sagsbehandler-pw",
    sub: "caseworker-sub-1",
    cpr: None,
    name: "Sara Sagsbehandler",
};
pub const USERS: [TestUser; 4] = [CITIZEN, CITIZEN2, NO_CPR, CASEWORKER];

/// The folder with `node_modules` (axe-core, oidc-provider): `$BB_NODE_DIR`, else the one
/// scripts/test fills, `target/node-peers`.
pub fn node_dir() -> PathBuf {
    std::env::var_os("BB_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/node-peers"))
}

/// A test that needs a missing tool is skipped with a clear line, or fails under scripts/test.
pub fn missing(what: &str) {
    if std::env::var("TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("TEST_REQUIRE_BROWSER=1 but {what} (run scripts/test, which installs it)");
    }
    eprintln!("skipped: {what} (run scripts/test, or set BB_NODE_DIR)");
}

fn node_available() -> bool {
    let node = Command::new("node").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !node.is_ok_and(|s| s.success()) {
        missing("node is not installed");
        return false;
    }
    if !node_dir().join("node_modules/oidc-provider/package.json").is_file() {
        missing(&format!("npm oidc-provider is not installed in {}", node_dir().display()));
        return false;
    }
    true
}

pub struct OidcProvider {
    /// Exactly as the provider states it (and as the app must be configured).
    pub issuer: String,
    pub port: u16,
    pub dir: PathBuf,
    _process: PeerProcess,
}

static SHARED: tokio::sync::OnceCell<Option<OidcProvider>> = tokio::sync::OnceCell::const_new();

impl OidcProvider {
    /// One provider for the whole test process (start-up is 1–2 s). None: skipped.
    pub async fn shared() -> Option<&'static OidcProvider> {
        SHARED.get_or_init(|| async { OidcProvider::start().await }).await.as_ref()
    }

    /// A provider of this test's own. None: skipped.
    pub async fn start() -> Option<OidcProvider> {
        let port = free_port();
        Self::start_on(port, &format!("http://127.0.0.1:{port}")).await
    }

    /// A provider listening on `port` that names itself `issuer` (a proxy in front of it).
    /// Node has, once in a full run on two loaded cores, not come up at all within 90 s (it
    /// was still loading, and died on SIGTERM before its handlers were in place): a start that
    /// is not ready in 60 s is stopped and made once more.
    pub async fn start_on(port: u16, issuer: &str) -> Option<OidcProvider> {
        if !node_available() {
            return None;
        }
        let mut last_log = String::new();
        for _ in 0..2 {
            match Self::try_start(port, issuer).await {
                Ok(provider) => return Some(provider),
                Err(log) => last_log = log,
            }
        }
        panic!("oidc-provider did not start, twice: {last_log}");
    }

    /// One start; the provider's log when it is not ready in time (the process is stopped).
    async fn try_start(port: u16, issuer: &str) -> Result<OidcProvider, String> {
        let dir = crate::harness::temp_dir("oidc");
        let users: Vec<serde_json::Value> = USERS
            .iter()
            .map(|u| {
                serde_json::json!({ "username": u.username, "password": u.password, "sub": u.sub,
                                    "cpr": u.cpr, "name": u.name })
            })
            .collect();
        let log = std::fs::File::create(dir.join("oidc.out")).expect("provider log");
        let process = PeerProcess::spawn(
            "oidc-provider",
            Command::new("node")
                .arg(peer_file("oidc-provider.mjs"))
                .current_dir(&dir)
                .env("BB_NODE_DIR", node_dir())
                .env("OIDC_PORT", port.to_string())
                .env("OIDC_ISSUER", issuer)
                .env("OIDC_CLIENT_ID", CLIENT_ID)
                .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
                .env("OIDC_REDIRECT_URI", "http://127.0.0.1:9/unused")
                .env("OIDC_REDIRECT_URI_PATTERN", r"^http://127\.0\.0\.1:\d+/(citizen|staff)/login/oidc/callback$")
                // the first user comes from OIDC_TEST_USER; make it ours, the rest as JSON
                .env("OIDC_TEST_USER", CITIZEN.username)
                .env("OIDC_TEST_PASSWORD", CITIZEN.password)
                .env("OIDC_TEST_SUB", CITIZEN.sub)
                .env("OIDC_TEST_CPR", CITIZEN.cpr.unwrap_or_default())
                .env("OIDC_TEST_NAME", CITIZEN.name)
                .env("OIDC_TEST_USERS", serde_json::Value::from(users[1..].to_vec()).to_string())
                // stdin stays open while this process lives; a crashed run leaves no provider
                .env("OIDC_EXIT_ON_STDIN_EOF", "1")
                .env("OIDC_REMOVE_DIR_ON_EXIT", &dir)
                .stdin(Stdio::piped())
                .stdout(log.try_clone().expect("provider log"))
                .stderr(log),
        );
        let out = dir.join("oidc.out");
        // RSA key generation and module loading take 1–2 s idle, much longer under a full test run
        let ready = wait_for_text(&out, "listening", Duration::from_secs(60)).await
            && wait_for_port(port, Duration::from_secs(5)).await;
        if !ready {
            let log = std::fs::read_to_string(&out).unwrap_or_default();
            drop(process);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(log);
        }
        Ok(OidcProvider { issuer: issuer.to_owned(), port, dir, _process: process })
    }

    /// Settings for citizens: the `cpr` scope, identity from the `cpr` claim.
    pub fn citizen_settings(&self) -> OidcSettings {
        OidcSettings {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            scopes: vec!["cpr".into()],
            identity_claim: "cpr".into(),
        }
    }

    /// Settings for caseworkers: identity from `sub`.
    pub fn staff_settings(&self) -> OidcSettings {
        OidcSettings {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            scopes: vec!["profile".into(), "email".into()],
            identity_claim: "sub".into(),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("oidc.out")).unwrap_or_default()
    }
}

/// A client that plays the browser for [`login`]: a cookie jar, no automatic redirects.
pub fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// Log `user` in at the provider, starting from the authorization URL (the `Location` of the
/// app's 303), and return the callback URL the provider sends the browser to — not fetched.
/// `client` must come from [`browser_client`] (the provider's cookies matter).
pub async fn login(client: &reqwest::Client, authorization_url: &str, user: &TestUser) -> reqwest::Url {
    let mut url = reqwest::Url::parse(authorization_url).expect("authorization URL");
    let mut posted = false;
    for _ in 0..10 {
        if url.path().ends_with("/login/oidc/callback") {
            return url;
        }
        let response = if url.path().starts_with("/interaction/") && !posted {
            let page = client.get(url.clone()).send().await.expect("login page");
            if page.status() == 200 {
                posted = true;
                let form = [("username", user.username), ("password", user.password)];
                client.post(url.clone()).form(&form).send().await.expect("login POST")
            } else {
                page
            }
        } else {
            client.get(url.clone()).send().await.expect("provider GET")
        };
        let status = response.status();
        let Some(location) = response.headers().get("location").and_then(|l| l.to_str().ok()) else {
            let body = response.text().await.unwrap_or_default();
            panic!("provider answered {status} without a redirect at {url}: {body}");
        };
        url = url.join(location).expect("redirect target");
    }
    panic!("the provider never redirected to the callback");
}
