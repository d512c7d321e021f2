//! The citizens' pages end to end in headless Chromium, as a citizen uses them: log in without
//! MitID by a code that really travels through Kannel (bearerbox + smsbox + fakesmsc), or with
//! MitID through a real OpenID Connect provider; read a letter (evidence in the authority's
//! timeline), download its document, ask for a callback, get exempted (the next letter goes
//! to paper), add and revoke a helper, download the data export — and axe-core on every page
//! and state on the way (login steps, code entry, errors, error pages), in every language.

use std::time::Duration;

use budbringer::channels::sms::{self, TransportKind};
use budbringer::config::Settings;
use serde_json::{Value, json};

use crate::browser::{Browser, assert_no_axe_violations};
use crate::harness::*;
use crate::peers::kannel::{self, Kannel};
use crate::peers::oidc::{CITIZEN, OidcProvider};

const CPR: &str = "0101901234";
const OTHER_CPR: &str = "0202902345";
/// The registered phone, and how it reaches the phone network.
const PHONE: &str = "+45 12 34 56 78";
const ON_THE_WIRE: &str = "+4512345678";
const LANGUAGES: &[&str] = budbringer::i18n::LANGUAGES;
const MO_TOKEN: &str = "mo-token-for-citizen-tests";

on_both_backends!(sms_code_through_kannel_then_every_citizen_flow, oidc_login_then_read_call_back_and_exempt);

fn use_kannel(s: &mut Settings, sendsms_port: u16) {
    s.channels.sms.transport = TransportKind::Kannel;
    s.channels.sms.sender = "1919".into();
    s.channels.sms.kannel = sms::kannel::Settings {
        sendsms_url: format!("http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms"),
        username: kannel::USERNAME.into(),
        password: kannel::PASSWORD.into(),
        mo_token: MO_TOKEN.into(),
        timeout_secs: 5,
        ..Default::default()
    };
}

async fn put_profile(app: &TestApp, key: &str, profile: Value) -> uuid::Uuid {
    let r = app
        .client
        .put(format!("{}/v1/citizens/profile", app.base))
        .bearer_auth(key)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["citizen_id"].as_str().unwrap().parse().unwrap()
}

/// A letter with a PDF document, through the real API.
async fn send_letter(app: &TestApp, key: &str, cpr: &str, subject: &str) -> Value {
    let mut body = letter(cpr);
    body["subject"] = json!(subject);
    body["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
    let r = app.post_letter(key, &body).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

/// The first run of six digits in a text (the code in the SMS, in any language).
fn six_digits(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(6).find(|w| w.iter().all(char::is_ascii_digit)).map(|w| w.iter().collect())
}

async fn access_actions(app: &TestApp, citizen_id: uuid::Uuid, actor_kind: &str) -> Vec<String> {
    app.store
        .access_log(citizen_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor_kind == actor_kind)
        .map(|e| e.action)
        .collect()
}

async fn wait_for_action(app: &TestApp, citizen_id: uuid::Uuid, action: &str) {
    let found = eventually(Duration::from_secs(10), || async {
        access_actions(app, citizen_id, "citizen").await.iter().any(|a| a == action)
    })
    .await;
    assert!(found, "{action} never reached the access log: {:?}", access_actions(app, citizen_id, "citizen").await);
}

async fn switch_language(browser: &Browser, lang: &str) {
    click_and_wait(browser, &format!("form.language button[value=\"{lang}\"]")).await;
    let html = browser.page_source().await;
    assert!(html.contains(&format!("lang=\"{lang}\" dir=")), "the page did not switch to {lang}");
}

/// Click what `css` finds and wait until the next page has loaded (WebDriver's click does not
/// always wait for the navigation a form submission starts).
async fn click_and_wait(browser: &Browser, css: &str) {
    let element = browser.find(css).await;
    browser.execute("window.bbOldPage = true", vec![]).await;
    element.click().await;
    let loaded = eventually(Duration::from_secs(15), || async {
        browser.execute("return !window.bbOldPage && document.readyState === 'complete'", vec![]).await == json!(true)
    })
    .await;
    assert!(loaded, "no new page after clicking {css}");
}

/// WCAG 1.4.10: at 320 px (400 % zoom of 1280 px) nothing scrolls sideways.
async fn assert_reflows(browser: &Browser, label: &str) {
    browser.set_window_size(320, 800).await;
    let width = browser.execute("return document.documentElement.scrollWidth", vec![]).await;
    browser.set_window_size(1024, 800).await;
    assert!(width.as_u64().unwrap_or(u64::MAX) <= 320, "{label} is {width} px wide at 320 px");
}

/// Press a form's submit button (found by the form's action).
async fn submit(browser: &Browser, action: &str) {
    click_and_wait(browser, &format!("form[action=\"{action}\"] button[type=\"submit\"]")).await;
}

fn path_of(url: &str) -> String {
    reqwest::Url::parse(url).map(|u| u.path().to_owned()).unwrap_or_default()
}

/// A client that sends the browser's session cookie, to look at what a download link gives.
async fn with_browser_session(browser: &Browser) -> reqwest::Client {
    let session = browser.cookie("bb_session").await.expect("the browser has a session cookie");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, format!("bb_session={session}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

/// Logged in, on the letter list: read the letter (evidence), download its document
/// (evidence), ask for a callback (a task), get exempted (the next letter goes to paper).
async fn read_call_back_and_exempt(browser: &Browser, app: &TestApp, key: &str, letter_id: &str) {
    let base = &app.base;
    // the list links to the letter; the link is followed like a person would
    click_and_wait(browser, &format!("a[href=\"/citizen/letters/{letter_id}\"]")).await;
    assert_eq!(path_of(&browser.current_url().await), format!("/citizen/letters/{letter_id}"));
    let page = browser.page_source().await;
    assert!(page.contains("Det skal du gøre") && page.contains("31. december 2099"), "{page}");
    assert!(!page.contains(CPR), "no CPR number on the page");
    assert_no_axe_violations(browser, "a letter with a document").await;
    let letter = app.get_json(key, &format!("/v1/letters/{letter_id}")).await;
    assert!(kinds(&letter).contains(&"opened".to_owned()), "reading is evidence: {:?}", kinds(&letter));

    // the document: the link downloads it (evidence), and it is the PDF that was sent
    let link = browser.find("a[href*=\"/documents/\"]").await;
    let href = link.attr("href").await.expect("a document link");
    assert!(link.text().await.contains("afgoerelse.pdf"));
    link.click().await;
    let opened = eventually(Duration::from_secs(10), || async {
        kinds(&app.get_json(key, &format!("/v1/letters/{letter_id}")).await).contains(&"document_opened".to_owned())
    })
    .await;
    assert!(opened, "the download is evidence in the authority's timeline");
    let pdf = with_browser_session(browser).await.get(format!("{base}{href}")).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    use base64::Engine as _;
    let sent = base64::engine::general_purpose::STANDARD.decode(pdf_base64()).unwrap();
    assert_eq!(pdf.bytes().await.unwrap().to_vec(), sent, "the document as the authority sent it");

    // "Ring mig op": a callback task for the authority, on the letter's timeline
    browser.goto(&format!("{base}/citizen/letters/{letter_id}")).await;
    submit(browser, &format!("/citizen/letters/{letter_id}/callback")).await;
    assert!(browser.current_url().await.ends_with("?done=callback"), "{}", browser.current_url().await);
    assert_eq!(browser.find(".notice").await.text().await, "Tak. Vi ringer til dig.");
    assert_no_axe_violations(browser, "a letter after asking for a callback").await;
    let letter = app.get_json(key, &format!("/v1/letters/{letter_id}")).await;
    assert!(kinds(&letter).contains(&"callback_requested".to_owned()), "{:?}", kinds(&letter));
    let callbacks = app.get_json(key, "/v1/callbacks").await;
    let tasks = callbacks["callbacks"].as_array().or(callbacks.as_array()).cloned().unwrap_or_default();
    let task = tasks.iter().find(|t| t["letter_id"] == letter_id).unwrap_or_else(|| panic!("a task: {callbacks}"));
    let digits: String = task["phone"].as_str().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
    assert!(digits.ends_with("12345678"), "the task calls the registered phone: {task}");

    // exempt in one step, no reason asked; the next letter, from any authority, is on paper
    click_and_wait(browser, "nav a[href=\"/citizen/contact\"]").await;
    assert_no_axe_violations(browser, "contact page before exemption").await;
    submit(browser, "/citizen/contact/exemption").await;
    let page = browser.page_source().await;
    assert!(page.contains("Du er nu fri for Digital Post") && page.contains("Giv mig Digital Post igen"), "{page}");
    assert_no_axe_violations(browser, "contact page when exempt").await;
    let next = send_letter(app, key, CPR, "Næste brev").await;
    assert_eq!(next["deliveries"][0]["channel"], "print", "{next}");
}

/// A helper, with consent; then revoked. The pages are checked in `languages`.
async fn add_and_revoke_a_helper(browser: &Browser, app: &TestApp, citizen_id: uuid::Uuid, languages: &[&str]) {
    browser.goto(&format!("{}/citizen/helpers", app.base)).await;
    switch_language(browser, "da").await;
    browser.find("#name").await.send_keys("Mette Hansen").await;
    browser.find("#phone").await.send_keys("+45 22 33 44 55").await;
    browser.find("#receives-notice").await.click().await;
    submit(browser, "/citizen/helpers").await;
    assert!(browser.try_find("#consent-error").await.is_some(), "no helper without consent");
    assert_no_axe_violations(browser, "helpers form without consent").await;
    browser.find("#consent").await.click().await;
    submit(browser, "/citizen/helpers").await;
    assert_eq!(browser.find(".notice").await.text().await, "Tak. Vi har tilføjet din hjælper.");
    let helpers = app.store.stored_profile(citizen_id).await.unwrap().unwrap().profile.helpers;
    assert_eq!(helpers.len(), 1);
    assert_eq!(helpers[0].receives, budbringer::domain::routing::HelperScope::Notice);
    assert_eq!(helpers[0].phone.as_deref(), Some("+45 22 33 44 55"));
    assert!(helpers[0].address.is_none(), "a notice helper gets no address of ours");
    for lang in languages {
        switch_language(browser, lang).await;
        assert!(browser.page_source().await.contains("Mette Hansen"));
        assert_no_axe_violations(browser, &format!("helpers page with a helper ({lang})")).await;
        assert_reflows(browser, &format!("helpers page with a helper ({lang})")).await;
    }
    switch_language(browser, "da").await;
    submit(browser, "/citizen/helpers/0/revoke").await;
    assert_eq!(browser.find(".notice").await.text().await, "Din hjælper er fjernet. Hjælperen får ikke mere fra os.");
    assert!(!browser.page_source().await.contains("Mette Hansen"));
    assert!(app.store.stored_profile(citizen_id).await.unwrap().unwrap().profile.helpers.is_empty());
    let changes: Vec<String> =
        app.store.profile_changes(citizen_id).await.unwrap().into_iter().map(|c| c.fields).collect();
    assert!(changes.contains(&"helper_added:notice:consent".to_owned()) && changes.contains(&"helper_revoked".into()));
}

/// What you know about me, and its downloads (JSON and PDF): only one's own letters, the
/// authority's reads shown, every download in the access log. The page is checked in `languages`.
async fn see_and_download_my_data(
    browser: &Browser,
    app: &TestApp,
    key: &str,
    citizen_id: uuid::Uuid,
    (mine_id, theirs_id): (&str, &str),
    languages: &[&str],
    login_action: &str,
) {
    let base = &app.base;
    // the authority reads the letter over the API: the citizen sees that too
    app.get_json(key, &format!("/v1/letters/{mine_id}")).await;

    // what you know about me, and its downloads
    click_and_wait(browser, "nav a[href=\"/citizen/data\"]").await;
    let page = browser.page_source().await;
    assert!(page.contains("Afgørelse om boligstøtte") && !page.contains("Et brev til en anden"), "{page}");
    assert!(page.contains("Vejle Kommune (myndighed)"), "the authority's reads are shown: {page}");
    for lang in languages {
        switch_language(browser, lang).await;
        assert_no_axe_violations(browser, &format!("data page ({lang})")).await;
        assert_reflows(browser, &format!("data page ({lang})")).await;
    }
    switch_language(browser, "da").await;
    browser.find("a[href=\"/citizen/data.json\"]").await.click().await;
    wait_for_action(app, citizen_id, "download_data_json").await;
    browser.find("a[href=\"/citizen/data.pdf\"]").await.click().await;
    wait_for_action(app, citizen_id, "download_data_pdf").await;
    let client = with_browser_session(browser).await;
    let export = client.get(format!("{base}/citizen/data.json")).send().await.unwrap();
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/json");
    let export: Value = export.json().await.unwrap();
    let letters: Vec<&str> = export["letters"].as_array().unwrap().iter().filter_map(|l| l["id"].as_str()).collect();
    assert!(letters.contains(&mine_id) && !letters.contains(&theirs_id), "{letters:?}");
    assert!(!export.to_string().contains(CPR), "no CPR number in the export");
    let actions: Vec<&str> =
        export["access_log"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for action in
        [login_action, "read_letter", "read_document", "callback_requested", "read_data", "download_data_json"]
    {
        assert!(actions.contains(&action), "{action} missing from the export's access log: {actions:?}");
    }
    let pdf = client.get(format!("{base}/citizen/data.pdf")).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
}

async fn sms_code_through_kannel_then_every_citizen_flow(backend: Backend) {
    let Some(browser) = Browser::start().await else { return };
    let port = Kannel::pick_sendsms_port();
    let app = TestApp::start_with(&backend, |s| use_kannel(s, port)).await;
    let kannel = Kannel::start(port, &format!("{}/v1/inbound/sms/kannel/mo?token={MO_TOKEN}", app.base)).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen_id = put_profile(&app, &key, json!({ "cpr": CPR, "phone": PHONE })).await;
    put_profile(&app, &key, json!({ "cpr": OTHER_CPR, "phone": "+45 87 65 43 21" })).await;
    let mine = send_letter(&app, &key, CPR, "Afgørelse om boligstøtte").await;
    let theirs = send_letter(&app, &key, OTHER_CPR, "Et brev til en anden").await;
    let (mine_id, theirs_id) = (mine["id"].as_str().unwrap().to_owned(), theirs["id"].as_str().unwrap().to_owned());
    let base = app.base.clone();

    // the pages want a login
    browser.goto(&format!("{base}/citizen")).await;
    assert_eq!(path_of(&browser.current_url().await), "/citizen/login");

    // every step of the SMS login, in every language, before the real one: an unknown number
    // (no SMS, the same answer), the code page, a wrong code
    for (lang, unknown) in LANGUAGES.iter().zip(["0303903456", "0404904567", "0505905678", "0606906789", "0707907890"])
    {
        browser.goto(&format!("{base}/citizen/login")).await;
        switch_language(&browser, lang).await;
        browser.find("#sms-cpr").await.send_keys("12").await;
        submit(&browser, "/citizen/login/sms").await;
        assert!(browser.try_find(".error-summary").await.is_some(), "a malformed number is refused ({lang})");
        assert_no_axe_violations(&browser, &format!("login page with a malformed CPR number ({lang})")).await;
        browser.find("#access-cpr").await.send_keys(unknown).await;
        browser.find("#access-code").await.send_keys("AAAA-BBBB-CCCC-DDDD").await;
        submit(&browser, "/citizen/login/access-code").await;
        assert!(browser.try_find("#access-code-error").await.is_some(), "a wrong access code is refused ({lang})");
        assert_no_axe_violations(&browser, &format!("login page with a wrong access code ({lang})")).await;
        assert_reflows(&browser, &format!("login page with errors ({lang})")).await;
        browser.find("#sms-cpr").await.clear().await;
        browser.find("#sms-cpr").await.send_keys(unknown).await;
        submit(&browser, "/citizen/login/sms").await;
        assert_eq!(path_of(&browser.current_url().await), "/citizen/login/code", "{lang}");
        assert!(!browser.current_url().await.contains(unknown), "no CPR number in a URL");
        assert_no_axe_violations(&browser, &format!("code entry ({lang})")).await;
        browser.find("#code").await.send_keys("000000").await;
        submit(&browser, "/citizen/login/code").await;
        assert!(browser.try_find("#code-error").await.is_some(), "a wrong code is refused ({lang})");
        assert_no_axe_violations(&browser, &format!("code entry with a wrong code ({lang})")).await;
        assert_reflows(&browser, &format!("code entry with a wrong code ({lang})")).await;
    }
    // too many codes for one number: the rate-limit page
    for _ in 0..3 {
        browser.goto(&format!("{base}/citizen/login")).await;
        browser.find("#sms-cpr").await.send_keys("0707907890").await;
        submit(&browser, "/citizen/login/sms").await;
    }
    assert!(browser.page_source().await.contains("lang=\"uk\" dir=\"ltr\""));
    assert!(browser.try_find("#code").await.is_none(), "the fourth code in a quarter hour is refused");
    assert_no_axe_violations(&browser, "rate-limited (uk)").await;
    assert!(kannel.received().is_empty(), "no SMS for unknown numbers: {:?}", kannel.received());

    // the real login, in Danish: the code travels through Kannel to the phone
    browser.goto(&format!("{base}/citizen/login")).await;
    switch_language(&browser, "da").await;
    browser.find("#sms-cpr").await.send_keys(CPR).await;
    submit(&browser, "/citizen/login/sms").await;
    assert_eq!(path_of(&browser.current_url().await), "/citizen/login/code");
    let text = kannel.wait_for_sms(ON_THE_WIRE).await;
    assert!(text.starts_with("Din kode er "), "{text}");
    let code = six_digits(&text).unwrap_or_else(|| panic!("no code in {text:?}"));
    assert_eq!(kannel.received().len(), 1, "one SMS, to the citizen only: {:?}", kannel.received());
    browser.find("#code").await.send_keys(&code).await;
    browser.execute("window.bbOldPage = true", vec![]).await;
    browser.press_enter().await;
    let loaded = eventually(Duration::from_secs(15), || async {
        browser.execute("return !window.bbOldPage && document.readyState === 'complete'", vec![]).await == json!(true)
    })
    .await;
    assert!(loaded, "Enter sends the code");
    assert_eq!(path_of(&browser.current_url().await), "/citizen/letters", "{}", browser.page_source().await);
    let list = browser.page_source().await;
    assert!(list.contains("Afgørelse om boligstøtte") && !list.contains("Et brev til en anden"), "{list}");
    assert_no_axe_violations(&browser, "letters after the SMS login").await;

    read_call_back_and_exempt(&browser, &app, &key, &mine_id).await;

    // another citizen's letter is "not found", like a missing one, in every language
    for lang in LANGUAGES {
        browser.goto(&format!("{base}/citizen/helpers")).await;
        switch_language(&browser, lang).await;
        browser.goto(&format!("{base}/citizen/letters/{theirs_id}")).await;
        let page = browser.page_source().await;
        assert!(!page.contains("Et brev til en anden"), "another citizen's letter is never shown ({lang})");
        assert!(page.contains(&format!("lang=\"{lang}\"")), "the error page speaks {lang}");
        assert_no_axe_violations(&browser, &format!("not found ({lang})")).await;
        assert_reflows(&browser, &format!("not found ({lang})")).await;
    }
    let r = with_browser_session(&browser)
        .await
        .get(format!("{base}/citizen/letters/{theirs_id}/documents/{}", uuid::Uuid::now_v7()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    add_and_revoke_a_helper(&browser, &app, citizen_id, LANGUAGES).await;
    see_and_download_my_data(
        &browser,
        &app,
        &key,
        citizen_id,
        (&mine_id, &theirs_id),
        LANGUAGES,
        "login_code_accepted",
    )
    .await;

    // every read is in the access log: the citizen's own, and the authority's
    let own = access_actions(&app, citizen_id, "citizen").await;
    for action in ["read_letter", "read_document", "read_profile", "read_data", "download_data_pdf"] {
        assert!(own.contains(&action.to_owned()), "{action} missing from {own:?}");
    }
    let authority = access_actions(&app, citizen_id, "authority").await;
    assert!(authority.contains(&"read_letter".to_owned()), "{authority:?}");

    // a form posted with a stale token is refused on an accessible page; then log out
    browser.goto(&format!("{base}/citizen/contact")).await;
    browser.execute("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'stale')", vec![]).await;
    submit(&browser, "/citizen/contact/exemption").await;
    assert!(browser.try_find("form[action=\"/citizen/contact/exemption\"]").await.is_none(), "refused");
    assert_no_axe_violations(&browser, "form token refused").await;
    browser.goto(&format!("{base}/citizen/letters")).await;
    click_and_wait(&browser, "form.logout button").await;
    assert!(browser.page_source().await.contains("Du er logget ud"));
    assert_no_axe_violations(&browser, "logged out").await;
    browser.goto(&format!("{base}/citizen/letters/{mine_id}")).await;
    assert_eq!(path_of(&browser.current_url().await), "/citizen/login", "the session is over");

    drop(browser);
    drop(kannel);
    app.finish().await;
}

async fn oidc_login_then_read_call_back_and_exempt(backend: Backend) {
    let Some(provider) = OidcProvider::shared().await else { return };
    let Some(browser) = Browser::start().await else { return };
    let settings = provider.citizen_settings();
    // the real clock: the ID token's `exp` is checked against it
    let app = TestApp::start_with(&backend, |s| s.web.citizen_oidc = Some(settings)).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let cpr = CITIZEN.cpr.unwrap();
    assert_eq!(cpr, CPR);
    let citizen_id = put_profile(&app, &key, json!({ "cpr": CPR, "phone": PHONE })).await;
    let mine = send_letter(&app, &key, CPR, "Afgørelse om boligstøtte").await;
    let theirs = send_letter(&app, &key, OTHER_CPR, "Et brev til en anden").await;
    let mine_id = mine["id"].as_str().unwrap().to_owned();
    let base = app.base.clone();

    browser.goto(&format!("{base}/citizen/login")).await;
    for lang in LANGUAGES {
        switch_language(&browser, lang).await;
        assert!(browser.try_find("a[href=\"/citizen/login/oidc\"]").await.is_some(), "a MitID button ({lang})");
        assert_no_axe_violations(&browser, &format!("login page with MitID ({lang})")).await;
    }
    switch_language(&browser, "da").await;
    click_and_wait(&browser, "a[href=\"/citizen/login/oidc\"]").await;
    assert!(browser.current_url().await.contains(&format!("127.0.0.1:{}/", provider.port)), "at the provider");
    browser.find("#username").await.send_keys(CITIZEN.username).await;
    browser.find("#password").await.send_keys(CITIZEN.password).await;
    browser.press_enter().await;
    let landed = eventually(Duration::from_secs(10), || async {
        browser.current_url().await.starts_with(&format!("{base}/citizen/letters"))
    })
    .await;
    assert!(landed, "back at the letters: {} {}", browser.current_url().await, browser.page_source().await);
    let list = browser.page_source().await;
    assert!(list.contains("Afgørelse om boligstøtte") && !list.contains("Et brev til en anden"), "{list}");
    assert_no_axe_violations(&browser, "letters after the MitID login").await;
    assert!(access_actions(&app, citizen_id, "citizen").await.contains(&"login_oidc".to_owned()));

    read_call_back_and_exempt(&browser, &app, &key, &mine_id).await;
    // the same flows as after the SMS login; the languages were checked there
    add_and_revoke_a_helper(&browser, &app, citizen_id, &["da"]).await;
    let theirs_id = theirs["id"].as_str().unwrap().to_owned();
    see_and_download_my_data(&browser, &app, &key, citizen_id, (&mine_id, &theirs_id), &["da"], "login_oidc").await;

    // still only one's own
    browser.goto(&format!("{base}/citizen/letters/{}", theirs["id"].as_str().unwrap())).await;
    assert!(!browser.page_source().await.contains("Et brev til en anden"));
    let own = access_actions(&app, citizen_id, "citizen").await;
    for action in ["login_oidc", "read_letter", "read_document", "callback_requested"] {
        assert!(own.contains(&action.to_owned()), "{action} missing from {own:?}");
    }
    drop(browser);
    app.finish().await;
}
