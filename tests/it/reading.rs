//! The citizen's reading link from Digital Post: opening it (and a document) is evidence that
//! stops escalation; the view is in the citizen's access log; forged links find nothing.

use crate::harness::*;
use budbringer::domain::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(opening_the_reading_link_is_evidence);

fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

async fn opening_the_reading_link_is_evidence(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| {
        s.policies.important.escalations[0].after = "1h".parse().unwrap();
    })
    .await;
    let (_, key) = app.authority("Horsens Kommune").await;
    let mut body = letter("0101901234");
    body["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
    let created: Value = app.post_letter(&key, &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &id, "delivered").await;

    // the link travels inside the MeMo message, as the action's entry point
    let files = outbox_files(&app.outbox(), "digital_post");
    let memo = std::fs::read_to_string(app.outbox().join("digital_post").join(&files[0])).unwrap();
    let start = memo.find("<memo:url>").expect("an entry point") + "<memo:url>".len();
    let url = memo[start..].split('<').next().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/l/", app.base)), "{url}");

    let page = app.client.get(&url).header("accept-language", "da").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"da\">") && html.contains("Afgørelse om boligstøtte"), "{html}");
    assert!(html.contains("Du får boligstøtte fra 1. januar."));
    assert!(html.contains("Svar senest 31. december 2099."));
    assert!(!html.contains("0101901234"), "no CPR number on the page");
    let href_start = html.find("/documents/").expect("a document link");
    let doc_id = html[href_start + "/documents/".len()..].split('"').next().unwrap().to_owned();

    let pdf = app.client.get(format!("{url}/documents/{doc_id}")).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.decode(pdf_base64()).unwrap();
    assert_eq!(pdf.bytes().await.unwrap().to_vec(), expected);

    let letter = app.get_json(&key, &format!("/v1/letters/{id}")).await;
    let timeline = kinds(&letter);
    assert!(
        timeline.contains(&"opened".to_owned()) && timeline.contains(&"document_opened".to_owned()),
        "{timeline:?}"
    );
    let opened_doc = letter["timeline"].as_array().unwrap().iter().find(|e| e["type"] == "document_opened").unwrap();
    assert_eq!(opened_doc["data"]["document_id"], doc_id.as_str());

    // evidence stops the ladder: hours later, nothing escalates
    clock.advance(Duration::from_secs(5 * 3600));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = kinds(&app.get_json(&key, &format!("/v1/letters/{id}")).await);
    assert!(!later.contains(&"escalated".to_owned()), "{later:?}");

    // the citizen can see the views
    let citizen_id: uuid::Uuid = letter_citizen(&app, &id).await;
    let log = app.store.access_log(citizen_id).await.unwrap();
    let citizen_reads: Vec<&str> =
        log.iter().filter(|e| e.actor_kind == "citizen").map(|e| e.action.as_str()).collect();
    assert_eq!(citizen_reads, ["read_letter", "read_document"]);

    // a forged or altered link finds nothing
    let mut forged = url.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    expect_problem(app.client.get(&forged).send().await.unwrap(), 404).await;
    expect_problem(app.client.get(format!("{}/l/nothing", app.base)).send().await.unwrap(), 404).await;
    app.finish().await;
}

async fn letter_citizen(app: &TestApp, id: &str) -> uuid::Uuid {
    app.store.letter_for_reading(id.parse().unwrap()).await.unwrap().unwrap().citizen_id
}

on_both_backends!(a_link_from_an_email_needs_a_code_sent_to_the_phone);

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

async fn a_link_from_an_email_needs_a_code_sent_to_the_phone(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Svendborg Kommune").await;
    let profile = json!({ "cpr": "0101901234", "phone": "+45 12 34 56 78", "email": "jens@example.org", "notice_channels": ["email"] });
    app.client.put(format!("{}/v1/citizens/profile", app.base)).bearer_auth(&key).json(&profile).send().await.unwrap();
    let created: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let email_delivery =
        created["deliveries"].as_array().unwrap().iter().find(|d| d["channel"] == "email").unwrap()["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    app.wait_for_status(&key, &id, "delivered").await;
    let links =
        budbringer::domain::reading::ReadingLinks { public_url: app.base.clone(), key: app.state.reading_key.clone() };
    let url = links.url(email_delivery);
    let token = url.rsplit('/').next().unwrap().to_owned();
    let eml = eventually(Duration::from_secs(10), || async { !outbox_files(&app.outbox(), "email").is_empty() }).await;
    assert!(eml, "the e-mail notice went out");
    let raw =
        std::fs::read_to_string(app.outbox().join("email").join(&outbox_files(&app.outbox(), "email")[0])).unwrap();
    assert!(raw.replace("=\r\n", "").contains(&token[..20]), "the notice carries the personal link");

    // whoever holds the link sees no content — only the way to a code
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(&url).header("accept-language", "da").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Send mig en kode") && page.contains("slutter på 78"), "{page}");
    assert!(!page.contains("boligstøtte") && !page.contains("1. januar"), "no content before the code: {page}");
    let csrf = hidden_csrf(&page);

    let forged = client.post(format!("{url}/code")).form(&[("csrf", "forged")]).send().await.unwrap();
    expect_problem(forged, 404).await;
    let sent = client
        .post(format!("{url}/code"))
        .header("accept-language", "da")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(sent.text().await.unwrap().contains("Vi har sendt en kode"));
    let texted = eventually(Duration::from_secs(10), || async { !outbox_files(&app.outbox(), "sms").is_empty() }).await;
    assert!(texted, "the code goes to the registered phone by SMS");
    let sms = std::fs::read_to_string(app.outbox().join("sms").join(&outbox_files(&app.outbox(), "sms")[0])).unwrap();
    assert!(sms.starts_with("To: +4512345678"), "{sms}");
    let code: String = sms.split(": ").nth(2).unwrap().chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{sms}");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let answer = client
        .post(format!("{url}/verify"))
        .header("accept-language", "da")
        .form(&[("csrf", csrf.as_str()), ("code", wrong)])
        .send()
        .await
        .unwrap();
    assert!(answer.text().await.unwrap().contains("Koden er forkert"));
    let answer = client
        .post(format!("{url}/verify"))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let cookie = answer.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();

    let letter_page = client.get(&url).header("cookie", &session).send().await.unwrap().text().await.unwrap();
    assert!(letter_page.contains("Afgørelse om boligstøtte"), "{letter_page}");
    let opened = app.get_json(&key, &format!("/v1/letters/{id}")).await;
    let event = opened["timeline"].as_array().unwrap().iter().find(|e| e["type"] == "opened").unwrap().clone();
    assert_eq!(event["data"]["via"], "reading_link_code");
    // a used code opens nothing again, and the link without the cookie still asks for a code
    let reused = client
        .post(format!("{url}/verify"))
        .header("accept-language", "da")
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(reused.text().await.unwrap().contains("virker ikke længere"));
    let forwarded = client.get(&url).header("accept-language", "da").send().await.unwrap().text().await.unwrap();
    assert!(!forwarded.contains("boligstøtte"));

    // codes are rate-limited: three per quarter hour
    for _ in 0..2 {
        client.post(format!("{url}/code")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    }
    let limited = client
        .post(format!("{url}/code"))
        .header("accept-language", "da")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(limited.text().await.unwrap().contains("mange koder"));
    app.finish().await;
}
