//! The citizens' pages: login without MitID (a code by SMS, a printed access code), letters
//! (evidence, access log, only one's own), reply and callback, channel choices and exemption
//! (the next letter goes to paper), helpers with consent, the data export — over HTTP with a
//! cookie-keeping client; plus the Danish texts' readability (LIX) and browser checks.

use crate::harness::*;
use budbringer::web::session::{self, Audience};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const CPR: &str = "0101901234";
const OTHER_CPR: &str = "0202902345";

fn browser_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

async fn put_profile(app: &TestApp, key: &str, profile: Value) -> Value {
    let r = app
        .client
        .put(format!("{}/v1/citizens/profile", app.base))
        .bearer_auth(key)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn send_letter(app: &TestApp, key: &str, cpr: &str, subject: &str) -> Value {
    let mut body = letter(cpr);
    body["subject"] = json!(subject);
    body["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
    let r = app.post_letter(key, &body).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// A logged-in browser for `citizen_id` (the login itself is tested on its own) and its CSRF token.
async fn logged_in(app: &TestApp, citizen_id: uuid::Uuid) -> (reqwest::Client, String) {
    let (record, cookie) = session::start(&app.state, Audience::Citizen, citizen_id, None, "sms_code").await.unwrap();
    let jar = reqwest::cookie::Jar::default();
    jar.add_cookie_str(cookie.to_str().unwrap(), &app.base.parse().unwrap());
    let client = reqwest::Client::builder().cookie_provider(Arc::new(jar)).build().unwrap();
    (client, record.csrf_token)
}

fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

async fn sms_texts(app: &TestApp) -> Vec<String> {
    outbox_files(&app.outbox(), "sms")
        .iter()
        .map(|f| std::fs::read_to_string(app.outbox().join("sms").join(f)).unwrap())
        .collect()
}

on_both_backends!(sms_code_login_then_read_reply_and_call_back);

async fn sms_code_login_then_read_reply_and_call_back(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen = put_profile(&app, &key, json!({ "cpr": CPR, "phone": "+45 12 34 56 78" })).await;
    let citizen_id: uuid::Uuid = citizen["citizen_id"].as_str().unwrap().parse().unwrap();
    let mine = send_letter(&app, &key, CPR, "Afgørelse om boligstøtte").await;
    let theirs = send_letter(&app, &key, OTHER_CPR, "Et brev til en anden").await;
    let (mine_id, theirs_id) = (mine["id"].as_str().unwrap().to_owned(), theirs["id"].as_str().unwrap().to_owned());
    app.wait_for_status(&key, &mine_id, "delivered").await;

    let browser = browser_client();
    // not logged in: the pages send you to the login
    let login = browser.get(format!("{}/citizen", app.base)).send().await.unwrap();
    assert!(login.url().path().ends_with("/citizen/login"), "{}", login.url());
    let html = login.text().await.unwrap();
    assert!(html.contains("<html lang=\"da\" dir=\"ltr\">") && html.contains("CPR-nummer"), "{html}");
    assert!(!html.contains("MitID</a>"), "no MitID button when it is not configured");
    let csrf = hidden(&html, "csrf");

    // a form from elsewhere (no double-submit token) is refused
    let forged = browser_client()
        .post(format!("{}/citizen/login/sms", app.base))
        .form(&[("csrf", "x"), ("cpr", CPR)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // a malformed number is named at its field; the number stays
    let bad = browser
        .post(format!("{}/citizen/login/sms", app.base))
        .form(&[("csrf", csrf.as_str()), ("cpr", "12")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let bad = bad.text().await.unwrap();
    assert!(
        bad.contains("aria-invalid=\"true\"") && bad.contains("href=\"#sms-cpr\"") && bad.contains("value=\"12\""),
        "{bad}"
    );

    // an unknown number gets the same answer as a known one, and no SMS
    let stranger = browser_client();
    let page = stranger.get(format!("{}/citizen/login", app.base)).send().await.unwrap().text().await.unwrap();
    let stranger_csrf = hidden(&page, "csrf");
    let unknown = stranger
        .post(format!("{}/citizen/login/sms", app.base))
        .form(&[("csrf", stranger_csrf.as_str()), ("cpr", "0303903456")])
        .send()
        .await
        .unwrap();
    assert!(unknown.url().path().ends_with("/citizen/login/code"));
    assert!(!unknown.url().as_str().contains("0303903456"), "no CPR number in a URL");
    let unknown_page = unknown.text().await.unwrap();

    let sent = browser
        .post(format!("{}/citizen/login/sms", app.base))
        .form(&[("csrf", csrf.as_str()), ("cpr", CPR)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.url().path().ends_with("/citizen/login/code"));
    // apart from each browser's own form token
    let known_page = sent.text().await.unwrap();
    let without_token = |html: &str| html.replace(&hidden(html, "csrf"), "");
    assert_eq!(without_token(&known_page), without_token(&unknown_page), "no enumeration: the same page either way");

    assert!(
        eventually(Duration::from_secs(10), || async { !sms_texts(&app).await.is_empty() }).await,
        "the code is texted"
    );
    let texts = sms_texts(&app).await;
    assert_eq!(texts.len(), 1, "only the known citizen got a text: {texts:?}");
    assert!(texts[0].starts_with("To: +4512345678"), "{}", texts[0]);
    let code: String = texts[0].split("kode er ").nth(1).unwrap().chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{}", texts[0]);

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = browser
        .post(format!("{}/citizen/login/code", app.base))
        .form(&[("csrf", csrf.as_str()), ("code", wrong)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let accepted = browser
        .post(format!("{}/citizen/login/code", app.base))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert!(accepted.url().path().ends_with("/citizen/letters"), "{}", accepted.url());
    let list = accepted.text().await.unwrap();
    assert!(list.contains("Afgørelse om boligstøtte") && list.contains("class=\"unread\""), "{list}");
    assert!(!list.contains("Et brev til en anden"), "only one's own letters");
    // a used code does not work twice
    let used = browser_client()
        .post(format!("{}/citizen/login/code", app.base))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), 403, "another browser has neither the form token nor the pending login");

    // reading is evidence, in the authority's timeline, and in the access log
    let page = browser.get(format!("{}/citizen/letters/{mine_id}", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    assert!(page.contains("Svar senest 31. december 2099.") && page.contains("Det skal du gøre"), "{page}");
    assert!(!page.contains(CPR));
    let doc_at = page.find("/documents/").unwrap() + "/documents/".len();
    let doc_id = page[doc_at..].split('"').next().unwrap().to_owned();
    let pdf = browser.get(format!("{}/citizen/letters/{mine_id}/documents/{doc_id}", app.base)).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let letter = app.get_json(&key, &format!("/v1/letters/{mine_id}")).await;
    let timeline = kinds(&letter);
    assert!(timeline.contains(&"opened".into()) && timeline.contains(&"document_opened".into()), "{timeline:?}");
    let list = browser.get(format!("{}/citizen/letters", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!list.contains("class=\"unread\""), "read letters are no longer marked: {list}");

    // another citizen's letter, and its documents, are not found — like a missing one
    for path in [
        format!("/citizen/letters/{theirs_id}"),
        format!("/citizen/letters/{theirs_id}/documents/{doc_id}"),
        format!("/citizen/letters/{}", uuid::Uuid::now_v7()),
        "/citizen/letters/not-an-id".to_owned(),
    ] {
        let r = browser.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let their_reply = browser
        .post(format!("{}/citizen/letters/{theirs_id}/reply", app.base))
        .form(&[("csrf", hidden(&page, "csrf").as_str()), ("reply", "hej")])
        .send()
        .await
        .unwrap();
    assert_eq!(their_reply.status(), 404);

    // a reply goes on the timeline, "call me" opens a callback task
    let session_csrf = hidden(&page, "csrf");
    let empty = browser
        .post(format!("{}/citizen/letters/{mine_id}/reply", app.base))
        .form(&[("csrf", session_csrf.as_str()), ("reply", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 422);
    let no_csrf = browser
        .post(format!("{}/citizen/letters/{mine_id}/reply", app.base))
        .form(&[("reply", "Tak")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let replied = browser
        .post(format!("{}/citizen/letters/{mine_id}/reply", app.base))
        .form(&[("csrf", session_csrf.as_str()), ("reply", "Jeg er på ferie til 1. december.")])
        .send()
        .await
        .unwrap();
    assert!(replied.text().await.unwrap().contains("Vi har sendt dit svar"));
    let called = browser
        .post(format!("{}/citizen/letters/{mine_id}/callback", app.base))
        .form(&[("csrf", session_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(called.text().await.unwrap().contains("Vi ringer til dig"));
    let letter = app.get_json(&key, &format!("/v1/letters/{mine_id}")).await;
    let reply =
        letter["timeline"].as_array().unwrap().iter().find(|e| e["type"] == "reply_received").expect("a reply event");
    assert_eq!(reply["data"]["text"], "Jeg er på ferie til 1. december.");
    assert_eq!(reply["data"]["via"], "web");
    assert!(kinds(&letter).contains(&"callback_requested".into()));
    let callbacks = app.get_json(&key, "/v1/callbacks").await;
    let tasks = callbacks["callbacks"].as_array().or(callbacks.as_array()).cloned().unwrap_or_default();
    assert!(tasks.iter().any(|t| t["letter_id"] == mine_id.as_str()), "{callbacks}");

    // every step is in the citizen's access log
    let log: Vec<String> = app
        .store
        .access_log(citizen_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor_kind == "citizen")
        .map(|e| e.action)
        .collect();
    for action in [
        "login_code_sent",
        "login_code_wrong",
        "login_code_accepted",
        "read_letter",
        "read_document",
        "reply_sent",
        "callback_requested",
    ] {
        assert!(log.contains(&action.to_owned()), "{action} missing from {log:?}");
    }

    // logout takes the session's token; afterwards the pages want a login again
    let refused = browser.post(format!("{}/citizen/logout", app.base)).form(&[("csrf", "wrong")]).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let out = browser
        .post(format!("{}/citizen/logout", app.base))
        .form(&[("csrf", session_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(out.text().await.unwrap().contains("Du er logget ud"));
    let after = browser.get(format!("{}/citizen/letters", app.base)).send().await.unwrap();
    assert!(after.url().path().ends_with("/citizen/login"));
    app.finish().await;
}

on_both_backends!(codes_are_rate_limited_per_number);

async fn codes_are_rate_limited_per_number(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    put_profile(&app, &key, json!({ "cpr": CPR, "phone": "+45 12 34 56 78" })).await;
    let browser = browser_client();
    let page = browser.get(format!("{}/citizen/login", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    for cpr in [CPR, "0303903456"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let r = browser
                .post(format!("{}/citizen/login/sms", app.base))
                .form(&[("csrf", csrf.as_str()), ("cpr", cpr)])
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
        // known or not, the fourth request in a quarter hour is refused the same way
        assert_eq!(statuses, [200, 200, 200, 429], "{cpr}");
    }
    app.finish().await;
}

on_both_backends!(the_printed_access_code_logs_in);

async fn the_printed_access_code_logs_in(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen = put_profile(&app, &key, json!({ "cpr": CPR, "exempt_from_digital_post": true })).await;
    let citizen_id: uuid::Uuid = citizen["citizen_id"].as_str().unwrap().parse().unwrap();
    let code = budbringer::channels::print::access_code::code(&app.state.reading_key, CPR, app.state.clock.now_ms());
    let browser = browser_client();
    let page = browser.get(format!("{}/citizen/login", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let wrong = browser
        .post(format!("{}/citizen/login/access-code", app.base))
        .form(&[("csrf", csrf.as_str()), ("cpr", OTHER_CPR), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422, "the code belongs to one citizen only");
    let typed = code.to_lowercase().replace('-', " ");
    let ok = browser
        .post(format!("{}/citizen/login/access-code", app.base))
        .form(&[("csrf", csrf.as_str()), ("cpr", CPR), ("code", typed.as_str())])
        .send()
        .await
        .unwrap();
    assert!(ok.url().path().ends_with("/citizen/letters"), "{}", ok.url());
    let log: Vec<String> = app.store.access_log(citizen_id).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(log.contains(&"login_access_code".to_owned()), "{log:?}");
    // guessing is limited per CPR number
    let guesser = browser_client();
    let page = guesser.get(format!("{}/citizen/login", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let mut last = 0;
    for _ in 0..6 {
        last = guesser
            .post(format!("{}/citizen/login/access-code", app.base))
            .form(&[("csrf", csrf.as_str()), ("cpr", CPR), ("code", "AAAA-BBBB-CCCC-DDDD")])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
    app.finish().await;
}

on_both_backends!(exemption_in_one_step_sends_the_next_letter_on_paper);

async fn exemption_in_one_step_sends_the_next_letter_on_paper(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen = put_profile(&app, &key, json!({ "cpr": CPR, "phone": "+45 12 34 56 78" })).await;
    let citizen_id: uuid::Uuid = citizen["citizen_id"].as_str().unwrap().parse().unwrap();
    let first = send_letter(&app, &key, CPR, "Før").await;
    assert_eq!(first["deliveries"][0]["channel"], "digital_post");

    let (browser, csrf) = logged_in(&app, citizen_id).await;
    let page = browser.get(format!("{}/citizen/contact", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Gør mig fri for Digital Post"), "{page}");
    let done = browser
        .post(format!("{}/citizen/contact/exemption", app.base))
        .form(&[("csrf", csrf.as_str()), ("exempt", "1")])
        .send()
        .await
        .unwrap();
    let done = done.text().await.unwrap();
    assert!(done.contains("Du er nu fri for Digital Post") && done.contains("Giv mig Digital Post igen"), "{done}");

    // effective at once, for every authority, through the real API
    let (_, other_key) = app.authority("Region Syddanmark").await;
    let next = send_letter(&app, &other_key, CPR, "Efter").await;
    assert_eq!(next["deliveries"][0]["channel"], "print", "{next}");
    let profile = app.get_json(&key, &format!("/v1/citizens/{citizen_id}/profile")).await;
    assert_eq!(profile["exempt_from_digital_post"], true);
    assert_eq!(profile["phone"], "+45 12 34 56 78", "nothing else changed");
    let changes = app.store.profile_changes(citizen_id).await.unwrap();
    assert_eq!(changes[0].actor_kind, "citizen");
    assert_eq!(changes[0].fields, "exempt_from_digital_post");
    // the authority's registration over the API is shown as made by it
    assert!(changes.iter().any(|c| c.actor_kind == "authority" && c.actor_name == "Vejle Kommune"), "{changes:?}");

    // and revocable
    browser
        .post(format!("{}/citizen/contact/exemption", app.base))
        .form(&[("csrf", csrf.as_str()), ("exempt", "0")])
        .send()
        .await
        .unwrap();
    let back = send_letter(&app, &key, CPR, "Igen digital").await;
    assert_eq!(back["deliveries"][0]["channel"], "digital_post");
    app.finish().await;
}

on_both_backends!(contact_choices_are_validated_on_the_server);

async fn contact_choices_are_validated_on_the_server(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen = put_profile(&app, &key, json!({ "cpr": CPR })).await;
    let citizen_id: uuid::Uuid = citizen["citizen_id"].as_str().unwrap().parse().unwrap();
    let (browser, csrf) = logged_in(&app, citizen_id).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("letter_channel", "print"),
        ("notice_sms", "on"),
        ("notice_email", "on"),
        ("phone", "12"),
        ("email", ""),
        ("large_print", "on"),
        ("language", "uk"),
    ];
    let r = browser.post(format!("{}/citizen/contact", app.base)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("class=\"error-summary\"")
            && html.contains("href=\"#phone\"")
            && html.contains("href=\"#email\""),
        "{html}"
    );
    assert!(html.contains("id=\"phone\" name=\"phone\" value=\"12\" autocomplete=\"tel\" aria-describedby=\"phone-hint phone-error\" aria-invalid=\"true\""), "{html}");
    assert!(html.contains("id=\"phone-error\""));
    assert!(
        html.contains("value=\"print\" checked") && html.contains("id=\"large_print\" name=\"large_print\" checked"),
        "values are kept"
    );
    assert!(
        app.store.profile_changes(citizen_id).await.unwrap().iter().all(|c| c.actor_kind != "citizen"),
        "nothing saved"
    );

    let form = [
        ("csrf", csrf.as_str()),
        ("letter_channel", "print"),
        ("notice_sms", "on"),
        ("phone", "+45 87 65 43 21"),
        ("email", ""),
        ("easy_read", "on"),
        ("language", "uk"),
    ];
    let saved = browser.post(format!("{}/citizen/contact", app.base)).form(&form).send().await.unwrap();
    let html = saved.text().await.unwrap();
    // the page now speaks the chosen language
    assert!(html.contains("<html lang=\"uk\" dir=\"ltr\">") && html.contains("Дякуємо"), "{html}");
    let profile = app.state.store.stored_profile(citizen_id).await.unwrap().unwrap();
    assert_eq!(profile.profile.preferred_channel, Some(budbringer::domain::ChannelKind::Print));
    assert_eq!(profile.profile.phone.as_deref(), Some("+45 87 65 43 21"));
    assert!(profile.profile.easy_read && profile.updated_by.is_none());
    let change = &app.store.profile_changes(citizen_id).await.unwrap()[0];
    assert_eq!(change.actor_kind, "citizen");
    assert_eq!(change.fields, "preferred_channel,notice_channels,phone,easy_read,language");
    app.finish().await;
}

on_both_backends!(helpers_with_consent_and_revocation);

async fn helpers_with_consent_and_revocation(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen = put_profile(&app, &key, json!({ "cpr": CPR })).await;
    let citizen_id: uuid::Uuid = citizen["citizen_id"].as_str().unwrap().parse().unwrap();
    let (browser, csrf) = logged_in(&app, citizen_id).await;
    let base =
        [("csrf", csrf.as_str()), ("name", "Mette Hansen"), ("phone", "+45 22 33 44 55"), ("receives", "notice")];
    let no_consent = browser.post(format!("{}/citizen/helpers", app.base)).form(&base).send().await.unwrap();
    assert_eq!(no_consent.status(), 422);
    let html = no_consent.text().await.unwrap();
    assert!(html.contains("href=\"#consent\"") && html.contains("value=\"Mette Hansen\""), "{html}");
    let copy_without_address = [("csrf", csrf.as_str()), ("name", "Ole"), ("receives", "copy"), ("consent", "on")];
    let r = browser.post(format!("{}/citizen/helpers", app.base)).form(&copy_without_address).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Skriv hjælperens adresse"));

    let mut with_consent = base.to_vec();
    with_consent.push(("consent", "on"));
    let added = browser.post(format!("{}/citizen/helpers", app.base)).form(&with_consent).send().await.unwrap();
    assert!(added.text().await.unwrap().contains("Vi har tilføjet din hjælper"));
    let profile = app.store.stored_profile(citizen_id).await.unwrap().unwrap().profile;
    assert_eq!(profile.helpers.len(), 1);
    let helper = &profile.helpers[0];
    assert_eq!(helper.receives, budbringer::domain::routing::HelperScope::Notice);
    // a helper never gets more than granted: a notice helper gets no paper copy, even with an address
    let with_address = budbringer::domain::routing::Helper {
        address: Some(budbringer::domain::letter::PostalAddress {
            co: None,
            street: "Vestergade".into(),
            house_number: "1".into(),
            floor: None,
            door: None,
            postcode: "8000".into(),
            town: "Aarhus C".into(),
            country: None,
        }),
        ..helper.clone()
    };
    assert_eq!(budbringer::domain::routing::helper_channel(&with_address), Some(budbringer::domain::ChannelKind::Sms));
    let changes = app.store.profile_changes(citizen_id).await.unwrap();
    assert_eq!(changes[0].fields, "helper_added:notice:consent", "the consent is recorded, with its time");

    let page = browser.get(format!("{}/citizen/helpers", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Fjern Mette Hansen"));
    let stale = browser
        .post(format!("{}/citizen/helpers/0/revoke", app.base))
        .form(&[("csrf", csrf.as_str()), ("name", "Someone else")])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    let revoked = browser
        .post(format!("{}/citizen/helpers/0/revoke", app.base))
        .form(&[("csrf", csrf.as_str()), ("name", "Mette Hansen")])
        .send()
        .await
        .unwrap();
    assert!(revoked.text().await.unwrap().contains("Din hjælper er fjernet"));
    assert!(app.store.stored_profile(citizen_id).await.unwrap().unwrap().profile.helpers.is_empty());
    assert_eq!(app.store.profile_changes(citizen_id).await.unwrap()[0].fields, "helper_revoked");
    app.finish().await;
}

on_both_backends!(the_data_export_is_complete_own_and_logged);

async fn the_data_export_is_complete_own_and_logged(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen =
        put_profile(&app, &key, json!({ "cpr": CPR, "email": "jens@example.org", "notice_channels": ["email"] })).await;
    let citizen_id: uuid::Uuid = citizen["citizen_id"].as_str().unwrap().parse().unwrap();
    let mine = send_letter(&app, &key, CPR, "Mit brev").await;
    send_letter(&app, &key, OTHER_CPR, "Ikke mit brev").await;
    app.get_json(&key, &format!("/v1/citizens/{citizen_id}/profile")).await;
    let (browser, _) = logged_in(&app, citizen_id).await;

    let page = browser.get(format!("{}/citizen/data", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Mit brev") && !page.contains("Ikke mit brev"), "{page}");
    assert!(page.contains("Vejle Kommune (myndighed)") && page.contains("jens@example.org"), "who read what: {page}");

    let export = browser.get(format!("{}/citizen/data.json", app.base)).send().await.unwrap();
    assert_eq!(export.headers()["content-type"], "application/json");
    let export: Value = export.json().await.unwrap();
    let letters = export["letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["id"], mine["id"]);
    let channels: Vec<&str> =
        export["contact_attempts"].as_array().unwrap().iter().map(|d| d["channel"].as_str().unwrap()).collect();
    assert!(channels.contains(&"digital_post") && channels.contains(&"email"), "{channels:?}");
    let actions: Vec<&str> =
        export["access_log"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"read_profile") && actions.contains(&"read_data") && actions.contains(&"download_data_json"),
        "{actions:?}"
    );
    assert_eq!(export["profile"]["contact"]["email"], "jens@example.org");
    assert!(!export.to_string().contains(CPR), "no CPR number in the export");

    let pdf = browser.get(format!("{}/citizen/data.pdf", app.base)).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    let log: Vec<String> = app.store.access_log(citizen_id).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(log.contains(&"download_data_pdf".to_owned()));
    app.finish().await;
}

#[tokio::test]
async fn every_page_in_every_language_with_arabic_right_to_left() {
    let app = TestApp::start(&Backend::Sqlite).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let citizen = put_profile(&app, &key, json!({ "cpr": CPR })).await;
    let citizen_id: uuid::Uuid = citizen["citizen_id"].as_str().unwrap().parse().unwrap();
    let letter = send_letter(&app, &key, CPR, "Brev").await;
    let (browser, _) = logged_in(&app, citizen_id).await;
    let pages = [
        "/citizen/letters".to_owned(),
        format!("/citizen/letters/{}", letter["id"].as_str().unwrap()),
        "/citizen/contact".into(),
        "/citizen/helpers".into(),
        "/citizen/data".into(),
    ];
    for lang in ["da", "en", "sv", "ar", "uk"] {
        for path in pages.iter().cloned().chain(["/citizen/login".to_owned()]) {
            let client = if path == "/citizen/login" { browser_client() } else { browser.clone() };
            let r = client
                .get(format!("{}{path}", app.base))
                .header("cookie", format!("bb_lang={lang}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path} {lang}");
            let html = r.text().await.unwrap();
            let dir = if lang == "ar" { "rtl" } else { "ltr" };
            assert!(html.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")), "{path} {lang}");
            assert!(
                !html.contains(">citizen-") && !html.contains("\"citizen-"),
                "an untranslated id on {path} in {lang}"
            );
        }
    }
    app.finish().await;
}

/// The Danish texts citizens read (`citizen.ftl`, `web.ftl`) are easy to read: LIX below 40.
#[test]
fn danish_citizen_texts_have_a_lix_below_40() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut values = Vec::new();
    for file in ["locales/da/citizen.ftl", "locales/da/web.ftl"] {
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        for line in text.lines() {
            if line.starts_with('#') || !line.contains(" = ") {
                continue;
            }
            let (id, value) = line.split_once(" = ").unwrap();
            // the caseworker's callback summary is not read by citizens
            if id == "citizen-callback-summary" || id.starts_with("web-site-staff") {
                continue;
            }
            values.push(value.to_owned());
        }
    }
    let (mut words, mut long, mut sentences) = (0usize, 0usize, 0usize);
    for value in &values {
        // placeables ({ $date }) are not words the reader has to read
        let mut plain = String::new();
        let mut depth = 0;
        for c in value.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ if depth == 0 => plain.push(c),
                _ => {}
            }
        }
        let these: Vec<&str> = plain.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).collect();
        if these.is_empty() {
            continue;
        }
        words += these.len();
        long += these.iter().filter(|w| w.chars().count() > 6).count();
        // a label or a heading is a sentence of its own
        sentences += plain.matches(['.', '!', '?', ':']).count().max(1);
    }
    let lix = words as f64 / sentences as f64 + 100.0 * long as f64 / words as f64;
    assert!(lix < 40.0, "LIX {lix:.1} ({words} words, {sentences} sentences, {long} long words)");
    eprintln!("LIX of the Danish citizen texts: {lix:.1}");
}

/// In headless Chromium: axe-core finds nothing on any citizen page in any language, nothing
/// overflows at 320 px, and the exemption works with the keyboard alone (Tab and Enter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_every_page_is_accessible_and_exemption_works_by_keyboard() {
    use crate::browser::{Browser, assert_no_axe_violations, keys};
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::start(&Backend::Sqlite).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    put_profile(&app, &key, json!({ "cpr": CPR, "phone": "+45 12 34 56 78" })).await;
    let letter = send_letter(&app, &key, CPR, "Afgørelse om boligstøtte").await;
    let letter_id = letter["id"].as_str().unwrap().to_owned();
    let base = app.base.clone();

    // before login: the login page in every language
    browser.goto(&format!("{base}/citizen/login")).await;
    for lang in ["da", "en", "sv", "ar", "uk"] {
        browser.find(&format!("form.language button[value=\"{lang}\"]")).await.click().await;
        assert_no_axe_violations(&browser, &format!("login page ({lang})")).await;
    }
    browser.find("form.language button[value=\"da\"]").await.click().await;

    // log in with the printed access code, typing like a person
    let code = budbringer::channels::print::access_code::code(&app.state.reading_key, CPR, app.state.clock.now_ms());
    browser.find("#access-cpr").await.send_keys(CPR).await;
    browser.find("#access-code").await.send_keys(&code).await;
    browser.press_enter().await;
    assert!(browser.current_url().await.ends_with("/citizen/letters"), "{}", browser.current_url().await);

    let pages = [
        "/citizen/letters".to_owned(),
        format!("/citizen/letters/{letter_id}"),
        "/citizen/contact".to_owned(),
        "/citizen/helpers".to_owned(),
        "/citizen/data".to_owned(),
    ];
    for lang in ["da", "en", "sv", "ar", "uk"] {
        browser.goto(&format!("{base}/citizen/letters")).await;
        browser.find(&format!("form.language button[value=\"{lang}\"]")).await.click().await;
        for path in &pages {
            browser.goto(&format!("{base}{path}")).await;
            assert_no_axe_violations(&browser, &format!("{path} ({lang})")).await;
        }
    }
    // a form with errors is accessible too
    browser.goto(&format!("{base}/citizen/helpers")).await;
    browser.find("#name").await.send_keys("Mette").await;
    browser.find("form[action=\"/citizen/helpers\"] button[type=\"submit\"]").await.click().await;
    assert!(browser.try_find(".error-summary").await.is_some());
    assert_no_axe_violations(&browser, "helpers form with errors").await;

    // 320 px wide (and so 200 % zoom of 640 px): nothing scrolls sideways
    browser.find("form.language button[value=\"da\"]").await.click().await;
    browser.set_window_size(320, 800).await;
    for path in &pages {
        browser.goto(&format!("{base}{path}")).await;
        let width = browser.execute("return document.documentElement.scrollWidth", vec![]).await;
        assert!(width.as_u64().unwrap_or(u64::MAX) <= 320, "{path} is {width} px wide at 320 px");
    }
    browser.set_window_size(1024, 800).await;

    // keyboard only: Tab to the exemption button, press Enter
    browser.goto(&format!("{base}/citizen/contact")).await;
    let mut found = false;
    for _ in 0..40 {
        browser.press(keys::TAB).await;
        if browser.active_element().await.text().await.contains("Gør mig fri for Digital Post") {
            found = true;
            break;
        }
    }
    assert!(found, "the exemption button is reachable with Tab");
    // press_enter waits for the answer page; a bare key press would race its load
    browser.press_enter().await;
    assert!(browser.page_source().await.contains("Du er nu fri for Digital Post"));
    let next = send_letter(&app, &key, CPR, "Næste brev").await;
    assert_eq!(next["deliveries"][0]["channel"], "print");
    drop(browser);
    app.finish().await;
}
