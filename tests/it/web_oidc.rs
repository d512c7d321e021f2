//! OpenID Connect login against a real provider (tests/peers/oidc-provider.mjs), through
//! `budbringer::web::oidc::{start, finish}` mounted on a small router of the test's own (the
//! citizen and staff pages mount the same two calls), and the browser harness with axe-core.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use budbringer::app::{App, AppState};
use budbringer::config::Settings;
use budbringer::domain::{Clock, ManualClock, SystemClock};
use budbringer::web::error::WebError;
use budbringer::web::oidc::{self, Audience, CallbackQuery};
use serde_json::{Value, json};

use crate::browser::{Browser, assert_no_axe_violations};
use crate::harness::{Backend, TestDb, on_both_backends, test_settings};
use crate::peers::oidc::{self as provider, CASEWORKER, CITIZEN, NO_CPR, OidcProvider, TestUser};

/// An app state on its own listener, serving only the OIDC login routes.
struct LoginApp {
    base: String,
    state: AppState,
    db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl LoginApp {
    async fn start(backend: &Backend, clock: Arc<dyn Clock>, configure: impl FnOnce(&mut Settings)) -> LoginApp {
        let db = TestDb::new(backend).await;
        let mut settings = test_settings(&db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        settings.public_url = base.clone();
        configure(&mut settings);
        let store = budbringer::store::connect(&settings.effective_database_url()).await.expect("store");
        store.migrate().await.expect("migrate");
        let state = App::new(settings, store, clock).await.expect("app");
        let router = axum::Router::new()
            .route("/citizen/login/oidc", get(|s: State<AppState>| start(s, Audience::Citizen)))
            .route("/staff/login/oidc", get(|s: State<AppState>| start(s, Audience::Staff)))
            .route("/citizen/login/oidc/callback", get(|s, h, q| callback(s, h, q, Audience::Citizen)))
            .route("/staff/login/oidc/callback", get(|s, h, q| callback(s, h, q, Audience::Staff)))
            .with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        LoginApp { base, state, db, server }
    }

    async fn finish(self) {
        self.server.abort();
        self.db.drop_database().await;
    }
}

async fn start(State(state): State<AppState>, audience: Audience) -> Response {
    match oidc::start(&state, audience, &format!("/{}/letters", audience.as_str())).await {
        Ok(response) => response,
        Err(e) => error_answer(e),
    }
}

/// 200 with who logged in, or 400 with the Fluent id of the reason.
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
    audience: Audience,
) -> Response {
    match oidc::finish(&state, audience, &headers, query).await {
        Ok(login) => {
            let page = format!(
                "<!doctype html><html lang=\"en\"><head><title>Logged in</title></head><body><main>\
                 <h1>Logged in</h1><p id=\"identity\">{}</p></main></body></html>",
                login.identity
            );
            let json = json!({ "identity": login.identity, "sub": login.claims["sub"], "return_to": login.return_to });
            ([("x-login", json.to_string())], axum::response::Html(page)).into_response()
        }
        Err(e) => error_answer(e),
    }
}

fn error_answer(error: WebError) -> Response {
    match error {
        WebError::LoginFailed(id) => (StatusCode::BAD_REQUEST, id).into_response(),
        other => (StatusCode::INTERNAL_SERVER_ERROR, format!("{other:?}")).into_response(),
    }
}

/// Start a login at the app: the provider's authorization URL (and the state cookie is in the jar).
async fn begin(client: &reqwest::Client, app: &LoginApp, audience: Audience) -> String {
    let response = client.get(format!("{}/{}/login/oidc", app.base, audience.as_str())).send().await.expect("start");
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap_or_default());
    let cookie = response.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(
        cookie.starts_with("bb_oidc=") && cookie.contains("HttpOnly") && cookie.contains("Max-Age=600"),
        "{cookie}"
    );
    response.headers()["location"].to_str().expect("location").to_owned()
}

/// The whole login: start, the provider's form, then the app's callback.
async fn log_in(client: &reqwest::Client, app: &LoginApp, audience: Audience, user: &TestUser) -> reqwest::Response {
    let authorize = begin(client, app, audience).await;
    let callback = provider::login(client, &authorize, user).await;
    client.get(callback).send().await.expect("callback")
}

async fn logged_in(response: reqwest::Response) -> Value {
    let status = response.status();
    let login = response.headers().get("x-login").map(|v| v.to_str().expect("header").to_owned());
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 200, "login failed: {body}");
    serde_json::from_str(&login.expect("x-login")).expect("JSON")
}

async fn refused(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 400);
    response.text().await.expect("body")
}

async fn citizen_app(backend: &Backend, provider: &OidcProvider) -> LoginApp {
    let settings = provider.citizen_settings();
    LoginApp::start(backend, Arc::new(SystemClock), |s| s.web.citizen_oidc = Some(settings)).await
}

on_both_backends!(citizen_logs_in_once_per_state);

async fn citizen_logs_in_once_per_state(backend: Backend) {
    let Some(provider) = OidcProvider::shared().await else { return };
    let app = citizen_app(&backend, provider).await;
    assert!(oidc::is_configured(&app.state, Audience::Citizen));
    assert!(!oidc::is_configured(&app.state, Audience::Staff));
    assert_eq!(
        oidc::redirect_uri(&app.state.settings, Audience::Citizen),
        format!("{}/citizen/login/oidc/callback", app.base)
    );

    let browser = provider::browser_client();
    let authorize = begin(&browser, &app, Audience::Citizen).await;
    let query: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&authorize).expect("URL").query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["scope"], "openid cpr");
    let callback = provider::login(&browser, &authorize, &CITIZEN).await;
    assert!(callback.query_pairs().any(|(k, v)| k == "iss" && v == provider.issuer), "RFC 9207 iss: {callback}");

    let login = logged_in(browser.get(callback.clone()).send().await.expect("callback")).await;
    assert_eq!(login["identity"], CITIZEN.cpr.expect("cpr"));
    assert_eq!(login["sub"], CITIZEN.sub);
    assert_eq!(login["return_to"], "/citizen/letters");

    // the same answer again (a replay, or the back button): the state is used up
    assert_eq!(refused(browser.get(callback.clone()).send().await.expect("replay")).await, "web-oidc-expired");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_foreign_state_is_refused() {
    let Some(provider) = OidcProvider::shared().await else { return };
    let app = citizen_app(&Backend::Sqlite, provider).await;
    let browser = provider::browser_client();
    let authorize = begin(&browser, &app, Audience::Citizen).await;
    let callback = provider::login(&browser, &authorize, &CITIZEN).await;

    // another state than the one this browser started with
    let mut forged = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| (k.to_string(), if k == "state" { "x".repeat(43) } else { v.into_owned() }))
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    assert_eq!(refused(browser.get(forged).send().await.expect("forged")).await, "web-oidc-expired");

    // the right answer in another browser (login CSRF: no state cookie there)
    let other = provider::browser_client();
    assert_eq!(refused(other.get(callback.clone()).send().await.expect("other")).await, "web-oidc-expired");

    // neither used the login up: the right browser still gets in
    let login = logged_in(browser.get(callback).send().await.expect("callback")).await;
    assert_eq!(login["identity"], CITIZEN.cpr.expect("cpr"));

    // the provider's own refusal is passed on in plain words
    let cancelled = format!("{}/citizen/login/oidc/callback?error=access_denied&state={}", app.base, "y".repeat(43));
    let response = reqwest::Client::new().get(cancelled).send().await.expect("cancel");
    assert_eq!(refused(response).await, "web-oidc-cancelled");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_nonce_and_missing_identity_are_refused() {
    let Some(provider) = OidcProvider::shared().await else { return };
    let app = citizen_app(&Backend::Sqlite, provider).await;

    // the provider is asked with another nonce than the one stored: its ID token must not pass
    let browser = provider::browser_client();
    let authorize = begin(&browser, &app, Audience::Citizen).await;
    let mut url = reqwest::Url::parse(&authorize).expect("URL");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.to_string(), if k == "nonce" { "another-nonce".into() } else { v.into_owned() }))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let callback = provider::login(&browser, url.as_str(), &CITIZEN).await;
    assert_eq!(refused(browser.get(callback).send().await.expect("callback")).await, "web-oidc-invalid");

    // a broker that sends no CPR number: nobody to log in as
    let browser = provider::browser_client();
    let response = log_in(&browser, &app, Audience::Citizen, &NO_CPR).await;
    assert_eq!(refused(response).await, "web-oidc-no-identity");

    // staff logins are not set up in this app
    let response = browser.get(format!("{}/staff/login/oidc", app.base)).send().await.expect("staff");
    assert_eq!(refused(response).await, "web-oidc-not-configured");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caseworker_logs_in_by_sub() {
    let Some(provider) = OidcProvider::shared().await else { return };
    let settings = provider.staff_settings();
    let app = LoginApp::start(&Backend::Sqlite, Arc::new(SystemClock), |s| s.web.staff_oidc = Some(settings)).await;
    let browser = provider::browser_client();
    let login = logged_in(log_in(&browser, &app, Audience::Staff, &CASEWORKER).await).await;
    assert_eq!(login["identity"], CASEWORKER.sub);
    assert_eq!(login["return_to"], "/staff/letters");

    // a citizen's answer is no good at the staff callback (and the reverse)
    let authorize = begin(&browser, &app, Audience::Staff).await;
    let callback = provider::login(&browser, &authorize, &CASEWORKER).await;
    let elsewhere = format!("{}/citizen/login/oidc/callback?{}", app.base, callback.query().unwrap_or_default());
    let response = browser.get(elsewhere).send().await.expect("citizen callback");
    assert_eq!(refused(response).await, "web-oidc-not-configured");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_older_than_ten_minutes_is_refused() {
    let Some(provider) = OidcProvider::shared().await else { return };
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let settings = provider.citizen_settings();
    let app = LoginApp::start(&Backend::Sqlite, Arc::clone(&clock) as Arc<dyn Clock>, |s| {
        s.web.citizen_oidc = Some(settings)
    })
    .await;
    let browser = provider::browser_client();
    let authorize = begin(&browser, &app, Audience::Citizen).await;
    let callback = provider::login(&browser, &authorize, &CITIZEN).await;
    clock.advance(std::time::Duration::from_secs(11 * 60));
    assert_eq!(refused(browser.get(callback).send().await.expect("callback")).await, "web-oidc-expired");
    app.finish().await;
}

/// A man in the middle at the token endpoint: the ID token's signature is changed on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_id_token_is_refused() {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let issuer = format!("http://{}", proxy.local_addr().expect("addr"));
    let upstream_port = crate::peers::free_port();
    let Some(provider) = OidcProvider::start_on(upstream_port, &issuer).await else { return };
    let tamper = Arc::new(AtomicBool::new(false));
    let proxy_task = tokio::spawn(serve_proxy(proxy, upstream_port, Arc::clone(&tamper)));
    let app = citizen_app(&Backend::Sqlite, &provider).await;

    // through the untouched proxy, the login works (and every endpoint is the proxy's)
    let browser = provider::browser_client();
    let authorize = begin(&browser, &app, Audience::Citizen).await;
    assert!(authorize.starts_with(&format!("{issuer}/auth?")), "{authorize}");
    let login = logged_in(log_in(&browser, &app, Audience::Citizen, &CITIZEN).await).await;
    assert_eq!(login["identity"], CITIZEN.cpr.expect("cpr"));

    tamper.store(true, Ordering::SeqCst);
    let browser = provider::browser_client();
    let response = log_in(&browser, &app, Audience::Citizen, &CITIZEN).await;
    assert_eq!(refused(response).await, "web-oidc-invalid");
    proxy_task.abort();
    app.finish().await;
}

/// Forward everything to the provider; with `tamper`, flip one bit of the ID token's signature.
async fn serve_proxy(listener: tokio::net::TcpListener, upstream_port: u16, tamper: Arc<AtomicBool>) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let forward = move |request: axum::extract::Request| {
        let (client, tamper) = (client.clone(), Arc::clone(&tamper));
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.expect("body");
            let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let mut upstream = client.request(parts.method.clone(), format!("http://127.0.0.1:{upstream_port}{path}"));
            // Host too: the provider writes its endpoint URLs (discovery, redirects) from it
            for (name, value) in &parts.headers {
                upstream = upstream.header(name, value);
            }
            let answer = upstream.body(body).send().await.expect("upstream");
            let status = answer.status();
            let headers = answer.headers().clone();
            let mut bytes = answer.bytes().await.expect("upstream body").to_vec();
            if parts.uri.path() == "/token" && tamper.load(Ordering::SeqCst) {
                let mut token: Value = serde_json::from_slice(&bytes).expect("token JSON");
                let id_token = token["id_token"].as_str().expect("id_token").to_owned();
                let (signed, signature) = id_token.rsplit_once('.').expect("JWS");
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let mut raw = b64.decode(signature).expect("signature");
                raw[0] ^= 0x01;
                token["id_token"] = Value::from(format!("{signed}.{}", b64.encode(raw)));
                bytes = serde_json::to_vec(&token).expect("JSON");
            }
            let mut response = Response::new(axum::body::Body::from(bytes));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" && name != "connection" {
                    response.headers_mut().append(name, value.clone());
                }
            }
            response
        }
    };
    let _ = axum::serve(listener, axum::Router::new().fallback(forward)).await;
}

const GOOD_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Good page</title></head>
<body><main><h1>Good page</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="A dot">
<form><label for="name">Name</label> <input id="name" name="name">
<label for="phone">Phone</label> <input id="phone" name="phone">
<button type="submit">Send</button></form></main></body></html>"#;

const BAD_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bad page</title></head>
<body><main><h1>Bad page</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<form><input id="name" name="name"></form></main></body></html>"#;

/// The harness works: axe finds the two planted faults and none on the fixed page; keyboard
/// walking, typing and the 320 px window work; and a whole login runs in Chromium.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_harness_checks_pages_and_logs_in() {
    let Some(browser) = Browser::start().await else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let site = format!("http://{}", listener.local_addr().expect("addr"));
    let pages = axum::Router::new()
        .route("/good", get(|| async { axum::response::Html(GOOD_PAGE) }))
        .route("/bad", get(|| async { axum::response::Html(BAD_PAGE) }));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, pages).await;
    });

    browser.goto(&format!("{site}/bad")).await;
    let mut found: Vec<String> = browser.axe().await.into_iter().map(|v| v.id).collect();
    found.sort();
    assert_eq!(found, ["image-alt", "label"]);

    browser.goto(&format!("{site}/good")).await;
    assert_eq!(browser.title().await, "Good page");
    browser.set_window_size(320, 640).await;
    assert_no_axe_violations(&browser, "good fixture").await;
    browser.find("#name").await.send_keys("Jens").await;
    browser.press_tab().await;
    assert_eq!(browser.active_element().await.attr("id").await.as_deref(), Some("phone"));
    browser.press_tab().await;
    assert_eq!(browser.active_element().await.tag_name().await, "button");
    assert_eq!(browser.find_all("input").await.len(), 2);
    let wide = browser.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await;
    assert_eq!(wide, Value::Bool(true), "no horizontal scrolling at 320 px");
    server.abort();

    // a real login in Chromium: the provider's form, typed into, then our callback
    let Some(provider) = OidcProvider::shared().await else { return };
    let app = citizen_app(&Backend::Sqlite, provider).await;
    browser.goto(&format!("{}/citizen/login/oidc", app.base)).await;
    assert!(browser.current_url().await.starts_with(&format!("{}/interaction/", provider.issuer)));
    assert_no_axe_violations(&browser, "provider login form").await;
    browser.find("#username").await.send_keys(CITIZEN.username).await;
    browser.press_tab().await;
    browser.active_element().await.send_keys(CITIZEN.password).await;
    browser.press_enter().await;
    let start = std::time::Instant::now();
    while !browser.current_url().await.starts_with(&app.base) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "never came back: {}",
            browser.page_source().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(browser.find("#identity").await.text().await, CITIZEN.cpr.expect("cpr"));
    assert!(browser.cookie("bb_oidc").await.is_some());
    browser.delete_cookies().await;
    assert!(browser.cookie("bb_oidc").await.is_none());
    app.finish().await;
}
