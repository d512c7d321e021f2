//! The caseworkers' pages in headless Chromium, end to end: a caseworker types into the login
//! form, sees the alert for an unopened important letter, claims the callback task that follows
//! and logs "reached, 6 minutes" through the form — the ladder stops, the alert closes, the
//! authority gets its webhook and the report counts the minutes; a caseworker of another
//! authority sees none of it. axe-core finds nothing on any staff page in Danish or English,
//! and the main pages reflow at 320 px.

use std::sync::Arc;
use std::time::Duration;

use budbringer::domain::ManualClock;
use budbringer::store::staff_pages::ReportQuery;
use serde_json::{Value, json};

use crate::browser::{Browser, assert_no_axe_violations};
use crate::harness::*;
use crate::web_staff::{PASSWORD, caseworker, kinds, wait_until, webhook_receiver};

const LANGUAGES: &[&str] = budbringer::i18n::LANGUAGES;

/// Type the username and password into the real login form and submit it with Enter.
async fn log_in(browser: &Browser, base: &str, username: &str, password: &str) {
    browser.goto(&format!("{base}/staff/login")).await;
    browser.find("#username").await.send_keys(username).await;
    browser.find("#password").await.send_keys(password).await;
    browser.press_enter().await;
}

/// Switch the page language with the switch on the current page; the page comes back in it.
async fn switch_language(browser: &Browser, lang: &str) {
    browser.find(&format!("form.language button[value=\"{lang}\"]")).await.click().await;
    // the click returns when the form is submitted; the new page may still be on its way
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let shown = browser.execute("return document.documentElement.lang;", vec![]).await;
        if shown == json!(lang) || std::time::Instant::now() > deadline {
            assert_eq!(shown, json!(lang), "the language switch works");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The text of the `<dd>` after the `<dt>` whose text is `label` (a fact list).
async fn fact(browser: &Browser, label: &str) -> Option<String> {
    let script = "const dt = [...document.querySelectorAll('dt')].find(d => d.textContent.trim() === arguments[0]);\
                  return dt && dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : null;";
    browser.execute(script, vec![json!(label)]).await.as_str().map(str::to_owned)
}

async fn h1(browser: &Browser) -> String {
    browser.find("h1").await.text().await
}

async fn no_horizontal_scroll(browser: &Browser) -> bool {
    let fits = browser.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await;
    fits == Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_caseworker_follows_up_an_unopened_letter_by_phone() {
    let Some(browser) = Browser::start().await else { return };
    // Wednesday 2026-11-25 10:00 in Copenhagen: office hours
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&Backend::Sqlite, clock.clone(), |s| {
        s.policies.important = fast_ladder();
        s.web.session_idle_minutes = 24 * 60;
    })
    .await;
    let base = app.base.clone();
    let (authority, key) = app.authority("Vejle Kommune").await;
    let (other_authority, _) = app.authority("Horsens Kommune").await;
    caseworker(&app, authority, "anna", "Anna Andersen").await;
    caseworker(&app, other_authority, "otto", "Otto Olsen").await;
    let (hook, calls) = webhook_receiver().await;
    let created = app.client.post(format!("{base}/v1/webhooks")).bearer_auth(&key).json(&json!({ "url": hook }));
    assert_eq!(created.send().await.unwrap().status(), 201);

    let profile = json!({
        "cpr": "0101901234", "name": "Jens Jensen", "phone": "+45 12 34 56 78", "needs": { "large_print": true },
        "address": { "street": "Vestergade", "house_number": "1", "postcode": "7100", "town": "Vejle" }
    });
    let put = app.client.put(format!("{base}/v1/citizens/profile")).bearer_auth(&key).json(&profile);
    let citizen_id =
        put.send().await.unwrap().json::<Value>().await.unwrap()["citizen_id"].as_str().unwrap().to_owned();
    let mut body = letter("0101901234");
    body["respond_by"] = json!("2026-11-30");
    let created: Value = app.post_letter(&key, &body).await.json().await.unwrap();
    let letter_id = created["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &letter_id, "delivered").await;

    // an hour without evidence: SMS and paper, and an "unopened" alert
    clock.advance(Duration::from_secs(3601));
    wait_until("the unopened alert", || async {
        !app.get_json(&key, "/v1/alerts").await.as_array().unwrap().is_empty()
    })
    .await;
    let alert_id = app.get_json(&key, "/v1/alerts").await[0]["id"].as_str().unwrap().to_owned();

    // the login page, and a failed login, in every language
    browser.goto(&format!("{base}/staff/login")).await;
    for lang in LANGUAGES {
        switch_language(&browser, lang).await;
        assert_no_axe_violations(&browser, &format!("login ({lang})")).await;
    }
    log_in(&browser, &base, "anna", "not the password").await;
    assert!(browser.try_find(".error-summary").await.is_some(), "a failed login says so");
    for lang in LANGUAGES {
        switch_language(&browser, lang).await;
        assert_no_axe_violations(&browser, &format!("failed login ({lang})")).await;
    }

    // Anna logs in, in Danish, and sees the alert
    log_in(&browser, &base, "anna", PASSWORD).await;
    assert_eq!(browser.current_url().await, format!("{base}/staff/alerts"));
    switch_language(&browser, "da").await;
    let count = browser.find("main p[role=\"status\"]").await.text().await;
    assert_eq!(count, "Åbne advarsler: 1. Den nærmeste frist står først.");
    let card = browser.find(&format!("#alert-{alert_id}")).await;
    assert_eq!(card.text().await, "Ikke åbnet: Afgørelse om boligstøtte");
    assert_eq!(fact(&browser, "Frist").await.as_deref(), Some("9. december 2026"), "the extended deadline");

    // another hour: the phone rung opens a callback task
    clock.advance(Duration::from_secs(3601));
    wait_until("the callback task", || async {
        !app.get_json(&key, "/v1/callbacks").await.as_array().unwrap().is_empty()
    })
    .await;
    let task_id = app.get_json(&key, "/v1/callbacks").await[0]["id"].as_str().unwrap().to_owned();

    // every page, in every language (Arabic right to left), while there is something on it
    let pages = [
        "/staff/alerts".to_owned(),
        "/staff/callbacks".to_owned(),
        format!("/staff/callbacks/{task_id}"),
        format!("/staff/letters/{letter_id}"),
        "/staff/citizens".to_owned(),
        format!("/staff/citizens/{citizen_id}"),
        "/staff/report?from=2026-11-01&to=2026-11-30".to_owned(),
    ];
    for lang in LANGUAGES {
        browser.goto(&format!("{base}/staff/alerts")).await;
        switch_language(&browser, lang).await;
        for path in &pages {
            browser.goto(&format!("{base}{path}")).await;
            assert_no_axe_violations(&browser, &format!("{path} ({lang})")).await;
        }
        // an error page
        browser.goto(&format!("{base}/staff/letters/00000000-0000-0000-0000-000000000000")).await;
        assert_eq!(h1(&browser).await, budbringer::i18n::t(lang, "web-error-title", &[]));
        assert_no_axe_violations(&browser, &format!("error page ({lang})")).await;
        // forms with validation errors: a CPR number that is not one, a helper without consent
        browser.goto(&format!("{base}/staff/citizens")).await;
        browser.find("#cpr").await.send_keys("12345").await;
        browser.press_enter().await;
        assert!(browser.try_find(".error-summary").await.is_some(), "the lookup explains the error");
        assert_eq!(browser.find("#cpr").await.attr("aria-invalid").await.as_deref(), Some("true"));
        assert_no_axe_violations(&browser, &format!("citizen lookup with errors ({lang})")).await;
        browser.goto(&format!("{base}/staff/citizens/{citizen_id}")).await;
        browser.find("#helper_name").await.send_keys("Mette Hansen").await;
        browser
            .find(&format!("form[action=\"/staff/citizens/{citizen_id}/profile\"] .actions button"))
            .await
            .click()
            .await;
        assert!(browser.try_find(".error-summary").await.is_some(), "the profile form explains the error");
        assert_no_axe_violations(&browser, &format!("citizen profile with errors ({lang})")).await;
    }

    // 320 px wide (and so 400 % zoom of 1280 px): nothing scrolls sideways
    browser.set_window_size(320, 800).await;
    for path in pages.iter().map(String::as_str).chain(["/staff/login"]) {
        browser.goto(&format!("{base}{path}")).await;
        assert!(no_horizontal_scroll(&browser).await, "{path} scrolls sideways at 320 px");
    }
    browser.set_window_size(1280, 900).await;

    // Danish from here: the queue, the task, claim it, log "reached, 6 minutes"
    browser.goto(&format!("{base}/staff/callbacks")).await;
    switch_language(&browser, "da").await;
    browser.find(&format!("a[href=\"/staff/callbacks/{task_id}\"]")).await.click().await;
    assert_eq!(browser.current_url().await, format!("{base}/staff/callbacks/{task_id}"));
    assert!(browser.find("main").await.text().await.contains("Stor skrift"), "the citizen's needs are shown");
    browser.find(&format!("form[action=\"/staff/callbacks/{task_id}/claim\"] button")).await.click().await;
    assert_eq!(browser.current_url().await, format!("{base}/staff/callbacks/{task_id}?msg=claimed"));
    assert_eq!(fact(&browser, "Taget af").await.as_deref(), Some("Dig"));
    assert!(browser.try_find(&format!("form[action=\"/staff/callbacks/{task_id}/claim\"]")).await.is_none());
    browser.find("#outcome-reached").await.click().await;
    browser.find("#minutes").await.send_keys("6").await;
    browser.find(&format!("form[action=\"/staff/callbacks/{task_id}/outcome\"] .actions button")).await.click().await;
    assert_eq!(browser.current_url().await, format!("{base}/staff/callbacks?msg=logged"));
    assert_eq!(browser.find("main p[role=\"status\"]").await.text().await, "Opkaldet er registreret.");
    assert!(browser.try_find(&format!("a[href=\"/staff/callbacks/{task_id}\"]")).await.is_none(), "off the queue");
    assert_no_axe_violations(&browser, "callback queue after logging a call").await;

    // the alert closed itself
    assert!(app.get_json(&key, "/v1/alerts").await.as_array().unwrap().is_empty());
    browser.goto(&format!("{base}/staff/alerts")).await;
    assert!(browser.try_find(&format!("#alert-{alert_id}")).await.is_none(), "the alert is gone from the list");
    assert_no_axe_violations(&browser, "alert list, empty").await;

    // the ladder has stopped: no "unreachable" step two hours later
    clock.advance(Duration::from_secs(2 * 3600));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let letter = app.get_json(&key, &format!("/v1/letters/{letter_id}")).await;
    let kinds = kinds(&letter);
    assert_eq!(kinds.iter().filter(|k| *k == "escalated").count(), 2, "{kinds:?}");
    assert!(kinds.contains(&"reacted".to_owned()), "{kinds:?}");
    assert!(!app.get_json(&key, "/v1/alerts").await.as_array().unwrap().iter().any(|a| a["kind"] == "unreachable"));

    // the authority heard of it by webhook
    wait_until("the webhook", || async {
        let calls = calls.lock().unwrap();
        calls.iter().any(|c| c["type"] == "letter.reacted" && c["data"]["letter_id"] == json!(letter_id))
            && calls.iter().any(|c| c["type"] == "letter.call_logged")
    })
    .await;

    // the letter's story says so
    browser.goto(&format!("{base}/staff/letters/{letter_id}")).await;
    let story = browser.find("ol.timeline").await.text().await;
    assert!(story.contains("Fik fat i borgeren, 6 minutter"), "{story}");

    // the report counts the 6 minutes
    browser.goto(&format!("{base}/staff/report?from=2026-11-01&to=2026-11-30")).await;
    assert_eq!(fact(&browser, "Sagsbehandlerminutter").await.as_deref(), Some("6"));
    assert_eq!(fact(&browser, "Breve").await.as_deref(), Some("1"));
    let month = ReportQuery {
        // November 2026 in Copenhagen
        from_ms: "2026-10-31T23:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond(),
        to_ms: "2026-11-30T23:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond(),
        unit: None,
    };
    let counts = app.store.inclusion_report(authority, &month).await.unwrap();
    assert_eq!((counts.callbacks.minutes, counts.callbacks.reached), (6, 1));

    // a caseworker of another authority sees none of it
    browser.find("form.logout button").await.click().await;
    assert_eq!(browser.current_url().await, format!("{base}/staff/login"));
    log_in(&browser, &base, "otto", PASSWORD).await;
    assert_eq!(browser.current_url().await, format!("{base}/staff/alerts"));
    assert!(browser.try_find(&format!("#alert-{alert_id}")).await.is_none());
    assert!(!browser.find("main").await.text().await.contains("boligstøtte"));
    browser.goto(&format!("{base}/staff/callbacks")).await;
    assert!(!browser.page_source().await.contains(&task_id));
    for path in [
        format!("/staff/letters/{letter_id}"),
        format!("/staff/citizens/{citizen_id}"),
        format!("/staff/callbacks/{task_id}"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        assert_eq!(h1(&browser).await, "Noget gik galt", "{path}");
        assert!(!browser.page_source().await.contains("Jens Jensen"), "{path}");
    }
    browser.goto(&format!("{base}/staff/report?from=2026-11-01&to=2026-11-30")).await;
    assert_eq!(fact(&browser, "Sagsbehandlerminutter").await.as_deref(), Some("0"));
    assert_eq!(fact(&browser, "Breve").await.as_deref(), Some("0"));
    app.finish().await;
}
